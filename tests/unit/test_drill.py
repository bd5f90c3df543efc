"""The fault-injection points of campusnet/deploy/drill.py: inert unless a drill arms them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from campusnet.deploy import drill
from campusnet.errors import CampusnetError


@pytest.fixture(autouse=True)
def _dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(drill.DIR_ENV, str(tmp_path / "drill"))
    monkeypatch.delenv(drill.ENV, raising=False)
    return tmp_path / "drill"


def test_unset_is_a_no_op(_dir: Path) -> None:
    t0 = time.monotonic()
    drill.point("after-apply", "leaf1")
    assert time.monotonic() - t0 < 0.05
    assert not _dir.exists()  # not even a directory is made


def test_other_device_or_point_passes(monkeypatch: pytest.MonkeyPatch, _dir: Path) -> None:
    monkeypatch.setenv(drill.ENV, "after-apply:leaf1")
    drill.point("after-apply", "leaf2")
    drill.point("before-apply", "leaf1")
    assert not drill.marker("after-apply", "leaf2", "reached").exists()


def test_armed_point_waits_for_release(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(drill.ENV, "before-apply:*")
    done = threading.Event()

    def deploy() -> None:
        drill.point("before-apply", "leaf1")
        done.set()

    th = threading.Thread(target=deploy)
    th.start()
    assert drill.wait_reached("before-apply", "leaf1", timeout=5)
    time.sleep(0.2)
    assert not done.is_set()  # it waits for the drill
    drill.release("before-apply", "leaf1")
    th.join(5)
    assert done.is_set()
    assert not drill.marker("before-apply", "leaf1", "reached").exists()
    assert not drill.marker("before-apply", "leaf1", "release").exists()


def test_stale_release_does_not_let_a_new_point_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(drill.ENV, "after-apply:leaf1")
    monkeypatch.setenv(drill.TIMEOUT_ENV, "0.3")
    drill.release("after-apply", "leaf1")  # left over from an earlier drill
    with pytest.raises(CampusnetError) as exc:
        drill.point("after-apply", "leaf1")
    assert exc.value.code == "E491" and "leaf1" in str(exc.value)


def test_bad_spec_is_a_coded_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(drill.ENV, "mid-push:leaf1")
    with pytest.raises(CampusnetError) as exc:
        drill.point("after-apply", "leaf1")
    assert exc.value.code == "E490" and drill.ENV in str(exc.value)
