"""End to end on the real lab, built from the real NetBox: deploy (Nornir and Ansible), verify (one batch per node),
drift reported and repaired, a failing post-check rolled back. Needs root; tears the lab down at the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from campusnet import settings
from campusnet.deploy.run import run_deploy
from campusnet.deploy.store import latest_backup
from campusnet.deploy.targets import lab_targets
from campusnet.deploy.transport import Connection, Credentials
from campusnet.pipeline import Pipeline
from campusnet.settings import NetBoxTarget
from campusnet.verify.checks import CheckResult
from campusnet.verify.expect import expectations
from campusnet.verify.run import VerifyContext, run_verify

pytestmark = [pytest.mark.integration, pytest.mark.lab]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def snapshot_file(netbox: NetBoxTarget, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from campusnet.sot.reader import read_snapshot

    path = tmp_path_factory.mktemp("e2e") / "campus.json"
    read_snapshot(netbox).save(path)
    return path


@pytest.fixture(scope="module")
def pipe(snapshot_file: Path) -> Iterator[Pipeline]:
    from campusnet.lab.engine import lab_down, lab_up

    p = Pipeline.load(snapshot=snapshot_file)
    lab_up(p.plan)
    try:
        yield p
    finally:
        lab_down()


def _verify(pipe: Pipeline, checks: set[str] | None = None, *, settle: float = 60.0) -> list[CheckResult]:
    exps = [e for e in expectations(pipe.snapshot, pipe.plan, pipe.intents, pipe.emulations)
            if not checks or e.check in checks]
    deadline = time.monotonic() + settle
    while True:
        ctx = VerifyContext(pipe.plan, exps, lab_targets(pipe.plan, pipe.intents, pipe.emulations))
        _rc, results, _path = run_verify(ctx)
        if all(r.passed for r in results) or time.monotonic() > deadline:
            return results
        time.sleep(3)


def _ssh(pipe: Pipeline, node: str, command: str) -> str:
    host = pipe.plan.node(node).mgmt_address
    with Connection(node, host, Credentials.from_environment()) as c:
        return c.run(command, check=True).stdout


def _node_with(pipe: Pipeline, kind: str) -> str:
    targets = lab_targets(pipe.plan, pipe.intents, pipe.emulations)
    for name, t in sorted(targets.items()):
        if kind == "ovs" and t.expected.ovs.strip():
            return name
        if kind == "bgp" and "router bgp" in t.files["frr.conf"]:
            return name
    raise AssertionError(f"no lab node with {kind}")


def test_deploy_converges_and_is_idempotent(pipe: Pipeline) -> None:
    from campusnet.lab.engine import lab_up

    first = run_deploy(commit=True, pipeline=pipe)
    assert not first.failed, first.counts()
    lab_up(pipe.plan)  # re-running `lab up` keeps the nodes and must not undo what deploy configured
    second = run_deploy(commit=True, pipeline=pipe)
    assert set(second.counts()) == {"unchanged"}, second.as_dict()


def test_verification_passes_with_every_kind_of_check(pipe: Pipeline) -> None:
    import glob
    import stat

    from campusnet import settings

    tmp_logs = set(glob.glob("/tmp/*-cli-*.log"))
    results = _verify(pipe)
    failed = [r.message for r in results if not r.passed]
    assert not failed, "\n".join(failed)
    kinds = {r.check for r in results}
    assert {"link-up", "lag-bundled", "ospf-neighbors", "bgp-sessions", "evpn-vnis", "config-sync"} <= kinds
    # the sessions are those the data implies: at least one of each protocol really established
    assert any(r.check == "bgp-sessions" and "Established" in r.found for r in results)
    assert any(r.check == "ospf-neighbors" and "Full" in r.found for r in results)
    # session transcripts (running configs included) stay private in the state directory, one per node
    logs = settings.state_dir() / "verify" / "sessions"
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700
    nodes = {r.device for r in results}
    for node in nodes & {n.name for n in pipe.plan.nodes}:
        for log in (logs / f"{node}.log", logs / f"{node}.json"):  # transcript, and the batch the checks judged
            assert log.exists() and stat.S_IMODE(log.stat().st_mode) == 0o600, log
    latest = json.loads((settings.state_dir() / "verify" / "latest.json").read_text())
    assert latest["nodes"] == len(nodes) and not latest["live_reads"]  # one batch per node, drift reads included
    assert set(glob.glob("/tmp/*-cli-*.log")) == tmp_logs, "pyATS/Unicon wrote session logs to /tmp"


def test_drift_is_reported_and_deploy_brings_it_back(pipe: Pipeline) -> None:
    frr_node, ovs_node = _node_with(pipe, "bgp"), _node_with(pipe, "ovs")
    _ssh(pipe, frr_node, "vtysh -c 'conf t' -c 'ip route 10.99.99.0/24 blackhole'")
    target = lab_targets(pipe.plan, pipe.intents, pipe.emulations)[ovs_node]
    port = next(ln.split()[1] for ln in target.expected.ovs.splitlines()
                if ln.startswith(" port ") and "tag=" in ln)
    _ssh(pipe, ovs_node, f"ovs-vsctl set port {port} tag=3999")

    results = _verify(pipe, {"config-sync"}, settle=0)
    drifted = {r.device: r for r in results if not r.passed}
    assert set(drifted) == {frr_node, ovs_node}
    assert "10.99.99.0/24" in drifted[frr_node].message
    assert "tag=3999" in drifted[ovs_node].message

    fix = run_deploy(commit=True, pipeline=pipe)
    changed = {r.device for r in fix.results if r.status == "changed"}
    assert changed == {frr_node, ovs_node}, fix.counts()
    assert all(r.passed for r in _verify(pipe, {"config-sync"}, settle=0))


def test_failing_post_check_rolls_the_device_back(pipe: Pipeline) -> None:
    node = _node_with(pipe, "bgp")
    _ssh(pipe, node, "vtysh -c 'conf t' -c 'ip route 10.99.98.0/24 blackhole'")  # a change for deploy to make
    before = _ssh(pipe, node, "vtysh -c 'show running-config'")
    s = run_deploy(commit=True, pipeline=pipe, limit=[node], fail_post_check_on=frozenset({node}))
    [r] = s.results
    assert r.status == "rolled-back", r
    assert "forced post-check failure" in r.post_check_failures[-1]
    after = _ssh(pipe, node, "vtysh -c 'show running-config'")
    assert "10.99.98.0/24" in after  # the pre-deploy state is back, drift included
    strip = lambda t: [ln for ln in t.splitlines() if not ln.startswith(("Building", "Current"))]  # noqa: E731
    assert strip(after) == strip(before)
    backup = latest_backup(node)
    assert backup is not None and "10.99.98.0/24" in backup.read_text()
    summary = json.loads((s.run.path / "summary.json").read_text())
    assert summary["devices"][node]["status"] == "rolled-back"
    # and a normal deploy repairs it
    assert not run_deploy(commit=True, pipeline=pipe, limit=[node]).failed


def test_ansible_deploy_converges_to_the_same_state(pipe: Pipeline, snapshot_file: Path) -> None:
    node = _node_with(pipe, "bgp")
    _ssh(pipe, node, "vtysh -c 'conf t' -c 'ip route 10.99.97.0/24 blackhole'")
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "CAMPUSNET_STATE": str(settings.state_dir())}
    bindir = Path(sys.executable).parent
    r = subprocess.run([str(bindir / "ansible-playbook"), "-i", "localhost,", "playbooks/deploy.yml",
                        "-e", "campusnet_commit=true", "-e", f"campusnet_snapshot={snapshot_file}"],
                       cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    # Nornir sees nothing left to do: both paths end in the same state
    again = run_deploy(commit=True, pipeline=pipe)
    assert set(again.counts()) == {"unchanged"}, again.as_dict()
    assert "10.99.97.0/24" not in _ssh(pipe, node, "vtysh -c 'show running-config'")


def test_rollback_undoes_a_deploy_run(pipe: Pipeline) -> None:
    """`campusnet rollback --run R`: the devices R changed go back to the backups R took, proven."""
    from campusnet.deploy.rollback import run_rollback
    from campusnet.errors import CampusnetError

    assert not run_deploy(commit=True, pipeline=pipe).failed  # converged to start with
    node = _node_with(pipe, "bgp")
    _ssh(pipe, node, "vtysh -c 'conf t' -c 'ip route 10.99.96.0/24 blackhole'")  # the state before run R
    r = run_deploy(commit=True, pipeline=pipe, limit=[node])
    assert r.counts() == {"changed": 1}, r.as_dict()
    assert "10.99.96.0/24" not in _ssh(pipe, node, "vtysh -c 'show running-config'")

    dry = run_rollback(r.run.run_id, commit=False)
    assert [(x.device, x.status) for x in dry.results] == [(node, "would-restore")]
    assert "+ip route 10.99.96.0/24 blackhole" in dry.results[0].diff
    done = run_rollback(r.run.run_id, commit=True)
    assert [(x.device, x.status) for x in done.results] == [(node, "restored")], done.as_dict()
    assert done.results[0].pre_rollback_backup  # what it was before the rollback is kept too
    assert "10.99.96.0/24" in _ssh(pipe, node, "vtysh -c 'show running-config'")
    assert run_rollback(r.run.run_id, commit=True).results[0].status == "unchanged"  # idempotent

    with pytest.raises(CampusnetError) as exc:
        run_rollback("20000101T000000Z-nope", commit=False)
    assert exc.value.code == "E460" and "--run" in str(exc.value)
    # and a deploy takes the node back to what NetBox says
    assert not run_deploy(commit=True, pipeline=pipe, limit=[node]).failed
    assert "10.99.96.0/24" not in _ssh(pipe, node, "vtysh -c 'show running-config'")
