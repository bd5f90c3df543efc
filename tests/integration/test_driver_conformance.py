"""The driver contract, proven per driver: running → diff → apply → empty diff → post-checks → restore equals
the backup → post-checks of the original intent. Every driver in ``campusnet.deploy.drivers.drivers()`` must
have a case here.

A case gives the suite a device to talk to and two targets: ``original`` (what the device runs now, as
intended) and ``changed`` (the same, plus a change the driver must push, in its configuration text and in
at least one state section). The suite leaves the device as it found it (a ``finally`` restores the first
backup) and fails if it cannot.

- ``linux-frr`` runs on the real lab (root, SSH, FRR; wrap in ``flock /tmp/campusnet-lab.lock``): one node
  of the campus, read from the real NetBox.
- A vendor driver (VRP, Comware) with no device here plugs in with a :class:`SessionReplayer`: the
  transcript of a real session (each command's outputs, in order, recorded once on a device) answers the
  driver's reads, and what it writes is kept for the assertions.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from campusnet.deploy.drivers import DeployTarget, Driver, driver_for, drivers
from campusnet.deploy.transport import CommandResult, Connection, Credentials
from campusnet.errors import CampusnetError
from campusnet.settings import NetBoxTarget

pytestmark = [pytest.mark.integration]


@dataclass
class Case:
    driver: str
    original: DeployTarget
    changed: DeployTarget
    connect: Callable[[], contextlib.AbstractContextManager[Any]]
    backup_in_sync: bool = True  # the device ran the original intent when the case began
    # commit-confirm: let the device's confirm timer of that many seconds run out (the lab: wait; a replayer:
    # move its clock). None: the case cannot, and the revert step is skipped, saying so.
    run_out_timer: Callable[[int], None] | None = None
    confirm_timeout: int = 30  # seconds for the confirm step (the lab: arming + push + checks fit in it)
    revert_timeout: int = 12  # seconds for the revert step (short: the test waits for it)
    revert_within: float = 30.0  # how long the revert may take once the timer ran out


@dataclass
class SessionReplayer:
    """A recorded session standing in for a device: ``{command: [output, output, …]}`` answered in order
    (the last one repeats), ``put`` and commands without a recording kept in ``writes``."""

    device: str
    transcript: dict[str, list[str]]
    writes: list[str] = field(default_factory=list)

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> SessionReplayer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, command: str, *, check: bool = False, timeout: float = 120.0, stdin: str | None = None
            ) -> CommandResult:
        outs = self.transcript.get(command)
        if outs is None:
            self.writes.append(command)
            return CommandResult(command, 0, "", "")
        out = outs.pop(0) if len(outs) > 1 else outs[0]
        return CommandResult(command, 0, out, "")

    def put(self, text: str, path: str, mode: int = 0o644) -> None:
        self.writes.append(f"put {path}")


# -- linux-frr on the lab -------------------------------------------------------------------------------------
NODE = "yt-dc-leaf1"
PREFIX_LIST = "ip prefix-list CN-CONFORMANCE seq 5 permit 192.0.2.0/24"
EXTRA_ADDR = "192.0.2.77/32"


@pytest.fixture(scope="module")
def lab_case(netbox: NetBoxTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    from campusnet.deploy.targets import lab_targets
    from campusnet.lab import lab_status
    from campusnet.lab.engine import lab_down, lab_up
    from campusnet.pipeline import Pipeline
    from campusnet.sot.reader import read_snapshot

    path = tmp_path_factory.mktemp("conformance") / "campus.json"
    read_snapshot(netbox).save(path)
    pipe = Pipeline.load(snapshot=path)
    was_up = bool(lab_status().nodes)
    if not was_up:
        lab_up(pipe.plan)
    try:
        t = lab_targets(pipe.plan, pipe.intents, pipe.emulations, only=[NODE])[NODE]
        files = {**t.files, "frr.conf": t.files["frr.conf"].rstrip("\n") + f"\n{PREFIX_LIST}\n",
                 "net.sh": t.files["net.sh"].rstrip("\n") + f"\nip addr replace {EXTRA_ADDR} dev lo\n"}
        addrs = "".join(sorted([*t.expected.addrs.splitlines(True), f"lo {EXTRA_ADDR}\n"]))
        changed = t.model_copy(update={"files": files, "expected": t.expected.model_copy(update={"addrs": addrs})})
        creds = Credentials.from_environment()
        drv = driver_for(t.driver)
        with Connection(NODE, t.host, creds) as c:
            in_sync = not drv.diff(c, t.files, drv.running(c), t).strip()
        yield Case(t.driver, t, changed, lambda: Connection(NODE, t.host, creds), backup_in_sync=in_sync,
                   run_out_timer=lambda seconds: time.sleep(seconds))
    finally:
        if not was_up:
            lab_down()


def _case(request: pytest.FixtureRequest, key: str) -> Case:
    if key in ("huawei-vrp", "h3c-comware"):  # their recorded sessions (also run by the unit suite)
        from tests.unit.test_vendor_conformance import vendor_case

        return vendor_case(key)
    fixtures = {"linux-frr": "lab_case"}
    if key not in fixtures:
        pytest.fail(f"driver {key} has no conformance case: add one (a lab fixture or a SessionReplayer)")
    return request.getfixturevalue(fixtures[key])  # type: ignore[no-any-return]


# -- the suite ---------------------------------------------------------------------------------------------------
@pytest.mark.lab
@pytest.mark.parametrize("key", sorted(drivers()))
def test_driver_conformance(request: pytest.FixtureRequest, key: str) -> None:
    case = _case(request, key)
    drv: Driver = driver_for(key)
    with case.connect() as conn:
        backup = drv.running(conn)  # running
        try:
            _lifecycle(drv, conn, case, backup)
        finally:  # whatever failed above, the device ends as it began
            drv.restore(conn, backup)
        left = _same(drv, drv.running(conn), backup)
        assert not left, f"restore did not bring the backup back:\n{left}"  # restore equals backup
        if case.backup_in_sync:
            assert not drv.diff(conn, case.original.files, backup, case.original).strip()
            assert drv.post_checks(conn, case.original) == []  # post-checks of the original intent


def _lifecycle(drv: Driver, conn: Connection, case: Case, backup: str) -> None:
    d = drv.diff(conn, case.changed.files, backup, case.changed)  # diff: the change shows, in text and state
    assert "CN-CONFORMANCE" in d and EXTRA_ADDR in d, d
    drv.apply(conn, case.changed.files, case.changed)  # apply
    after = drv.running(conn)
    assert drv.diff(conn, case.changed.files, after, case.changed).strip() == ""  # empty diff
    assert drv.post_checks(conn, case.changed) == []  # post-checks
    assert _same(drv, after, backup), "apply changed nothing the driver reads back"


# -- commit-confirm ----------------------------------------------------------------------------------------------
@pytest.mark.lab
@pytest.mark.parametrize("key", sorted(drivers()))
def test_confirmed_change_stays(request: pytest.FixtureRequest, key: str) -> None:
    """apply with a timer → post-checks → confirm → the change outlives the timer; confirm again is a no-op."""
    case = _case(request, key)
    drv: Driver = driver_for(key)
    with case.connect() as conn:
        backup = drv.running(conn)
        try:
            drv.apply(conn, case.changed.files, case.changed, confirm_timeout=case.confirm_timeout)
            assert drv.post_checks(conn, case.changed) == []
            drv.confirm(conn)
            drv.confirm(conn)  # nothing pending: a no-op
            if case.run_out_timer is not None:
                case.run_out_timer(case.confirm_timeout + 2)
            after = drv.running(conn)
            assert drv.diff(conn, case.changed.files, after, case.changed).strip() == "", "the change did not stay"
        finally:
            drv.restore(conn, backup)
        assert not _same(drv, drv.running(conn), backup)


@pytest.mark.lab
@pytest.mark.parametrize("key", sorted(drivers()))
def test_unconfirmed_change_reverts_by_itself(request: pytest.FixtureRequest, key: str) -> None:
    """apply with a timer, no confirm, nothing else: once the timer runs out the device is back at its
    pre-apply state (driver.running, normalised), with no help from the controller."""
    case = _case(request, key)
    if case.run_out_timer is None:
        pytest.skip(f"the {key} case cannot run its device's timer out (give the Case a run_out_timer)")
    drv: Driver = driver_for(key)
    with case.connect() as conn:
        backup = drv.running(conn)
        try:
            drv.apply(conn, case.changed.files, case.changed, confirm_timeout=case.revert_timeout)
            assert _same(drv, drv.running(conn), backup), "apply changed nothing: nothing to revert"
            case.run_out_timer(case.revert_timeout)
            deadline = time.monotonic() + case.revert_within
            while (left := _same(drv, drv.running(conn), backup)) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert not left, f"not back at the backup {case.revert_within:g} s after the timer:\n{left}"
            with pytest.raises(CampusnetError):
                drv.confirm(conn)  # too late: the timer fired
        finally:
            drv.restore(conn, backup)
        assert not _same(drv, drv.running(conn), backup)


def _same(drv: Driver, have: str, want: str) -> str:
    from campusnet.deploy.engine import normalised_diff

    return normalised_diff(drv, have, want, "running", "backup")


def test_every_driver_has_a_case() -> None:
    """A new driver without a case fails here, not silently."""
    assert set(drivers()) <= {"linux-frr", "huawei-vrp", "h3c-comware"}, "add a conformance case for the new driver"


def test_session_replayer_answers_in_order() -> None:
    s = SessionReplayer("r1", {"display current-configuration": ["a\n", "b\n"]})
    assert [s.run("display current-configuration").stdout for _ in range(3)] == ["a\n", "b\n", "b\n"]
    s.run("system-view")
    s.put("x", "/tmp/x")
    assert s.writes == ["system-view", "put /tmp/x"]
