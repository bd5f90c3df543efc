"""The local NetBox's cold start (issue 12, section 4): on a machine without the wheel cache NetBox installs
straight from PyPI and the cache is built beside migrate (never half-built); collectstatic runs beside
migrate on the first run too. No pip, no NetBox: the commands are recorded."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from campusnet.errors import CampusnetError
from campusnet.localnb import server
from campusnet.localnb.server import NETBOX_VERSION, REQUIREMENTS, NetBoxServer


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def fake_run(argv: list[str], *, what: str) -> None:
        calls.append(argv)
        if argv[1:3] == ["-m", "venv"]:
            Path(argv[3]).mkdir(parents=True)
        if "wheel" in argv:  # pip wheel writes the wheels into -w DIR
            out = Path(argv[argv.index("-w") + 1])
            (out / f"netbox-{NETBOX_VERSION}-py3-none-any.whl").write_text("whl")
    monkeypatch.setattr(server, "_run", fake_run)
    monkeypatch.setattr(server, "_python312", lambda: "/usr/bin/python3.12")
    return calls


def test_without_a_wheel_cache_netbox_installs_from_pypi_in_one_step(tmp_path: Path, runs: list[list[str]]) -> None:
    srv = NetBoxServer(tmp_path / "nb", 1)
    srv.install(tmp_path / "cache", log=lambda m: None)
    pips = [a for a in runs if "pip" in a]
    assert len(pips) == 1 and pips[0][-len(REQUIREMENTS):] == REQUIREMENTS
    assert "install" in pips[0] and "--no-index" not in pips[0]  # no `pip wheel` first, no second install
    assert srv.installed()


def test_with_the_wheel_cache_netbox_installs_offline(tmp_path: Path, runs: list[list[str]]) -> None:
    wheels = tmp_path / "cache" / f"netbox-{NETBOX_VERSION}"
    wheels.mkdir(parents=True)
    (wheels / f"netbox-{NETBOX_VERSION}-py3-none-any.whl").write_text("whl")
    NetBoxServer(tmp_path / "nb", 1).install(tmp_path / "cache", log=lambda m: None)
    [pip] = [a for a in runs if "pip" in a]
    assert "--no-index" in pip and str(wheels) in pip


def test_the_wheel_cache_is_built_aside_and_renamed(tmp_path: Path, runs: list[list[str]]) -> None:
    cache = tmp_path / "cache"
    srv = NetBoxServer(tmp_path / "nb", 1)
    srv.cache_wheels(cache, log=lambda m: None)
    assert server.wheels_cached(cache)
    assert [p.name for p in cache.iterdir()] == [f"netbox-{NETBOX_VERSION}"]  # no scratch left behind
    runs.clear()
    assert srv.cache_wheels(cache, log=lambda m: None) == 0.0 and not runs  # once per machine


def test_a_failed_wheel_cache_build_is_not_fatal_and_leaves_no_half_cache(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(argv: list[str], *, what: str) -> None:
        (Path(argv[argv.index("-w") + 1]) / f"netbox-{NETBOX_VERSION}-py3-none-any.whl").write_text("half")
        raise CampusnetError("E174", f"{what} failed: no network")
    monkeypatch.setattr(server, "_run", failing)
    logs: list[str] = []
    NetBoxServer(tmp_path / "nb", 1).cache_wheels(tmp_path / "cache", log=logs.append)
    assert not server.wheels_cached(tmp_path / "cache") and not list((tmp_path / "cache").iterdir())
    assert any("next `netbox up` tries again" in m for m in logs)


def test_first_run_collects_static_files_beside_migrate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """migrate waits for collectstatic to have started: run one after the other, it would time out."""
    import campusnet.localnb as localnb

    started = threading.Event()
    order: list[str] = []

    class Srv:
        root = tmp_path / "root"

        def migrated_marker(self) -> Path:
            return tmp_path / "marker"

        def manage(self, *args: str) -> str:
            order.append(args[0])
            started.set()
            return ""

        def migrate(self) -> None:
            assert started.wait(10), "collectstatic did not run beside migrate"
            order.append("migrate")

    class Pg:
        def dump(self, db: str, target: Path) -> None:
            order.append("dump")

    (tmp_path / "root" / "static").mkdir(parents=True)
    monkeypatch.setattr(localnb.LocalNetBox, "server", property(lambda self: Srv()))
    monkeypatch.setattr(localnb.LocalNetBox, "postgres", property(lambda self: Pg()))
    monkeypatch.setenv("CAMPUSNET_CACHE", str(tmp_path / "cache"))
    nb = localnb.LocalNetBox(tmp_path)
    nb.base.mkdir()
    with ThreadPoolExecutor(2) as pool:
        times = nb._schema(pool, source=None, need_schema=True, created=True, log=lambda m: None)
    assert order[0] == "collectstatic" and "migrate" in order and "dump" in order
    assert set(times) == {"migrate", "collectstatic"}
    assert (tmp_path / "root" / "static" / ".campusnet-collected").read_text().strip() == localnb.SCHEMA_KEY


def test_a_database_the_background_prepare_created_is_still_cached_after_the_seed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bootstrap.sh's prepare (another process) created the database; the demo's `up` must still know it
    holds only the seed, so that the seeded cache is taken once, and never again."""
    import campusnet.localnb as localnb

    dumps: list[Path] = []

    class Pg:
        def dump(self, db: str, target: Path, exclude_data: tuple[str, ...] = ()) -> None:
            dumps.append(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("dump")

    monkeypatch.setattr(localnb.LocalNetBox, "postgres", property(lambda self: Pg()))
    monkeypatch.setenv("CAMPUSNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(localnb, "seeded_key", lambda campus: "k")
    background = localnb.LocalNetBox(tmp_path)
    background.base.mkdir()
    background._set_origin("created")
    demo = localnb.LocalNetBox(tmp_path)
    with demo._lock() as waited:
        assert waited < 1
    demo._read_origin()
    assert demo.origin == "created"
    assert demo.cache_seeded(tmp_path / "campus", log=lambda m: None) is not None and len(dumps) == 1
    later = localnb.LocalNetBox(tmp_path)
    later._read_origin()
    assert later.origin == "existing" and later.cache_seeded(tmp_path / "campus", log=lambda m: None) is None
