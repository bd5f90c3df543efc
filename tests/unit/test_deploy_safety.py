"""Deploy safety (issue 9, sections 1 and 4), with fake SSH: the gate, device locks, the rollback that
reconnects, ``rollback-failed``, ``rollback --run latest``, staged pushes, the adjacency post-check and
unknown SSH host keys."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paramiko
import pytest
from typer.testing import CliRunner

from campusnet.cli import app
from campusnet.deploy import engine, lock
from campusnet.deploy.drivers import ExpectedState, Session
from campusnet.deploy.engine import DeployTarget, deploy_device, deploy_many, required_sessions
from campusnet.deploy.gate import GateRefused, gate_violations
from campusnet.deploy.store import Run
from campusnet.errors import CampusnetError
from campusnet.sot.models import Snapshot

CAMPUS = Path(__file__).resolve().parents[1] / "fixtures" / "snapshots" / "campus.json"
REPO = Path(__file__).resolve().parents[2]


# -- fakes --------------------------------------------------------------------------------------------------
class Network:
    """What the fake devices hold, and every SSH session opened (nothing real is touched)."""

    def __init__(self) -> None:
        self.state: dict[str, str] = {}
        self.connects: list[str] = []
        self.writes: list[str] = []
        self.lock = threading.Lock()


class FakeConn:
    def __init__(self, device: str, host: str = "", creds: Any = None, *, net: Network | None = None):
        self.device = device
        self.net = net or NET
        self.dead = False
        self.opened = False

    def open(self) -> None:
        with self.net.lock:
            self.net.connects.append(self.device)
        self.opened = True

    def close(self) -> None:
        self.opened = False

    def alive(self) -> bool:
        return self.opened and not self.dead


NET = Network()


class FakeDriver:
    """Running config = ``NET.state[device]``; the target's ``cfg`` file is the intended config."""

    name = "fake"

    def __init__(self, *, fail_checks: set[str] | None = None, apply_drops: set[str] | None = None,
                 restore_broken: set[str] | None = None, adj: dict[str, dict[str, str]] | None = None,
                 adj_after: dict[str, dict[str, str]] | None = None, restore_fails: int = 0):
        self.fail_checks = fail_checks or set()
        self.apply_drops = apply_drops or set()
        self.restore_broken = restore_broken or set()
        self.adj = adj or {}
        self.adj_after = adj_after
        self.restore_fails = restore_fails
        self.restores = 0

    def running(self, conn: FakeConn) -> str:
        if conn.dead:
            raise CampusnetError("E412", "`show` failed over SSH: Socket is closed", obj=f"device {conn.device}")
        return NET.state.get(conn.device, "old")

    def diff(self, conn: FakeConn, files: dict[str, str], running: str, target: Any = None) -> str:
        return "" if running == files["cfg"] else f"- {running}\n+ {files['cfg']}\n"

    def apply(self, conn: FakeConn, files: dict[str, str], target: Any = None, *, confirm_timeout: int = 0) -> None:
        with NET.lock:
            NET.writes.append(conn.device)
        NET.state[conn.device] = files["cfg"]
        if conn.device in self.apply_drops:
            conn.dead = True  # the session drops mid-push (the change half made it)
            raise CampusnetError("E412", "`frr-reload` failed over SSH: Socket is closed", obj=conn.device)
        if self.adj_after is not None:
            self.adj = self.adj_after

    def post_checks(self, conn: FakeConn, target: Any) -> list[str]:
        return ["interface eth1 is not up"] if conn.device in self.fail_checks else []

    def confirm(self, conn: FakeConn) -> None: ...  # the driver contract's commit-confirm (no timer here)

    def restore(self, conn: FakeConn, backup: str) -> None:
        if conn.dead:
            raise CampusnetError("E412", "restore failed over SSH: Socket is closed", obj=conn.device)
        self.restores += 1
        if self.restores <= self.restore_fails:
            raise CampusnetError("E411", "SSH to 10.254.0.1 failed: connection refused", obj=conn.device)
        if conn.device not in self.restore_broken:
            NET.state[conn.device] = backup

    def normalise(self, text: str) -> str:
        return text

    def adjacencies(self, conn: FakeConn) -> dict[str, str]:
        return dict(self.adj.get(conn.device, {}))


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    global NET
    NET = Network()
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    monkeypatch.delenv("CAMPUSNET_SSH_ACCEPT_NEW", raising=False)
    monkeypatch.delenv("CAMPUSNET_SSH_KNOWN_HOSTS", raising=False)
    monkeypatch.delenv("CAMPUSNET_DRILL", raising=False)
    monkeypatch.setattr(engine, "ROLLBACK_BACKOFF", (0.0,))
    monkeypatch.setattr(engine, "ADJACENCY_POLL", 0.01)
    monkeypatch.setenv("COLUMNS", "250")  # rich: tables not wrapped, so the tests can read them
    ssh = tmp_path / "lab" / "ssh"
    ssh.mkdir(parents=True)
    (ssh / "id_ed25519").write_text("not a real key: SSH is faked here\n")
    monkeypatch.setattr(engine, "Connection", lambda device, host, creds: FakeConn(device, host, creds))
    return tmp_path


def use(monkeypatch: pytest.MonkeyPatch, drv: FakeDriver) -> FakeDriver:
    from campusnet.deploy import rollback

    monkeypatch.setattr(engine, "driver_for", lambda key: drv)
    monkeypatch.setattr(rollback, "driver_for", lambda key: drv)
    return drv


def target(name: str, cfg: str = "new", adjacencies: list[dict[str, Any]] | None = None) -> DeployTarget:
    sessions = tuple(Session(**s) for s in adjacencies or [])
    return DeployTarget(device=name, host=f"10.254.0.{len(name)}", driver="fake", files={"cfg": cfg},
                        expected=ExpectedState(sessions=sessions))


def campus() -> Snapshot:
    return Snapshot.load(CAMPUS)


def duplicate_address(snap: Snapshot, src: str = "yt-dc-leaf3", dst: str = "yt-dc-leaf4") -> Snapshot:
    """A copy of the campus with one of ``src``'s addresses also on ``dst`` (rule ip-unique-per-vrf)."""
    ip = next(i for i in snap.ip_addresses if i.device == src)
    iface = next(i for i in snap.interfaces if i.device == dst and i.name != ip.interface)
    dup = ip.model_copy(update={"id": 999999, "device": dst, "interface": iface.name})
    return snap.model_copy(update={"ip_addresses": (*snap.ip_addresses, dup)})


def saved(snap: Snapshot, path: Path) -> Path:
    snap.save(path)
    return path


def fake_everything(monkeypatch: pytest.MonkeyPatch) -> FakeDriver:
    """run_deploy over the recorded campus with fake SSH: every target's intended config is 'new'."""
    drv = use(monkeypatch, FakeDriver())
    from campusnet.deploy import run as run_mod

    real = run_mod.lab_targets

    def fake_targets(plan: Any, intents: Any, emulations: Any, only: Any = None) -> dict[str, DeployTarget]:
        return {k: DeployTarget(device=k, host=t.host, driver="fake", files={"cfg": "new"})
                for k, t in real(plan, intents, emulations, only).items()}

    monkeypatch.setattr(run_mod, "lab_targets", fake_targets)
    return drv


# -- 1. the gate --------------------------------------------------------------------------------------------
def test_reference_campus_passes_the_gate() -> None:
    assert gate_violations(campus(), ["yt-dc-leaf3", "yt-dc-leaf4"]) == []


def test_gate_keeps_violations_of_devices_in_scope_and_shared_data_only() -> None:
    bad = duplicate_address(campus())
    assert {v.rule for v in gate_violations(bad, ["yt-dc-leaf4"])} == {"ip-unique-per-vrf"}
    assert gate_violations(bad, ["yt-dc-spine1"]) == []  # about other devices: a --limit run is not blocked
    # shared data (names no device at all) gates every push
    snap = campus()
    twin = snap.prefixes[0].model_copy(update={"id": 99999})
    shared = snap.model_copy(update={"prefixes": (*snap.prefixes, twin)})
    extra = gate_violations(shared, ["yt-dc-spine1"])
    assert extra and {v.object_type for v in extra} == {"ipam.prefix"}


def test_commit_over_violations_is_refused_before_any_ssh(monkeypatch: pytest.MonkeyPatch, state: Path,
                                                           tmp_path: Path) -> None:
    from campusnet.deploy.run import run_deploy

    fake_everything(monkeypatch)
    snap = saved(duplicate_address(campus()), tmp_path / "bad.json")
    with pytest.raises(GateRefused) as exc:
        run_deploy(commit=True, snapshot=snap, via="direct")
    assert exc.value.code == "E470"
    assert all("yt-dc-leaf4" in v.message for v in exc.value.violations)
    assert NET.connects == [] and NET.writes == []
    assert not (state / "runs").exists() or not any((state / "runs").iterdir())


def test_force_pushes_and_the_run_record_keeps_what_it_overrode(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    from campusnet.deploy.run import run_deploy

    fake_everything(monkeypatch)
    snap = saved(duplicate_address(campus()), tmp_path / "bad.json")
    s = run_deploy(commit=True, snapshot=snap, via="direct", force=True, limit=["yt-dc-leaf4"])
    assert s.counts() == {"changed": 1} and NET.writes == ["yt-dc-leaf4"]
    for name in ("run.json", "summary.json"):
        rec = json.loads((s.run.path / name).read_text())
        rec = rec.get("extra", rec)
        assert rec["forced"] is True
        assert {v["rule"] for v in rec["gate"]["violations"]} == {"ip-unique-per-vrf"}


def test_dry_run_warns_and_still_diffs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from campusnet.deploy.run import run_deploy

    fake_everything(monkeypatch)
    snap = saved(duplicate_address(campus()), tmp_path / "bad.json")
    s = run_deploy(commit=False, snapshot=snap, via="direct", limit=["yt-dc-leaf4"])
    assert s.counts() == {"would-change": 1} and NET.writes == []
    assert s.gate is not None and s.gate.violations and not s.gate.overridden
    r = CliRunner().invoke(app, ["deploy", "--snapshot", str(snap), "--limit", "yt-dc-leaf4", "--via", "direct"])
    assert r.exit_code == 0, r.output
    assert "warning" in r.output and "ip-unique-per-vrf" in r.output


def test_cli_refusal_names_each_violation_and_exits_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_everything(monkeypatch)
    snap = saved(duplicate_address(campus()), tmp_path / "bad.json")
    r = CliRunner().invoke(app, ["deploy", "--commit", "--snapshot", str(snap), "--via", "direct"],
                           terminal_width=250)
    assert r.exit_code == 1, r.output
    assert "E470" in r.output and "ip-unique-per-vrf" in r.output and "address" in r.output
    assert "yt-dc-leaf4" in r.output and "appears 2 times" in r.output
    assert NET.writes == []
    r = CliRunner().invoke(app, ["deploy", "--commit", "--snapshot", str(snap), "--via", "direct", "--json"])
    assert r.exit_code == 1 and json.loads(r.output)["refused"] == "E470"


def test_nornir_path_is_gated_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from campusnet.deploy.run import run_deploy

    fake_everything(monkeypatch)
    snap = saved(duplicate_address(campus()), tmp_path / "bad.json")
    with pytest.raises(GateRefused):
        run_deploy(commit=True, snapshot=snap, via="nornir")
    assert NET.connects == []


def test_ansible_prepare_refuses_unless_forced(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """playbooks/library/campusnet_deploy.py, action prepare, as Ansible runs it (JSON args on stdin)."""
    snap = saved(duplicate_address(campus()), tmp_path / "bad.json")

    def prepare(force: bool) -> dict[str, Any]:
        args = {"ANSIBLE_MODULE_ARGS": {"action": "prepare", "commit": True, "snapshot": str(snap), "force": force,
                                        "_ansible_tmpdir": str(tmp_path)}}
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        r = subprocess.run([sys.executable, str(REPO / "playbooks/library/campusnet_deploy.py")],
                           input=json.dumps(args), capture_output=True, text=True, env=env, check=False, timeout=120)
        out: dict[str, Any] = json.loads(r.stdout)
        return out

    refused = prepare(False)
    assert refused.get("failed") and refused["code"] == "E470", refused
    assert "ip-unique-per-vrf" in refused["msg"] and refused["violations"]
    forced = prepare(True)
    assert not forced.get("failed"), forced
    assert forced["forced"] is True
    meta = json.loads((Path(forced["run"]) / "run.json").read_text())
    assert meta["extra"]["forced"] is True and meta["extra"]["gate"]["violations"]


def test_ansible_device_task_respects_the_lock_and_the_run_fails(state: Path, tmp_path: Path) -> None:
    """A node another run holds: the per-node task fails with E472 and records it, so `finish` fails too."""

    run = Run.new(commit=True)
    tdir = run.path / "targets"
    tdir.mkdir()
    (tdir / "r1.json").write_text(target("r1").model_dump_json())

    def module(action: str) -> dict[str, Any]:
        args = {"ANSIBLE_MODULE_ARGS": {"action": action, "run": str(run.path), "node": "r1",
                                        "_ansible_tmpdir": str(tmp_path)}}
        env = {**os.environ, "PYTHONPATH": str(REPO), "CAMPUSNET_STATE": str(state)}
        r = subprocess.run([sys.executable, str(REPO / "playbooks/library/campusnet_deploy.py")],
                           input=json.dumps(args), capture_output=True, text=True, env=env, check=False, timeout=120)
        out: dict[str, Any] = json.loads(r.stdout)
        return out

    with lock.acquire(["r1"], run_id="HOLDER", action="rollback"):
        res = module("device")
    assert res.get("failed") and res["code"] == "E472" and "HOLDER" in res["msg"], res
    assert json.loads((run.path / "devices" / "r1.json").read_text())["status"] == "failed"
    fin = module("finish")
    assert fin.get("failed") and "r1" in fin["msg"]


def test_rollback_commit_is_gated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from campusnet.deploy.rollback import run_rollback

    use(monkeypatch, FakeDriver())
    run = Run.new(commit=True)
    deploy_device(target("yt-dc-leaf4"), commit=True, run=run, connect=lambda t: FakeConn(t.device))
    run.write_summary()
    bad = duplicate_address(campus())
    fake = lambda i: FakeConn(i.device)  # noqa: E731
    with pytest.raises(GateRefused) as exc:
        run_rollback("latest", commit=True, source=bad, connect=fake)
    assert exc.value.code == "E471" and NET.state["yt-dc-leaf4"] == "new"
    done = run_rollback("latest", commit=True, source=bad, force=True, connect=fake)
    assert [r.status for r in done.results] == ["restored"] and NET.state["yt-dc-leaf4"] == "old"
    assert json.loads((done.run.path / "run.json").read_text())["extra"]["forced"] is True
    # NetBox unreadable: refused, unless forced (an emergency rollback does not need NetBox)
    monkeypatch.setenv("NETBOX_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("NETBOX_TOKEN", "0" * 40)
    with pytest.raises(CampusnetError) as exc2:
        run_rollback(run.run_id, commit=True, connect=fake)
    assert exc2.value.code == "E471"
    again = run_rollback(run.run_id, commit=True, force=True, connect=fake)  # an emergency: no NetBox needed
    gate = json.loads((again.run.path / "run.json").read_text())["extra"]["gate"]
    assert gate["checked"] is False and gate["error"] and [r.status for r in again.results] == ["unchanged"]


# -- 4. locks -----------------------------------------------------------------------------------------------
def test_second_run_on_a_locked_device_is_refused_naming_device_and_holder() -> None:
    with lock.acquire(["r1", "r2"], run_id="RUN-A", action="deploy"):
        with pytest.raises(CampusnetError) as exc:
            lock.acquire(["r2", "r3"], run_id="RUN-B", action="deploy")
        msg = str(exc.value)
        assert exc.value.code == "E472" and "device r2" in msg and "RUN-A" in msg and f"pid {os.getpid()}" in msg
        with lock.acquire(["r3"], run_id="RUN-C", action="deploy"):  # other devices are free
            pass
    with lock.acquire(["r2"], run_id="RUN-D", action="rollback"):  # released on leaving the block
        pass


def test_refused_run_takes_no_lock_at_all() -> None:
    with lock.acquire(["r2"], run_id="A", action="deploy"), pytest.raises(CampusnetError):
        lock.acquire(["r1", "r2"], run_id="B", action="deploy")
    with lock.acquire(["r1"], run_id="C", action="deploy"):  # B did not keep r1
        pass


def test_wait_gets_the_lock_when_the_holder_finishes() -> None:
    held = lock.acquire(["r1"], run_id="A", action="deploy")
    threading.Timer(0.5, held.release).start()
    t0 = time.monotonic()
    with lock.acquire(["r1"], run_id="B", action="deploy", wait=10):
        assert 0.3 < time.monotonic() - t0 < 5


def test_wait_times_out_with_a_coded_error() -> None:
    with lock.acquire(["r1"], run_id="A", action="deploy"), pytest.raises(CampusnetError) as exc:
        lock.acquire(["r1"], run_id="B", action="deploy", wait=0.4)
    assert exc.value.code == "E473" and "device r1" in str(exc.value)
    with pytest.raises(CampusnetError) as neg:
        lock.acquire(["r1"], run_id="B", action="deploy", wait=-1)
    assert neg.value.code == "E474"


def _holder_process(state: Path) -> subprocess.Popen[str]:
    code = ("import sys,time; from campusnet.deploy import lock; "
            "l = lock.acquire(['r1'], run_id='OTHER', action='deploy'); print('held', flush=True); time.sleep(60)")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "CAMPUSNET_STATE": str(state), "PYTHONPATH": str(REPO)})
    assert p.stdout is not None and p.stdout.readline().strip() == "held"
    return p


def test_lock_of_another_process_refuses_and_a_dead_holder_never_blocks(state: Path) -> None:
    p = _holder_process(state)
    try:
        with pytest.raises(CampusnetError) as exc:
            lock.acquire(["r1"], run_id="ME", action="deploy")
        assert f"pid {p.pid}" in str(exc.value) and "OTHER" in str(exc.value)
    finally:
        p.send_signal(signal.SIGKILL)  # dies holding it: flock is released by the kernel
        p.wait()
    with lock.acquire(["r1"], run_id="ME", action="deploy"):
        pass


def test_deploy_on_locked_devices_refuses_and_touches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from campusnet.deploy.run import run_deploy

    fake_everything(monkeypatch)
    with lock.acquire(["yt-dc-leaf3"], run_id="A", action="rollback"), pytest.raises(CampusnetError) as exc:
        run_deploy(commit=True, snapshot=CAMPUS, via="direct")
    assert exc.value.code == "E472" and "yt-dc-leaf3" in str(exc.value)
    assert NET.connects == []


def test_lock_file_names_are_safe() -> None:
    assert lock.lock_path("../../etc/x").parent == lock.locks_dir()
    assert lock.lock_path("a/b") != lock.lock_path("a_b")


# -- 4. the automatic rollback reconnects ---------------------------------------------------------------------
def test_ssh_drop_mid_push_reconnects_and_rolls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    drv = use(monkeypatch, FakeDriver(apply_drops={"r1"}))
    r = deploy_device(target("r1"), commit=True, run=Run.new(commit=True), connect=lambda t: FakeConn(t.device))
    assert r.status == "rolled-back", r
    assert NET.state["r1"] == "old" and drv.restores == 1
    assert NET.connects == ["r1", "r1"]  # the push's session, then a new one for the rollback
    assert r.pushed and "Socket is closed" in (r.error or "")


def test_rollback_retries_with_backoff_until_it_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(engine, "ROLLBACK_BACKOFF", (1.0, 2.0, 4.0))
    monkeypatch.setattr(engine.time, "sleep", lambda s: sleeps.append(s))
    use(monkeypatch, FakeDriver(fail_checks={"r1"}, restore_fails=2))
    r = deploy_device(target("r1"), commit=True, connect=lambda t: FakeConn(t.device))
    assert r.status == "rolled-back" and r.rollback_attempts == 3
    assert sleeps == [1.0, 2.0] and NET.state["r1"] == "old"


def test_rollback_that_never_takes_is_rollback_failed_with_every_error(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeDriver(fail_checks={"r1"}, restore_fails=99))
    r = deploy_device(target("r1"), commit=True, connect=lambda t: FakeConn(t.device))
    assert r.status == "rollback-failed"
    assert r.rollback_attempts == engine.ROLLBACK_ATTEMPTS
    assert (r.error or "").count("connection refused") == engine.ROLLBACK_ATTEMPTS
    assert str(r.backup) in (r.error or "")


def test_rollback_failed_fails_the_run_and_is_printed_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    from campusnet.deploy.run import DeploySummary

    long_reason = "rollback did not restore the backup exactly; still different:\n" + "\n".join(
        f"+ ip route 10.99.{i}.0/24 blackhole" for i in range(40))
    res = engine.DeviceResult("yt-core", "rollback-failed", error=long_reason)
    summary = DeploySummary(Run.new(commit=True), [res, engine.DeviceResult("yt-dc-leaf1", "changed")])
    assert summary.failed
    monkeypatch.setattr("campusnet.deploy.run.run_deploy", lambda **kw: summary)
    r = CliRunner().invoke(app, ["deploy", "--commit", "--no-diff"], terminal_width=200)
    assert r.exit_code == 1
    assert "rollback-failed" in r.output
    assert "10.99.39.0/24" in r.output  # the last line of the reason: nothing cut


def test_every_status_has_a_console_style_and_a_verdict() -> None:
    from campusnet.cli.deploy import STATUS_STYLE

    assert set(STATUS_STYLE) == set(engine.STATUSES)
    assert {"rollback-failed", "rolled-back", "failed", "skipped"} <= engine.PROBLEM_STATUSES


# -- 4. rollback --run latest ---------------------------------------------------------------------------------
def _record(statuses: dict[str, tuple[str, bool]], *, commit: bool = True, rollback_of: str | None = None) -> Run:
    run = Run.new(commit=commit)
    if rollback_of:
        run.extra["rollback_of"] = rollback_of
        run.save_meta()
    for dev, (status, pushed) in statuses.items():
        backup = run.path / f"{dev}.cfg"
        backup.write_text("old")
        run.record_device(dev, {"status": status, "pushed": pushed, "backup": str(backup), "host": "h",
                                "driver": "fake"})
    time.sleep(1.1)  # run ids sort by second
    return run


def test_latest_is_the_newest_run_that_pushed_anything_failed_ones_included() -> None:
    from campusnet.deploy.rollback import find_run

    _record({"r1": ("changed", True)})
    failed = _record({"r1": ("rolled-back", True), "r2": ("failed", False)})
    assert find_run("latest") == failed.path
    _record({"r1": ("failed", False)})  # never got to push: not a candidate
    _record({"r1": ("would-change", False)}, commit=False)  # a dry run
    _record({"r1": ("restored", True)}, rollback_of=failed.run_id)  # a rollback run
    corrupt = Run.new(commit=True)
    (corrupt.path / "run.json").write_text("{not json")
    assert find_run("latest") == failed.path
    rf = _record({"r2": ("rollback-failed", True)})
    assert find_run("latest") == rf.path


def test_records_from_before_pushed_still_count() -> None:
    from campusnet.deploy.rollback import find_run, pushed

    assert pushed({"status": "changed"}) and pushed({"status": "failed"}) and not pushed({"status": "unchanged"})
    old = Run.new(commit=True)
    old.record_device("r1", {"status": "failed", "backup": "/nonexistent"})
    assert find_run("latest") == old.path


def test_a_corrupt_run_record_is_a_coded_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from campusnet.deploy.rollback import run_rollback

    use(monkeypatch, FakeDriver())
    run = Run.new(commit=True)
    deploy_device(target("r1"), commit=True, run=run, connect=lambda t: FakeConn(t.device))
    (run.path / "devices" / "r1.json").write_text('{"status": "chan')
    with pytest.raises(CampusnetError) as exc:
        run_rollback(run.run_id, commit=True, source=campus())
    assert exc.value.code == "E477" and "devices/r1.json" in str(exc.value)
    (run.path / "run.json").write_text("[]")
    with pytest.raises(CampusnetError) as exc2:
        run_rollback(run.run_id, commit=True, source=campus())
    assert exc2.value.code == "E477" and "run.json" in str(exc2.value)
    assert NET.state["r1"] == "new"


def test_rollback_of_a_device_whose_automatic_rollback_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    from campusnet.deploy.rollback import run_rollback

    drv = use(monkeypatch, FakeDriver(fail_checks={"r1"}, restore_broken={"r1"}))
    run = Run.new(commit=True)
    assert deploy_device(target("r1"), commit=True, run=run, connect=lambda t: FakeConn(t.device)
                         ).status == "rollback-failed"
    run.write_summary()
    drv.restore_broken.clear()
    done = run_rollback("latest", commit=True, source=campus(), connect=lambda i: FakeConn(i.device))
    assert [(r.device, r.status) for r in done.results] == [("r1", "restored")] and NET.state["r1"] == "old"


def test_manual_rollback_that_does_not_take_is_rollback_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    from campusnet.deploy.rollback import run_rollback

    use(monkeypatch, FakeDriver())
    run = Run.new(commit=True)
    deploy_device(target("r1"), commit=True, run=run, connect=lambda t: FakeConn(t.device))
    use(monkeypatch, FakeDriver(restore_broken={"r1"}))
    done = run_rollback(run.run_id, commit=True, source=campus(), connect=lambda i: FakeConn(i.device))
    assert [r.status for r in done.results] == ["rollback-failed"] and done.failed


# -- 4. staged pushes -----------------------------------------------------------------------------------------
def test_failed_canary_stops_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeDriver(fail_checks={"a"}))
    run = Run.new(commit=True)
    res = deploy_many([target(n) for n in "abcd"], commit=True, run=run, canary=2, workers=4,
                      connect=lambda t: FakeConn(t.device))
    assert [r.status for r in res] == ["rolled-back", "changed", "skipped", "skipped"]
    assert sorted(set(NET.connects)) == ["a", "b"]
    summary = json.loads((run.path / "summary.json").read_text())
    assert summary["devices"]["c"]["status"] == "skipped" and not summary["devices"]["c"]["pushed"]
    assert "canary failed" in summary["staging"]["halted"]


def test_good_canary_lets_the_rest_go(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeDriver())
    res = deploy_many([target(n) for n in "abcd"], commit=True, run=Run.new(commit=True), canary=1,
                      connect=lambda t: FakeConn(t.device))
    assert {r.status for r in res} == {"changed"}
    assert NET.connects[0] == "a"  # the canary went first, alone


def test_max_failures_halts_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeDriver(fail_checks={"a", "b"}))
    res = deploy_many([target(n) for n in "abcde"], commit=True, run=Run.new(commit=True), max_failures=2,
                      workers=1, connect=lambda t: FakeConn(t.device))
    assert [r.status for r in res] == ["rolled-back", "rolled-back", "skipped", "skipped", "skipped"]
    assert NET.writes == ["a", "b"]


def test_staging_does_not_apply_to_a_dry_run_and_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeDriver())
    res = deploy_many([target(n) for n in "ab"], commit=False, run=Run.new(commit=False), canary=1, max_failures=1,
                      connect=lambda t: FakeConn(t.device))
    assert {r.status for r in res} == {"would-change"}
    with pytest.raises(CampusnetError) as exc:
        deploy_many([target("a")], commit=True, run=Run.new(commit=True), canary=-1,
                    connect=lambda t: FakeConn(t.device))
    assert exc.value.code == "E474" and "--canary" in str(exc.value)


def test_canary_on_the_nornir_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from campusnet.deploy.run import run_deploy

    drv = fake_everything(monkeypatch)
    drv.fail_checks = {"jpl-b01-as1"}  # the first node in name order: the canary
    s = run_deploy(commit=True, snapshot=CAMPUS, via="nornir", canary=1)
    counts = s.counts()
    assert counts == {"rolled-back": 1, "skipped": len(s.results) - 1}, counts
    assert s.failed and set(NET.writes) == {"jpl-b01-as1"}
    s2 = run_deploy(commit=True, snapshot=CAMPUS, via="nornir", max_failures=1, workers=1)
    assert s2.counts()["skipped"] == len(s2.results) - 1


# -- 4. adjacency post-check ----------------------------------------------------------------------------------
SESSIONS = [{"proto": "ospf", "peer": "10.255.0.2", "node": "core", "direct": True, "stub": False},
            {"proto": "bgp", "peer": "10.255.1.0", "node": "leaf", "direct": True, "stub": False},
            {"proto": "bgp", "peer": "203.0.113.1", "node": "cernet", "direct": True, "stub": True},
            {"proto": "bgp", "peer": "10.255.9.9", "node": "rr", "direct": False, "stub": False}]


def test_which_sessions_the_post_check_waits_for() -> None:
    sessions = [Session(**s) for s in SESSIONS]  # type: ignore[arg-type]
    day0 = {k for k, _ in required_sessions(sessions, {}, set())}
    assert day0 == {"bgp 203.0.113.1"}  # only the lab-made peer: nothing else is configured yet
    settled = {k for k, _ in required_sessions(sessions, {}, {"core", "leaf", "rr"})}
    assert settled == {"ospf 10.255.0.2", "bgp 10.255.1.0", "bgp 203.0.113.1"}  # not the multi-hop one
    before = {"bgp 10.255.9.9": "Established", "ospf 10.255.0.2": "Init/DROther"}
    up_before = {k for k, _ in required_sessions(sessions, before, set())}
    assert up_before == {"bgp 10.255.9.9", "bgp 203.0.113.1"}


def test_a_device_whose_adjacency_does_not_come_back_is_rolled_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "ADJACENCY_TIMEOUT", 0.2)
    up = {"r1": {"ospf 10.255.0.2": "Full/DR", "bgp 10.255.1.0": "Established"}}
    down = {"r1": {"ospf 10.255.0.2": "Full/DR", "bgp 10.255.1.0": "Active"}}
    use(monkeypatch, FakeDriver(adj=up, adj_after=down))
    r = deploy_device(target("r1", adjacencies=SESSIONS[:2]), commit=True, run=Run.new(commit=True),
                      connect=lambda t: FakeConn(t.device))
    assert r.status == "rolled-back" and NET.state["r1"] == "old"
    [msg] = r.post_check_failures
    assert "BGP session 10.255.1.0" in msg and "Active" in msg and "up before the push" in msg
    assert r.adjacencies == {"ospf 10.255.0.2": "Full/DR", "bgp 10.255.1.0": "Active"}


def test_a_session_that_only_has_not_timed_out_yet_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Right after the push a broken session still looks up until its dead interval / hold time passes:
    the check waits that long (hold + 1 s) before it believes it."""
    monkeypatch.setattr(engine, "ADJACENCY_TIMEOUT", 0.5)

    class Dying(FakeDriver):
        reads = 0

        def adjacencies(self, conn: FakeConn) -> dict[str, str]:
            if NET.state.get(conn.device) != "new":
                return {"ospf 10.255.0.2": "Full/DR"}
            self.reads += 1
            return {"ospf 10.255.0.2": "Full/DR" if self.reads < 30 else "Init/DROther"}

    use(monkeypatch, Dying())
    sess = [{**SESSIONS[0], "hold": 0.5}]
    r = deploy_device(target("r1", adjacencies=sess), commit=True, connect=lambda t: FakeConn(t.device))
    assert r.status == "rolled-back" and "Init" in r.post_check_failures[0]


def test_adjacencies_that_come_back_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    up = {"r1": {"ospf 10.255.0.2": "Full/DR"}}
    use(monkeypatch, FakeDriver(adj=up, adj_after=up))
    r = deploy_device(target("r1", adjacencies=SESSIONS[:1]), commit=True, connect=lambda t: FakeConn(t.device))
    assert r.status == "changed" and r.adjacencies == {"ospf 10.255.0.2": "Full/DR"}


def test_day_zero_push_does_not_wait_for_unconfigured_peers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "ADJACENCY_TIMEOUT", 5.0)
    use(monkeypatch, FakeDriver(adj={}, adj_after={}))
    t0 = time.monotonic()
    r = deploy_device(target("r1", adjacencies=SESSIONS[:2]), commit=True, run=Run.new(commit=True),
                      connect=lambda t: FakeConn(t.device))
    assert r.status == "changed" and time.monotonic() - t0 < 2


def test_a_peer_deployed_earlier_in_the_run_is_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "ADJACENCY_TIMEOUT", 0.2)
    use(monkeypatch, FakeDriver(adj={}, adj_after={}))
    run = Run.new(commit=True)
    run.record_device("core", {"status": "changed"})
    r = deploy_device(target("r1", adjacencies=SESSIONS[:1]), commit=True, run=run,
                      connect=lambda t: FakeConn(t.device))
    assert r.status == "rolled-back" and "deployed already in this run" in r.post_check_failures[0]


def test_expected_adjacencies_are_the_sessions_verify_expects() -> None:
    from campusnet.deploy.targets import expected_adjacencies
    from campusnet.pipeline import Pipeline
    from campusnet.verify.expect import expectations

    p = Pipeline.load(snapshot=CAMPUS)
    exps = expectations(p.snapshot, p.plan, p.intents, p.emulations)
    for node in p.plan.nodes:
        got = expected_adjacencies(node.name, p.plan, p.intents, p.emulations)
        for proto, check in (("ospf", "ospf-neighbors"), ("bgp", "bgp-sessions")):
            want = next((set(e.expected) for e in exps if e.node == node.name and e.check == check), set())
            assert {s.peer for s in got if s.proto == proto} == want, (node.name, proto)
    core = {s.peer: s for s in expected_adjacencies("yt-egress-cernet", p.plan, p.intents, p.emulations)}
    assert core["203.0.113.1"].stub and core["10.255.0.2"].node == "yt-core"


def test_frr_adjacency_reader_parses_what_vtysh_prints() -> None:
    from campusnet.deploy.drivers.linux_frr import LinuxFrrDriver

    outputs = {
        "vtysh -c 'show daemons'": " zebra ospfd bgpd staticd",
        "vtysh -c 'show ip ospf neighbor json'": json.dumps(
            {"neighbors": {"10.255.0.2": [{"nbrState": "Full/DR"}]}}),
        "vtysh -c 'show bgp summary json'": json.dumps(
            {"ipv4Unicast": {"peers": {"10.255.1.0": {"state": "Established"}, "10.255.1.2": {"state": "Active"}}}}),
    }

    class Conn:
        device = "r1"

        def run(self, cmd: str, **kw: Any) -> Any:
            from campusnet.deploy.transport import CommandResult

            return CommandResult(cmd, 0, outputs.get(cmd, ""), "")

    got = LinuxFrrDriver().adjacencies(Conn())  # type: ignore[arg-type]
    assert got == {"ospf 10.255.0.2": "Full/DR", "bgp 10.255.1.0": "Established", "bgp 10.255.1.2": "Active"}


# -- 4. SSH host keys -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate()


def _fake_connect(key: paramiko.PKey, calls: list[str]) -> Any:
    def connect(self: paramiko.SSHClient, hostname: str, **kw: Any) -> None:
        calls.append(hostname)
        known = self.get_host_keys().lookup(hostname)
        if known is None:
            self._policy.missing_host_key(self, hostname, key)
        elif known.get(key.get_name()) != key:
            raise paramiko.BadHostKeyException(hostname, key, next(iter(known.values())))

    return connect


def test_unknown_host_key_is_refused_without_retry(monkeypatch: pytest.MonkeyPatch, state: Path,
                                                   host_key: paramiko.PKey) -> None:
    from campusnet.deploy.transport import Connection, Credentials

    monkeypatch.setenv("HOME", str(state))
    calls: list[str] = []
    monkeypatch.setattr(paramiko.SSHClient, "connect", _fake_connect(host_key, calls))
    creds = Credentials.from_environment()
    assert not creds.accept_new and creds.known_hosts == state / "ssh" / "known_hosts"
    with pytest.raises(CampusnetError) as exc:
        Connection("r1", "10.9.9.9", creds).open()
    assert exc.value.code == "E475" and "--accept-new-host-keys" in str(exc.value) and calls == ["10.9.9.9"]
    assert not (state / "ssh" / "known_hosts").exists()


def test_opt_in_learns_the_key_once_and_a_changed_key_is_refused(monkeypatch: pytest.MonkeyPatch, state: Path,
                                                                 host_key: paramiko.PKey) -> None:
    from campusnet.deploy.transport import Connection, Credentials

    monkeypatch.setenv("HOME", str(state))
    calls: list[str] = []
    monkeypatch.setattr(paramiko.SSHClient, "connect", _fake_connect(host_key, calls))
    monkeypatch.setenv("CAMPUSNET_SSH_ACCEPT_NEW", "1")
    Connection("r1", "10.9.9.9", Credentials.from_environment()).open()
    kh = state / "ssh" / "known_hosts"
    assert kh.stat().st_mode & 0o777 == 0o600 and "10.9.9.9" in kh.read_text()
    monkeypatch.delenv("CAMPUSNET_SSH_ACCEPT_NEW")
    Connection("r1", "10.9.9.9", Credentials.from_environment()).open()  # known now: no opt-in needed
    other = paramiko.ECDSAKey.generate()
    monkeypatch.setattr(paramiko.SSHClient, "connect", _fake_connect(other, calls))
    with pytest.raises(CampusnetError) as exc:
        Connection("r1", "10.9.9.9", Credentials.from_environment(accept_new=True)).open()
    assert exc.value.code == "E476"


def test_lab_known_hosts_is_used_when_the_lab_wrote_one(state: Path) -> None:
    from campusnet.deploy.transport import Credentials

    (state / "lab" / "ssh" / "known_hosts").write_text("")
    assert Credentials.from_environment().known_hosts == state / "lab" / "ssh" / "known_hosts"
