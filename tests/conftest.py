"""Shared fixtures.

Integration tests read a real NetBox: the local one (brought up and seeded once per session; stopped at
the end if this session started it) or the one named by NETBOX_URL/NETBOX_TOKEN. With CI=true nothing
that needs NetBox or the lab may skip: a missing service is a failure. Tests never write to a NetBox
named by NETBOX_URL unless CAMPUSNET_TESTS_MAY_WRITE=1: every writing test asks for ``netbox`` (seeded)
or ``netbox_writable``, and those skip (fail on CI) without the opt-in.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from campusnet import settings
from campusnet.settings import NetBoxTarget

ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _external() -> bool:
    return bool(os.environ.get("NETBOX_URL") and os.environ.get("NETBOX_TOKEN"))


@pytest.fixture(scope="session")
def netbox_up() -> Iterator[NetBoxTarget]:
    """A running NetBox (no data guaranteed)."""
    if _external():
        yield settings.netbox_target()
        return
    from campusnet.localnb import LocalNetBox

    nb = LocalNetBox.load()
    was_running = bool(nb.server.web_pid())
    nb.up(log=lambda m: print(f"[netbox] {m}"))
    yield settings.netbox_target()
    if not was_running and os.environ.get("CAMPUSNET_KEEP_NETBOX") != "1":
        nb.down()


MAY_WRITE = "CAMPUSNET_TESTS_MAY_WRITE"


def may_write() -> str | None:
    """None when tests may write to the NetBox they use, else why not. The local NetBox is the tests' own;
    a NetBox named by NETBOX_URL is the user's (perhaps production): tests write to it (seed, branches,
    test objects) only when the user opts in with CAMPUSNET_TESTS_MAY_WRITE=1."""
    if not _external() or os.environ.get(MAY_WRITE) == "1":
        return None
    return (f"this test writes to NetBox (seed, branches, test objects) and NETBOX_URL names "
            f"{os.environ['NETBOX_URL']}: set {MAY_WRITE}=1 to allow writing there, or unset NETBOX_URL "
            "to use the local NetBox")


def require_write() -> None:
    """Skip a writing test (off CI) or fail it (on CI, nothing may skip) when writing is not allowed."""
    why = may_write()
    if why:
        if ON_CI:
            pytest.fail(why, pytrace=False)
        pytest.skip(why)


@pytest.fixture(scope="session")
def netbox_writable(netbox_up: NetBoxTarget) -> NetBoxTarget:
    """A running NetBox that this test may write to (see :func:`may_write`); no data guaranteed."""
    require_write()
    return netbox_up


@pytest.fixture(scope="session")
def netbox(netbox_writable: NetBoxTarget) -> NetBoxTarget:
    """A running NetBox holding the reference campus (seeded once per session, idempotently: a write,
    so only where tests may write)."""
    from campusnet.design.seed import seed

    netbox_up = netbox_writable
    report = seed(netbox_up, settings.inventory_dir() / "campus")
    assert not report.errors, report.errors
    return netbox_up


@pytest.fixture(scope="session")
def auditor_target(netbox: NetBoxTarget) -> NetBoxTarget:
    return settings.netbox_target(role="auditor")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Lab tests need root; off CI they skip without it, on CI they fail loudly instead."""
    if os.geteuid() == 0 or ON_CI:
        return
    skip = pytest.mark.skip(reason="lab tests need root (network namespaces)")
    for item in items:
        if "lab" in item.keywords:
            item.add_marker(skip)


REPO = Path(__file__).resolve().parent.parent


# ---- intent / render / golden files (owner: the templates part; keep this block self-contained) ----------
SNAPSHOTS = Path(__file__).parent / "fixtures" / "snapshots"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/ from the current intent and templates (review the diff)")


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def small_intents():  # type: ignore[no-untyped-def]
    from campusnet.intent import build_intents
    from campusnet.sot.models import Snapshot

    return build_intents(Snapshot.load(SNAPSHOTS / "small.json"))
