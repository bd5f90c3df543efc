"""The deploy lifecycle with a scripted driver: backup always, dry run pushes nothing, failed post-check
rolls back and proves it, one device's exception never escapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from campusnet.deploy import engine
from campusnet.deploy.engine import DeployTarget, deploy_device
from campusnet.deploy.store import Run, latest_backup


class FakeConn:
    def __init__(self, device: str):
        self.device = device

    def open(self) -> None: ...

    def close(self) -> None: ...


class FakeDriver:
    name = "fake"

    def __init__(self, running: str, *, checks: list[str] | None = None, apply_raises: bool = False,
                 restore_works: bool = True):
        self.state = running
        self.checks = checks or []
        self.apply_raises = apply_raises
        self.restore_works = restore_works
        self.applied: list[str] = []

    def running(self, conn: Any) -> str:
        return self.state

    def diff(self, conn: Any, files: dict[str, str], running: str, target: Any = None) -> str:
        return "" if running == files["cfg"] else f"- {running}\n+ {files['cfg']}\n"

    def apply(self, conn: Any, files: dict[str, str], target: Any = None) -> None:
        self.applied.append(files["cfg"])
        self.state = files["cfg"]
        if self.apply_raises:
            raise RuntimeError("device said no")

    def post_checks(self, conn: Any, target: Any) -> list[str]:
        return list(self.checks)

    def restore(self, conn: Any, backup: str) -> None:
        if self.restore_works:
            self.state = backup

    def normalise(self, text: str) -> str:
        return text


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    return tmp_path


def _target() -> DeployTarget:
    return DeployTarget(device="r1", host="10.254.0.1", driver="fake", files={"cfg": "new"})


def _run(monkeypatch: pytest.MonkeyPatch, drv: FakeDriver, *, commit: bool, **kw: Any) -> engine.DeviceResult:
    monkeypatch.setattr(engine, "driver_for", lambda key: drv)
    return deploy_device(_target(), commit=commit, run=Run.new(commit=commit), connect=lambda t: FakeConn(t.device),
                         **kw)


def test_dry_run_backs_up_and_pushes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    drv = FakeDriver("old")
    r = _run(monkeypatch, drv, commit=False)
    assert r.status == "would-change"
    assert drv.applied == []
    backup = latest_backup("r1")
    assert backup is not None and backup.read_text() == "old"
    assert r.diff_lines == 2


def test_in_sync_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    r = _run(monkeypatch, FakeDriver("new"), commit=True)
    assert r.status == "unchanged"


def test_commit_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    drv = FakeDriver("old")
    r = _run(monkeypatch, drv, commit=True)
    assert r.status == "changed" and drv.state == "new"


def test_failed_post_check_rolls_back_to_the_backup(monkeypatch: pytest.MonkeyPatch) -> None:
    drv = FakeDriver("old", checks=["interface eth1 is not up"])
    r = _run(monkeypatch, drv, commit=True)
    assert r.status == "rolled-back"
    assert drv.state == "old"
    assert r.post_check_failures == ["interface eth1 is not up"]


def test_forced_post_check_failure_rolls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    drv = FakeDriver("old")
    r = _run(monkeypatch, drv, commit=True, fail_post_check=True)
    assert r.status == "rolled-back" and drv.state == "old"


def test_rollback_that_does_not_take_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    drv = FakeDriver("old", checks=["bad"], restore_works=False)
    r = _run(monkeypatch, drv, commit=True)
    assert r.status == "rollback-failed"
    assert "rollback did not restore" in (r.error or "")


def test_apply_exception_is_contained_and_rolled_back(monkeypatch: pytest.MonkeyPatch) -> None:
    drv = FakeDriver("old", apply_raises=True)
    r = _run(monkeypatch, drv, commit=True)
    assert r.status == "rolled-back"
    assert "device said no" in (r.error or "")
    assert drv.state == "old"


def test_backups_are_never_overwritten(monkeypatch: pytest.MonkeyPatch, state: Path) -> None:
    for _ in range(3):
        _run(monkeypatch, FakeDriver("old"), commit=False)
    files = sorted((state / "backups" / "r1").glob("*.cfg"))
    assert len(files) == 3
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)


def test_summary_records_every_device(monkeypatch: pytest.MonkeyPatch, state: Path) -> None:
    monkeypatch.setattr(engine, "driver_for", lambda key: FakeDriver("old"))
    run = Run.new(commit=False)
    deploy_device(_target(), commit=False, run=run, connect=lambda t: FakeConn(t.device))
    path = run.write_summary()
    import json

    data = json.loads(path.read_text())
    assert data["devices"]["r1"]["status"] == "would-change"
    assert (run.path / "diffs" / "r1.diff").read_text().startswith("- old")


def test_empty_interface_stanzas_do_not_count_as_configuration() -> None:
    """FRR keeps printing `interface X` / `exit` after the last line under it is removed (and no reload can
    remove it while the interface exists): a restore to a day-0 backup must still compare equal."""
    from campusnet.deploy.drivers.linux_frr import _frr_clean

    after_restore = "frr defaults traditional\ninterface hu1-0-1\nexit\ninterface lo\nexit\nend\n"
    day0 = "frr defaults traditional\nend\n"
    assert _frr_clean(after_restore) == _frr_clean(day0)
    configured = "interface vlan2010\n vrrp 10\nexit\n"
    assert _frr_clean(configured) == configured  # a stanza with configuration is kept


# -- commit-confirm -------------------------------------------------------------------------------------------
class TimerDriver(FakeDriver):
    """A device with a confirm timer: ``pending`` until confirmed or restored; ``fire()`` is the timer."""

    confirm_mechanism = "fake timer"

    def __init__(self, running: str, *, confirm_raises: bool = False, **kw: Any):
        super().__init__(running, **kw)
        self.backup_at_apply: str | None = None
        self.timeouts: list[int] = []
        self.confirmed = 0
        self.confirm_raises = confirm_raises

    @property
    def pending(self) -> bool:
        return self.backup_at_apply is not None

    def apply(self, conn: Any, files: dict[str, str], target: Any = None, *, confirm_timeout: int = 0) -> None:
        self.timeouts.append(confirm_timeout)
        if confirm_timeout:
            self.backup_at_apply = self.state
        super().apply(conn, files, target)

    def confirm(self, conn: Any) -> None:
        if self.confirm_raises:
            raise RuntimeError("session dropped")
        self.confirmed += 1
        self.backup_at_apply = None

    def restore(self, conn: Any, backup: str) -> None:
        super().restore(conn, backup)
        if self.restore_works:
            self.backup_at_apply = None


def test_timer_is_armed_and_confirmed_after_the_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    drv = TimerDriver("old")
    r = _run(monkeypatch, drv, commit=True, confirm_timeout=90)
    assert r.status == "changed" and drv.state == "new"
    assert drv.timeouts == [90] and drv.confirmed == 1 and not drv.pending
    assert (r.confirm, r.confirm_timeout, r.confirm_mechanism, r.reverts_at) == ("confirmed", 90, "fake timer", None)


def test_failed_check_restores_and_cancels_the_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    drv = TimerDriver("old", checks=["bad"])
    r = _run(monkeypatch, drv, commit=True, confirm_timeout=90)
    assert r.status == "rolled-back" and drv.confirmed == 0 and not drv.pending
    assert r.confirm == "cancelled"


def test_lost_device_is_left_to_its_timer_and_the_record_says_when(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "ROLLBACK_ATTEMPTS", 2)
    monkeypatch.setattr(engine, "ROLLBACK_BACKOFF", (0.0,))
    drv = TimerDriver("old", checks=["bad"], restore_works=False)
    r = _run(monkeypatch, drv, commit=True, confirm_timeout=90)
    assert r.status == "rollback-failed" and drv.pending
    assert r.confirm == "left-to-timer" and r.reverts_at
    assert f"reverts by itself at {r.reverts_at}" in (r.error or "")


def test_confirm_that_fails_is_a_failed_push_rolled_back(monkeypatch: pytest.MonkeyPatch) -> None:
    drv = TimerDriver("old", confirm_raises=True)
    r = _run(monkeypatch, drv, commit=True, confirm_timeout=90)
    assert r.status == "rolled-back" and drv.state == "old" and not drv.pending
    assert r.confirm == "confirm-failed" and "session dropped" in (r.error or "") and r.reverts_at is None


def test_record_says_pending_before_the_push(monkeypatch: pytest.MonkeyPatch) -> None:
    """A controller killed mid-push leaves a record that says the device reverts by itself."""
    import json

    seen: dict[str, Any] = {}
    run = Run.new(commit=True)

    class Peek(TimerDriver):
        def apply(self, conn: Any, files: dict[str, str], target: Any = None, *, confirm_timeout: int = 0) -> None:
            seen.update(json.loads((run.path / "devices" / "r1.json").read_text()))
            super().apply(conn, files, target, confirm_timeout=confirm_timeout)

    monkeypatch.setattr(engine, "driver_for", lambda key: Peek("old"))
    r = deploy_device(_target(), commit=True, run=run, connect=lambda t: FakeConn(t.device), confirm_timeout=30)
    assert seen["confirm"] == "pending" and seen["pushed"] and "reverts by itself" in seen["error"]
    assert json.loads((run.path / "devices" / "r1.json").read_text())["confirm"] == r.confirm == "confirmed"


def test_no_timer_calls_the_old_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    drv = FakeDriver("old")  # no confirm_timeout parameter, no confirm(): still works with the timer off
    r = _run(monkeypatch, drv, commit=True, confirm_timeout=0)
    assert r.status == "changed" and r.confirm == "" and r.confirm_timeout == 0


def test_negative_timeout_is_refused() -> None:
    from campusnet.errors import CampusnetError

    with pytest.raises(CampusnetError) as exc:
        deploy_device(_target(), commit=True, connect=lambda t: FakeConn(t.device), confirm_timeout=-1)
    assert exc.value.code == "E441"


def test_driver_connect_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []

    class Own(TimerDriver):
        def connect(self, target: Any, creds: Any) -> FakeConn:
            made.append(target.device)
            return FakeConn(target.device)

    monkeypatch.setattr(engine, "driver_for", lambda key: Own("old"))
    from campusnet.deploy.transport import Credentials

    r = deploy_device(_target(), commit=True, creds=Credentials("u", Path("/nonexistent"), None),
                      confirm_timeout=5)
    assert made == ["r1"] and r.status == "changed"


def test_a_refused_push_is_not_rolled_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A driver that refuses before writing (an earlier push's revert timer still pending) must not be
    restored: the restore would cancel that pending revert."""
    from campusnet.deploy.drivers.base import PushRefused

    class Refuses(TimerDriver):
        def apply(self, conn: Any, files: dict[str, str], target: Any = None, *, confirm_timeout: int = 0) -> None:
            raise PushRefused("E442", "a revert timer is pending", obj="device r1")

        def restore(self, conn: Any, backup: str) -> None:
            raise AssertionError("restored after a refused push")

    r = _run(monkeypatch, Refuses("old"), commit=True, confirm_timeout=30)
    assert r.status == "failed" and not r.pushed and r.confirm == "" and r.rollback_attempts == 0
    assert "E442" in (r.error or "") or "pending" in (r.error or "")


def test_node_side_revert_quotes_every_name_from_netbox() -> None:
    """The revert script the linux-frr timer runs: names from NetBox/the device reach the shell quoted
    (prune) or must be plain shell words (restore); the timer's seconds are an int."""
    import shlex

    from campusnet.deploy.drivers.linux_frr import CONFIRM_DIR, revert_script, timer_script

    hostile = "eth1;reboot&&$(id)"
    intended = {"ovs": f"bridge br0\n port {hostile} tag=10\n", "links": "vlan10o veth\n",
                "addrs": f"{hostile} 192.0.2.1/24\n"}
    backup = {"frr": "hostname x\n", "ovs": "bridge br0\n", "links": "", "addrs": "", "vpn": ""}
    script = revert_script(backup, intended)
    assert f"del-port {shlex.quote(hostile)}" in script and f"dev {shlex.quote(hostile)}" in script
    assert "ip link del vlan10o" in script and f"--reload {CONFIRM_DIR}/backup-frr.conf" in script
    assert hostile not in script.replace(shlex.quote(hostile), "")  # never unquoted
    timer = timer_script(15)
    assert "sleep 15" in timer and timer.index("timer.pid") < timer.index("sleep 15") < timer.index("mkdir")
