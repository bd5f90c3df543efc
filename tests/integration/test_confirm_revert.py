"""Commit-confirm on the real lab (issue 11): the device reverts by itself when the controller disappears.

The revert drill: `campusnet deploy --commit --confirm-timeout 15 --limit <node>` runs as an operator would
run it, with a real change to push (a static route NetBox does not have, put on the node by hand: the
deploy removes it). The drill point ``after-apply`` (campusnet/deploy/drill.py) holds the controller right
after the push; the test checks the node has the change and a live timer, then SIGKILLs the controller.
Nothing else touches the node: after the timer, its running state (driver.running, normalised) must equal
the backup the deploy took before the push. A deploy whose timer never started leaves the node as intended
and fails the drill. The control: a normal deploy with the timer confirms (the node keeps the change past
the timer, and no timer process or file is left).

Real lab, real SSH, real NetBox (a snapshot read from it); wrap in ``flock /tmp/campusnet-lab.lock``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from campusnet import settings
from campusnet.deploy import drill
from campusnet.deploy.drivers import driver_for
from campusnet.deploy.drivers.linux_frr import CONFIRM_DIR
from campusnet.deploy.engine import DeployTarget, normalised_diff
from campusnet.deploy.run import run_deploy
from campusnet.deploy.targets import lab_targets
from campusnet.deploy.transport import Connection, Credentials
from campusnet.pipeline import Pipeline
from campusnet.settings import NetBoxTarget

pytestmark = [pytest.mark.integration, pytest.mark.lab]

REPO = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).parent / "campusnet"
NODE = "yt-dc-spine2"  # a BGP router no other drill uses
TIMER = 15
DRIFT = "10.99.95.0/24"


@pytest.fixture(scope="module")
def snapshot_file(netbox: NetBoxTarget, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from campusnet.sot.reader import read_snapshot

    path = tmp_path_factory.mktemp("confirm") / "campus.json"
    read_snapshot(netbox).save(path)
    return path


@pytest.fixture(scope="module")
def pipe(snapshot_file: Path) -> Iterator[Pipeline]:
    """The lab up (reused when it is), the drill node deployed as intended before and after."""
    from campusnet.lab.engine import lab_down, lab_status, lab_up

    was_up = lab_status().running
    p = Pipeline.load(snapshot=snapshot_file)
    if not was_up:
        lab_up(p.plan)
    try:
        _converge(p)
        yield p
    finally:
        try:
            _converge(p)
        finally:
            if not was_up:
                lab_down()


def _target(pipe: Pipeline) -> DeployTarget:
    return lab_targets(pipe.plan, pipe.intents, pipe.emulations, only=[NODE])[NODE]


def _running(pipe: Pipeline) -> str:
    t = _target(pipe)
    with Connection(NODE, t.host, Credentials.from_environment()) as c:
        return driver_for(t.driver).running(c)


def _differs(pipe: Pipeline, want: str) -> str:
    return normalised_diff(driver_for(_target(pipe).driver), _running(pipe), want, "now", "want")


def _as_intended(pipe: Pipeline) -> str:
    t = _target(pipe)
    with Connection(NODE, t.host, Credentials.from_environment()) as c:
        drv = driver_for(t.driver)
        return drv.diff(c, t.files, drv.running(c), t)


def _converge(pipe: Pipeline) -> None:
    s = run_deploy(commit=True, pipeline=pipe, limit=[NODE], confirm_timeout=0)
    assert not s.failed, s.as_dict()


def _drift() -> None:
    from campusnet.lab.engine import node_exec

    node_exec(NODE, ["vtysh", "-c", "conf t", "-c", f"ip route {DRIFT} blackhole"])


def _confirm_dir() -> Path:
    """The node's timer directory as the host sees it (the node's /etc/frr is <lab>/<node>/etc)."""
    from campusnet.lab.engine import node_dir

    return node_dir(NODE) / "etc" / Path(CONFIRM_DIR).relative_to("/etc/frr")


def _timer_processes(pipe: Pipeline) -> list[int]:
    """The node's timer processes (its namespace's processes running timer.sh)."""
    from campusnet.lab.engine import _ns_pids

    out = []
    for pid in _ns_pids(pipe.plan.node(NODE).ns):
        try:
            if b"timer.sh" in Path(f"/proc/{pid}/cmdline").read_bytes():
                out.append(pid)
        except OSError:
            continue
    return out


def _deploy(snapshot: Path, *, points: str | None) -> subprocess.Popen[str]:
    env = {**os.environ, "CAMPUSNET_STATE": str(settings.state_dir())}
    env.pop(drill.ENV, None)
    if points:
        env[drill.ENV] = points
        env[drill.TIMEOUT_ENV] = "90"
    args = ["deploy", "--commit", "--snapshot", str(snapshot), "--limit", NODE, "--confirm-timeout", str(TIMER),
            "--json", "--no-diff"]
    return subprocess.Popen([str(CLI), *args], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _record(run_id: str) -> dict[str, Any]:
    path = settings.state_dir() / "runs" / run_id / "devices" / f"{NODE}.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _latest_run_with_node(since: float) -> str:
    runs = [d for d in (settings.state_dir() / "runs").iterdir()
            if d.stat().st_mtime >= since and (d / "devices" / f"{NODE}.json").exists()]
    assert runs, "the deploy left no run record for the node"
    return max(runs, key=lambda d: d.stat().st_mtime).name


def test_node_reverts_by_itself_when_the_controller_is_killed(pipe: Pipeline, snapshot_file: Path) -> None:
    _drift()
    before = _running(pipe)
    assert DRIFT in before
    drill.clear("after-apply", NODE)
    started = time.time()
    p = _deploy(snapshot_file, points=f"after-apply:{NODE}")
    try:
        assert drill.wait_reached("after-apply", NODE, timeout=120), "the deploy never finished its push"
        pushed = time.monotonic()
        assert not _as_intended(pipe), "the push did not take: nothing to revert"
        assert (_confirm_dir() / "timer.pid").exists() and _timer_processes(pipe), "no revert timer on the node"
        p.kill()  # SIGKILL: no rollback, no confirm, no record written after this
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
    rec = _record(_latest_run_with_node(started))
    assert rec["confirm"] == "pending" and rec["confirm_timeout"] == TIMER and rec["pushed"], rec
    assert "reverts by itself" in rec["error"] and rec["reverts_at"], rec

    deadline = pushed + TIMER + 45
    left = "?"
    while time.monotonic() < deadline:
        left = _differs(pipe, before)
        if not left:
            break
        time.sleep(1)
    back_after = time.monotonic() - pushed
    assert not left, f"the node did not revert by itself within {TIMER + 45} s; still different:\n{left}"
    log = (_confirm_dir() / "revert.log").read_text()
    stamps = {ln.split()[0]: float(ln.split()[1]) for ln in log.splitlines()
              if ln.split() and ln.split()[0] in ("armed", "revert-start", "revert-end")}
    assert set(stamps) == {"armed", "revert-start", "revert-end"} and "rc=0" in log, log
    # the timer's work: it fired TIMER s after it was armed (before the push's first write), and the node is
    # back because of it, not because of anything else
    assert stamps["revert-start"] - stamps["armed"] >= TIMER - 0.5, log
    assert not _timer_processes(pipe)
    print(f"\n[confirm-revert] back as before {back_after:.1f} s after the push ended (timer {TIMER} s from "
          f"arming); revert took {stamps['revert-end'] - stamps['revert-start']:.2f} s")


def test_a_deploy_with_the_timer_confirms_and_the_change_stays(pipe: Pipeline, snapshot_file: Path) -> None:
    _drift()
    assert _as_intended(pipe)
    p = _deploy(snapshot_file, points=None)
    out, err = p.communicate(timeout=240)
    assert p.returncode == 0, (out[-2000:], err[-2000:])
    data = json.loads(out[out.index("{"):])
    rec = data["devices"][NODE]
    assert rec["status"] == "changed" and rec["confirm"] == "confirmed", rec
    assert rec["confirm_timeout"] == TIMER and rec["reverts_at"] is None, rec
    assert not _confirm_dir().exists() and not _timer_processes(pipe), "a timer was left after the confirm"
    time.sleep(TIMER + 3)  # past the timer: the change is still there
    assert not _as_intended(pipe), "the change did not stay after the confirm"
