"""Fault drills on the real lab (issue 9): faults hit a deploy or a rollback at exact moments.

Each drill ends with every device either as it was before the drill or as intended, and checks both the
device's real state (read over SSH with the deploy driver, or inside its namespace) and the run record
(``<state>/runs/<run>/summary.json``, ``devices/<node>.json``) saying which. Deploys and rollbacks run as
``campusnet`` processes, as an operator would run them; the exact moments come from the drill points of
``campusnet/deploy/drill.py`` (``CAMPUSNET_DRILL``). docs/reliability.md section 7 lists them.

The lab is reused when it is up (and left up, deployed as intended); otherwise it is built and torn down.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from campusnet import settings
from campusnet.deploy import drill
from campusnet.deploy.drivers import driver_for
from campusnet.deploy.engine import DeployTarget, normalised_diff
from campusnet.deploy.run import run_deploy
from campusnet.deploy.targets import lab_targets
from campusnet.deploy.transport import Connection, Credentials
from campusnet.pipeline import Pipeline
from campusnet.settings import NetBoxTarget

pytestmark = [pytest.mark.integration, pytest.mark.lab]

REPO = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).parent / "campusnet"


# ---- fixtures ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def snapshot_file(netbox: NetBoxTarget, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from campusnet.sot.reader import read_snapshot

    path = tmp_path_factory.mktemp("drills") / "campus.json"
    read_snapshot(netbox).save(path)
    return path


@pytest.fixture(scope="module")
def pipe(snapshot_file: Path) -> Iterator[Pipeline]:
    """The lab as NetBox says, deployed as intended before the first drill."""
    from campusnet.lab.engine import lab_down, lab_status, lab_up

    was_up = lab_status().running
    p = Pipeline.load(snapshot=snapshot_file)
    lab_up(p.plan)
    try:
        first = run_deploy(commit=True, pipeline=p)
        assert not first.failed, first.as_dict()
        yield p
    finally:
        if not was_up:
            lab_down()


# ---- helpers -------------------------------------------------------------------------------------------
def _target(pipe: Pipeline, node: str) -> DeployTarget:
    return lab_targets(pipe.plan, pipe.intents, pipe.emulations, only=[node])[node]


def _running(pipe: Pipeline, node: str) -> str:
    """The node's whole running state as the deploy driver reads it (FRR, OVS, links, addresses, VPN)."""
    t = _target(pipe, node)
    with Connection(node, t.host, Credentials.from_environment()) as c:
        return driver_for(t.driver).running(c)


def _as_before(pipe: Pipeline, node: str, before: str) -> str:
    """What differs from the state before the drill (empty: as before)."""
    return normalised_diff(driver_for(_target(pipe, node).driver), _running(pipe, node), before, "now", "before")


def _as_intended(pipe: Pipeline, node: str) -> str:
    """What differs from the intent (empty: as intended)."""
    t = _target(pipe, node)
    with Connection(node, t.host, Credentials.from_environment()) as c:
        drv = driver_for(t.driver)
        return drv.diff(c, t.files, drv.running(c), t)


def _vtysh(node: str, *commands: str) -> str:
    """Inside the node's namespaces, not over SSH (a drill may have killed its sshd)."""
    from campusnet.lab.engine import node_exec

    argv = ["vtysh"]
    for c in commands:
        argv += ["-c", c]
    return node_exec(node, argv)


def _drift(node: str, prefix: str) -> None:
    """A change for deploy to make: a static route NetBox does not have."""
    _vtysh(node, "conf t", f"ip route {prefix} blackhole")


def _env(points: str | None = None) -> dict[str, str]:
    env = {**os.environ, "CAMPUSNET_STATE": str(settings.state_dir())}
    env.pop(drill.ENV, None)
    if points:
        env[drill.ENV] = points
        env[drill.TIMEOUT_ENV] = "90"
    return env


def _start(*args: str, points: str | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([str(CLI), *args], cwd=REPO, env=_env(points), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(p: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def _deploy(snapshot: Path, *nodes: str) -> list[str]:
    args = ["deploy", "--commit", "--snapshot", str(snapshot), "--json", "--no-diff"]
    for n in nodes:
        args += ["--limit", n]
    return args


def _run_id(out: str) -> str:
    """The run id from ``--json`` output (the summary is the last JSON object printed)."""
    data = json.loads(out[out.index("{"):])
    return str(data["run_id"])


def _record(run_id: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The run record: summary.json, and every devices/<node>.json."""
    path = settings.state_dir() / "runs" / run_id
    summary = json.loads((path / "summary.json").read_text())
    devices = {f.stem: json.loads(f.read_text()) for f in sorted((path / "devices").glob("*.json"))}
    return summary, devices


def _no_traceback(out: str, err: str) -> None:
    assert "Traceback" not in out + err, (out + err)[-3000:]


def _converge(pipe: Pipeline, node: str) -> None:
    """Back to intended after a drill (and proven)."""
    s = run_deploy(commit=True, pipeline=pipe, limit=[node])
    assert not s.failed, s.as_dict()
    assert not _as_intended(pipe, node)


def _ospf_full(node: str) -> int:
    data = json.loads(_vtysh(node, "show ip ospf neighbor json") or "{}")
    return sum(1 for ns in data.get("neighbors", {}).values() for n in ns
               if str(n.get("nbrState", n.get("state", ""))).startswith("Full"))


def _bgp_established(node: str) -> int:
    data = json.loads(_vtysh(node, "show bgp summary json") or "{}")
    peers = data.get("ipv4Unicast", {}).get("peers", {})
    return sum(1 for p in peers.values() if p.get("state") == "Established")


def _wait(fn: Any, want: int, timeout: float = 40.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        got = int(fn())
        if got >= want or time.monotonic() > deadline:
            return got
        time.sleep(1)


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _bgp_node(pipe: Pipeline, exclude: set[str]) -> str:
    for name, t in sorted(lab_targets(pipe.plan, pipe.intents, pipe.emulations).items()):
        if name not in exclude and "router bgp" in t.files["frr.conf"] and t.expected.up:
            return name
    raise AssertionError("no lab node with BGP and cabled interfaces")


# ---- the drills ----------------------------------------------------------------------------------------
def test_drill_sshd_killed_mid_push(pipe: Pipeline, snapshot_file: Path) -> None:
    """Drill 1: the node's sshd (listener and sessions) is killed while its push runs and comes back ~2 s
    later: the automatic rollback reconnects and restores (rolled-back, state as before) — or the device
    ends as intended (changed); the record says which."""
    from campusnet.lab.engine import _node_services, _ns_pids, node_dir

    node = "yt-dc-spine1"
    _drift(node, "10.99.90.0/24")
    before = _running(pipe, node)
    ns = pipe.plan.node(node).ns
    drill.clear("before-apply", node)
    from campusnet.deploy.drivers.linux_frr import REMOTE_DIR

    # the node's /etc/frr is <lab>/<node>/etc on the host: the push's upload is visible from here
    candidate = node_dir(node) / "etc" / Path(REMOTE_DIR).relative_to("/etc/frr") / "candidate" / "frr.conf"
    p = _start(*_deploy(snapshot_file, node), points=f"before-apply:{node}")
    try:
        assert drill.wait_reached("before-apply", node, timeout=120), "the deploy never reached the push"
        candidate.unlink(missing_ok=True)
        drill.release("before-apply", node)
        # the push has put its net.sh/ovs.sh through and is uploading/reloading FRR: kill every sshd then
        deadline = time.monotonic() + 60
        while not candidate.exists():
            assert time.monotonic() < deadline, "the push never uploaded frr.conf"
            time.sleep(0.01)
        sshd = [pid for pid in _ns_pids(ns) if _comm(pid) == "sshd"]
        assert sshd
        for pid in sshd:
            os.kill(pid, signal.SIGKILL)
        restart = threading.Timer(2.0, lambda: _node_services(pipe.plan.node(node)))  # as lab up starts it
        restart.start()
        rc, out, err = _finish(p)
        restart.join()
    finally:
        if p.poll() is None:
            p.kill()
    _no_traceback(out, err)
    summary, devices = _record(_run_id(out))
    status = devices[node]["status"]
    assert summary["devices"][node]["status"] == status
    if status == "rolled-back":
        assert rc == 1
        assert "E412" in str(devices[node].get("error")), devices[node]  # the record names the SSH drop
        assert not _as_before(pipe, node, before), "record says rolled-back, the node is not as before"
        assert "10.99.90.0/24" in _vtysh(node, "show running-config")
    else:
        assert status == "changed", (status, devices[node].get("error"))
        assert rc == 0
        assert not _as_intended(pipe, node), "record says changed, the node is not as intended"
    _converge(pipe, node)


def test_drill_link_down_between_push_and_post_check(pipe: Pipeline, snapshot_file: Path) -> None:
    """Drill 2: a cabled interface goes down after the push, before the post-checks: they fail, the node is
    rolled back (as before), the record says rolled-back and names the interface; the link comes back."""
    node = _bgp_node(pipe, {"yt-dc-spine1"})
    iface = _target(pipe, node).expected.up[0]
    ns = pipe.plan.node(node).ns
    peers = _bgp_established(node)
    _drift(node, "10.99.91.0/24")
    before = _running(pipe, node)
    drill.clear("after-apply", node)
    p = _start(*_deploy(snapshot_file, node), points=f"after-apply:{node}")
    try:
        assert drill.wait_reached("after-apply", node, timeout=120), "the deploy never finished its push"
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", iface, "down"], check=True)
        drill.release("after-apply", node)
        rc, out, err = _finish(p)
    finally:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", iface, "up"], check=True)
        if p.poll() is None:
            p.kill()
    _no_traceback(out, err)
    summary, devices = _record(_run_id(out))
    rec = devices[node]
    assert rec["status"] == "rolled-back", rec
    assert summary["devices"][node]["status"] == "rolled-back"
    assert any(iface in f for f in rec["post_check_failures"]), rec["post_check_failures"]
    assert rc == 1
    assert not _as_before(pipe, node, before), "record says rolled-back, the node is not as before"
    assert _wait(lambda: _bgp_established(node), peers) >= peers  # the link is back, so are its sessions
    _converge(pipe, node)


def test_drill_two_deploys_at_once(pipe: Pipeline, snapshot_file: Path) -> None:
    """Drill 3: while a `deploy --commit` stands just before its push, a second one on the same node refuses
    with the lock error (E472 naming the node and the holder) and touches nothing; a third with `--wait`
    waits, then runs after the first and finds nothing left to do. Never interleaved; final = intended."""
    node = "yt-dc-leaf1"
    _drift(node, "10.99.92.0/24")
    before = _running(pipe, node)
    drill.clear("before-apply", node)
    first = _start(*_deploy(snapshot_file, node), points=f"before-apply:{node}")
    waiter: subprocess.Popen[str] | None = None
    try:
        assert drill.wait_reached("before-apply", node, timeout=120)
        rc2, out2, err2 = _finish(_start(*_deploy(snapshot_file, node)), timeout=60)
        _no_traceback(out2, err2)
        text = " ".join(err2.split())
        assert rc2 == 2 and "E472" in text and node in text and "deploy run" in text, (rc2, out2[-1500:], text)
        assert not _as_before(pipe, node, before)  # the refused one touched nothing, the first has not pushed
        waiter = _start(*_deploy(snapshot_file, node), "--wait", "120")
        time.sleep(3)
        assert waiter.poll() is None, "the --wait deploy did not wait for the lock"
        drill.release("before-apply", node)
        rc1, out1, err1 = _finish(first)
        rc3, out3, err3 = _finish(waiter)
    finally:
        for proc in (first, waiter):
            if proc is not None and proc.poll() is None:
                proc.kill()
    for out, err in ((out1, err1), (out3, err3)):
        _no_traceback(out, err)
    assert rc1 == 0, (out1[-2000:], err1[-2000:])
    summary, dev1 = _record(_run_id(out1))
    assert dev1[node]["status"] == summary["devices"][node]["status"] == "changed"
    assert rc3 == 0, (out3[-2000:], err3[-2000:])
    _, dev3 = _record(_run_id(out3))
    assert dev3[node]["status"] == "unchanged", dev3  # it ran after the first: nothing left to push
    first_recorded = (settings.state_dir() / "runs" / _run_id(out1) / "devices" / f"{node}.json").stat().st_mtime
    assert Path(dev3[node]["backup"]).stat().st_mtime >= first_recorded  # it read the node only then
    assert not _as_intended(pipe, node)


def test_drill_corrupt_run_record_then_rollback(pipe: Pipeline, snapshot_file: Path) -> None:
    """Drill 4: a run record with a truncated summary.json, a truncated devices/<node>.json, its backup gone
    or its backup truncated: `rollback --run R --commit` stops with a coded error naming the file, exit 2, no
    traceback, and pushes nothing. With the record intact again the same rollback works."""
    node = "yt-dc-leaf2"
    _drift(node, "10.99.93.0/24")
    rc, out, err = _finish(_start(*_deploy(snapshot_file, node)))
    assert rc == 0, (out[-2000:], err[-2000:])
    run_id = _run_id(out)
    run_dir = settings.state_dir() / "runs" / run_id
    _, devices = _record(run_id)
    assert devices[node]["status"] == "changed"
    backup = Path(devices[node]["backup"])
    after_deploy = _running(pipe, node)

    cases = [(run_dir / "summary.json", "truncate"), (run_dir / "devices" / f"{node}.json", "truncate"),
             (backup, "delete"), (backup, "truncate")]
    problems: list[str] = []
    try:
        for path, how in cases:
            saved = path.read_bytes()
            runs_before = set((settings.state_dir() / "runs").iterdir())
            if how == "truncate":
                path.write_bytes(saved[: len(saved) // 2])
            else:
                path.unlink()
            try:
                rc, out, err = _finish(_start("rollback", "--run", run_id, "--commit"), timeout=120)
            finally:
                path.write_bytes(saved)
                path.chmod(0o600)
            case = f"{how} {path.name}"
            text = " ".join(err.split())
            if "Traceback" in out + err:
                problems.append(f"{case}: a traceback")
            if rc != 2 or "E999" in text or path.name not in text:
                problems.append(f"{case}: exit {rc}, not a coded error naming the file: {text[-300:]!r}")
            # nothing pushed: the node is as the deploy left it, and no rollback run restored anything
            restored = [f for new in set((settings.state_dir() / "runs").iterdir()) - runs_before
                        for f in (new / "devices").glob("*.json")
                        if json.loads(f.read_text()).get("status") == "restored"]
            if restored or _as_before(pipe, node, after_deploy):
                problems.append(f"{case}: the rollback pushed ({', '.join(str(f) for f in restored)})")
                _converge(pipe, node)
        assert not problems, "\n".join(problems)

        rc, out, err = _finish(_start("rollback", "--run", run_id, "--commit"), timeout=120)  # the control
        _no_traceback(out, err)
        assert rc == 0, (out[-1500:], err[-1500:])
        assert "10.99.93.0/24" in _vtysh(node, "show running-config")
    finally:
        _converge(pipe, node)


def test_drill_adjacency_post_check_rolls_back(pipe: Pipeline, snapshot_file: Path, tmp_path: Path) -> None:
    """Drill 5: a deploy from data whose OSPF area is wrong for one router (its neighbours stay in 0.0.0.0):
    FRR takes the config, but the adjacencies do not come back. That router is rolled back (its OSPF
    neighbours Full again), the record says rolled-back and names the adjacency; its neighbour, deployed in
    the same run, is unchanged."""
    node, neighbour = "yt-egress-cernet", "yt-core"
    data = json.loads(snapshot_file.read_text())
    [dev] = [d for d in data["devices"] if d["name"] == node]
    assert dev["config_context"]["ospf"]["area"] == "0.0.0.0"  # noqa: S104 - an OSPF area
    dev["config_context"]["ospf"]["area"] = "0.0.0.1"
    bad = tmp_path / "wrong-area.json"
    bad.write_text(json.dumps(data))
    full = _ospf_full(node)
    assert full >= 1
    before = {n: _running(pipe, n) for n in (node, neighbour)}

    rc, out, err = _finish(_start(*_deploy(bad, node, neighbour)))
    _no_traceback(out, err)
    summary, devices = _record(_run_id(out))
    rec = devices[node]
    assert rec["status"] == summary["devices"][node]["status"] == "rolled-back", rec
    failures = " ".join(rec.get("post_check_failures") or [])
    assert "ospf" in failures.lower(), failures
    assert devices[neighbour]["status"] == "unchanged", devices[neighbour]
    assert rc == 1
    for n in (node, neighbour):
        assert not _as_before(pipe, n, before[n]), n
    assert _wait(lambda: _ospf_full(node), full) >= full
    assert not _as_intended(pipe, node)
