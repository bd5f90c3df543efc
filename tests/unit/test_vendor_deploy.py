"""`campusnet deploy` to a production VRP / Comware device, rehearsed against the session replayer
(``--replay tests/fixtures/vendor``): the dry run prints the hier_config remediation and the intended
configuration; ``--commit`` runs trial → post-checks → commit; a failing post-check rolls back to the
backup; a controller that loses the device after the trial confirms nothing and the device reverts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from campusnet.cli import app
from campusnet.deploy import engine
from campusnet.deploy.drivers import DeployTarget, driver_for
from campusnet.deploy.production import production_targets
from campusnet.deploy.replay import Replayer
from campusnet.deploy.store import Run
from campusnet.errors import CampusnetError
from campusnet.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "tests" / "fixtures" / "vendor"
SNAPSHOT = ROOT / "tests" / "fixtures" / "snapshots" / "campus.json"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    for name in ("SNMP_COMMUNITY", "TACACS_KEY"):  # what the fixtures were rendered with
        monkeypatch.setenv(f"CAMPUSNET_SECRET_{name}", "campusnet-fixture")
    monkeypatch.setattr(engine, "ADJACENCY_SETTLE_MAX", 0.0)
    monkeypatch.setattr(engine, "ADJACENCY_POLL", 0.01)
    monkeypatch.setattr(engine, "ROLLBACK_BACKOFF", (0.0,))
    return tmp_path


def target(device: str) -> DeployTarget:
    pipe = Pipeline.load(snapshot=SNAPSHOT)
    return production_targets(pipe.intents, [device])[device]


def test_dry_run_prints_the_remediation_and_the_intent(state: Path) -> None:
    r = CliRunner().invoke(app, ["deploy", "--limit", "jpl-core-1", "--snapshot", str(SNAPSHOT), "--replay",
                                 str(VENDOR)], terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "# hier_config remediation (7 commands):" in r.output
    assert "    undo ntp-service unicast-server 10.30.30.10" in r.output
    assert "# intended configuration (jpl-core-1):" in r.output and "would-change" in r.output


def test_production_needs_a_limit_and_a_lab_limit_says_how(state: Path) -> None:
    r = CliRunner().invoke(app, ["deploy", "--production", "--snapshot", str(SNAPSHOT)])
    assert isinstance(r.exception, CampusnetError) and r.exception.code == "E416"
    r = CliRunner().invoke(app, ["deploy", "--limit", "jpl-b01-as2", "--snapshot", str(SNAPSHOT)])
    assert isinstance(r.exception, CampusnetError) and r.exception.code == "E420"
    assert "--production" in str(r.exception) and r.exception.obj == "jpl-b01-as2"


@pytest.mark.parametrize("device", ["jpl-core-1", "jpl-b01-as1"])
def test_commit_runs_trial_post_checks_commit(state: Path, device: str) -> None:
    t = target(device)
    rp = Replayer(VENDOR, clock=Clock())
    res = engine.deploy_device(t, commit=True, run=Run.new(commit=True), connect=rp, confirm_timeout=120)
    assert (res.status, res.confirm) == ("changed", "confirmed"), res.error
    log = rp.devices[device].log
    vrp = t.driver == "huawei-vrp"
    armed = log.index("commit trial 120" if vrp else "configuration commit delay 2")
    confirmed = log.index("commit description campusnet" if vrp else "configuration commit")
    assert armed < log.index("display interface brief") < confirmed
    drv = driver_for(t.driver)
    assert drv.diff(rp(t), t.files, rp.devices[device].running, t) == ""


def test_failing_post_check_rolls_back_to_the_backup(state: Path) -> None:
    t = target("jpl-core-1")
    rp = Replayer(VENDOR, clock=Clock())
    dev = rp.device(t)
    before = dev.running
    dev.transcript.replies["display interface brief"] = dev.transcript.replies["display interface brief"].replace(
        "25GE1/0/47                  up    up", "25GE1/0/47                  down  down")
    res = engine.deploy_device(t, commit=True, run=Run.new(commit=True), connect=rp, confirm_timeout=120)
    assert res.status == "rolled-back" and res.confirm == "cancelled", res.error
    assert res.post_check_failures == ["interface 25GE1/0/47 is down, not up"]
    assert "abort trial" in dev.log and "commit description campusnet" not in dev.log
    drv = driver_for("huawei-vrp")
    assert drv.normalise(dev.running) == drv.normalise(before)


def test_lost_controller_after_the_trial_confirms_nothing(state: Path) -> None:
    t = target("jpl-core-1")
    clock = Clock()
    rp = Replayer(VENDOR, clock=clock)
    dev = rp.device(t)
    before = dev.running
    dev.drop_after = "commit trial 120"  # the session dies, and the device is unreachable from here on
    res = engine.deploy_device(t, commit=True, run=Run.new(commit=True), connect=rp, confirm_timeout=120)
    assert res.status == "rollback-failed" and res.confirm == "left-to-timer", res.error
    assert dev.log[-1] == "commit trial 120"  # nothing was confirmed (nor anything else sent)
    drv = driver_for("huawei-vrp")
    assert drv.normalise(dev.running) != drv.normalise(before)  # the trial runs ...
    clock.now += 120
    dev.tick()
    assert dev.reverted == 1 and drv.normalise(dev.running) == drv.normalise(before)  # ... and reverts by itself


def test_replay_dir_without_the_platform_is_e489(state: Path, tmp_path: Path) -> None:
    with pytest.raises(CampusnetError) as exc:
        Replayer(tmp_path)(target("jpl-core-1"))
    assert exc.value.code == "E489"


def test_rollback_of_a_production_run_goes_through_the_driver(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`campusnet rollback` reaches a VRP device through the driver's own connect (not the lab's SSH exec)."""
    from campusnet.deploy.drivers.huawei_vrp import HuaweiVrpDriver
    from campusnet.deploy.rollback import RollbackItem, rollback_device
    from campusnet.deploy.transport import Credentials

    t = target("jpl-core-1")
    rp = Replayer(VENDOR, clock=Clock())
    dev = rp.device(t)
    before = dev.running
    res = engine.deploy_device(t, commit=True, run=Run.new(commit=True), connect=rp, confirm_timeout=120)
    assert res.status == "changed" and res.backup
    monkeypatch.setattr(HuaweiVrpDriver, "connect", lambda self, target, creds: rp(target))
    item = RollbackItem(t.device, t.host, t.driver, Path(res.backup))
    out = rollback_device(item, commit=True, run=None, creds=Credentials("nobody", Path("/nonexistent"), None))
    assert out.status == "restored", out.error
    drv = driver_for("huawei-vrp")
    assert drv.normalise(dev.running) == drv.normalise(before)
