"""Files that may hold secrets are private whatever the umask (Ansible modules and some CI runners run
with umask 000: before this, run records came out 0777/0666 with rendered configurations inside)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from campusnet.private import private_dir, write_private


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_private_dir_and_file_under_umask_000(tmp_path: Path, umask_000: None) -> None:
    d = private_dir(tmp_path / "a" / "b")
    assert _mode(tmp_path / "a") == 0o700 and _mode(d) == 0o700
    f = write_private(d / "x.cfg", "snmp-agent community read s3cret\n")
    assert _mode(f) == 0o600
    assert f.read_text() == "snmp-agent community read s3cret\n"


def test_an_existing_open_file_and_dir_are_corrected(tmp_path: Path, umask_000: None) -> None:
    d = tmp_path / "open"
    d.mkdir(mode=0o777)
    f = d / "x.cfg"
    f.write_text("old")
    f.chmod(0o666)
    private_dir(d)
    write_private(f, b"new")
    assert _mode(d) == 0o700 and _mode(f) == 0o600 and f.read_bytes() == b"new"


def test_exclusive_never_overwrites(tmp_path: Path) -> None:
    f = write_private(tmp_path / "backup.cfg", "one", exclusive=True)
    with pytest.raises(FileExistsError):
        write_private(f, "two", exclusive=True)
    assert f.read_text() == "one"


def test_run_records_and_backups_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             umask_000: None) -> None:
    from campusnet.deploy import store

    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path / "state"))
    run = store.Run.new(commit=True)
    run.write_rendered("yt-core", {"frr.conf": "password s3cret\n", "lab/net.sh": "ip link\n"})
    run.write_diff("yt-core", "+ password s3cret\n")
    run.record_device("yt-core", {"status": "changed"})
    run.write_summary()
    backup = store.save_backup("yt-core", "password s3cret\n", platform="linux-frr", run_id=run.run_id)
    paths = [p for p in (tmp_path / "state").rglob("*")]
    assert paths
    loose = [f"{p} {_mode(p):o}" for p in paths
             if (p.is_dir() and _mode(p) != 0o700) or (p.is_file() and _mode(p) != 0o600)]
    assert not loose
    assert backup.read_text() == "password s3cret\n"


def test_rendered_configurations_are_private(tmp_path: Path, umask_000: None, small_intents) -> None:  # type: ignore[no-untyped-def]
    from campusnet.render import placeholder_secret, render_all

    intents = small_intents
    s = render_all(intents, tmp_path / "out", secrets=placeholder_secret)
    assert s.written
    for p in s.written:
        assert _mode(p.parent) == 0o700, p.parent
        assert _mode(p) == (0o700 if p.suffix == ".sh" else 0o600), p
    # a second run with unchanged content and right modes rewrites nothing
    assert render_all(intents, tmp_path / "out", secrets=placeholder_secret).changed == 0


def test_write_is_atomic_and_leaves_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that dies half way leaves the old file whole (the data goes to a temporary file first)."""
    target = tmp_path / "dev.cfg"
    write_private(target, "old\n")

    def dies(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", dies)
    with pytest.raises(OSError, match="disk full"):
        write_private(target, "new\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev.cfg"]


def test_a_failed_render_writes_nothing(tmp_path: Path, small_intents) -> None:  # type: ignore[no-untyped-def]
    """A device that cannot be rendered (here: a missing secret) stops the render before any file is written."""
    from campusnet.errors import CampusnetError
    from campusnet.render import render_all

    intents = list(small_intents.values())
    calls = {"n": 0}

    def secrets(name: str) -> str:
        calls["n"] += 1
        if calls["n"] > 3:  # the first devices resolve, a later one does not
            raise CampusnetError("E304", "secret not found", obj=name, field="secret_ref")
        return "s3cret"

    out = tmp_path / "out"
    with pytest.raises(CampusnetError, match="E304"):
        render_all(intents, out, secrets=secrets)
    assert not out.exists() or not any(out.rglob("*"))
