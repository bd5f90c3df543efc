"""Deploy safety on the real lab (issue 9, section 4): a push that breaks a routing adjacency the intent
implies is rolled back by the post-check, and the session comes back; unknown SSH host keys are refused
unless the user opts in; a second deploy on locked devices is refused. Real NetBox, real SSH, real FRR.

Needs root; wrap in ``flock /tmp/campusnet-lab.lock``. Leaves the lab up if it found it up."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from campusnet.deploy import engine
from campusnet.deploy.engine import DeployTarget, deploy_many, read_adjacencies
from campusnet.deploy.store import Run
from campusnet.deploy.targets import lab_targets
from campusnet.deploy.transport import Connection, Credentials
from campusnet.errors import CampusnetError
from campusnet.pipeline import Pipeline
from campusnet.settings import NetBoxTarget

pytestmark = [pytest.mark.integration, pytest.mark.lab]


@pytest.fixture(scope="module")
def pipe(netbox: NetBoxTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    from campusnet.deploy.run import run_deploy
    from campusnet.lab import lab_status
    from campusnet.lab.engine import lab_down, lab_up
    from campusnet.sot.reader import read_snapshot

    path = tmp_path_factory.mktemp("safety") / "campus.json"
    read_snapshot(netbox).save(path)
    p = Pipeline.load(snapshot=path)
    was_up = bool(lab_status().nodes)
    lab_up(p.plan)
    try:
        first = run_deploy(commit=True, pipeline=p)  # converged to start with (adjacency post-checks included)
        assert not first.failed, first.as_dict()
        yield p
    finally:
        if not was_up:
            lab_down()


def _sessions(pipe: Pipeline, node: str, proto: str) -> list[str]:
    t = lab_targets(pipe.plan, pipe.intents, pipe.emulations, only=[node])[node]
    return [s.peer for s in t.expected.sessions if s.proto == proto]


def _adjacencies(node: str, host: str) -> dict[str, str]:
    from campusnet.deploy.drivers import driver_for

    with Connection(node, host, Credentials.from_environment()) as c:
        return read_adjacencies(driver_for("linux-frr"), c)


def _running_frr(node: str, host: str) -> str:
    with Connection(node, host, Credentials.from_environment()) as c:
        out = c.run("vtysh -c 'show running-config'", check=True).stdout
    return "\n".join(ln for ln in out.splitlines() if not ln.startswith(("Building", "Current")))


def _wait_up(node: str, host: str, key: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        state = _adjacencies(node, host).get(key, "absent")
        if engine.adjacency_up(key, state) or time.monotonic() > deadline:
            return state
        time.sleep(1)


def test_a_push_that_breaks_a_bgp_session_is_rolled_back(pipe: Pipeline) -> None:
    node = "yt-dc-leaf3"
    t = lab_targets(pipe.plan, pipe.intents, pipe.emulations, only=[node])[node]
    peer = _sessions(pipe, node, "bgp")[0]
    key = f"bgp {peer}"
    assert engine.adjacency_up(key, _wait_up(node, t.host, key)), "the session must be up before the test"
    before = _running_frr(node, t.host)
    # the "bad change": the peer's remote AS is wrong, so the session can never come back
    frr = re.sub(rf"(neighbor {re.escape(peer)} remote-as )(\d+)", lambda m: m.group(1) + "64999",
                 t.files["frr.conf"])
    assert frr != t.files["frr.conf"]
    bad = t.model_copy(update={"files": {**t.files, "frr.conf": frr}})
    run = Run.new(commit=True)
    t0 = time.monotonic()
    [r] = deploy_many([bad], commit=True, run=run, workers=1)
    assert r.status == "rolled-back", r
    assert r.pushed and any(f"BGP session {peer}" in f and "up before the push" in f for f in r.post_check_failures)
    assert time.monotonic() - t0 < engine.ADJACENCY_TIMEOUT + 60  # bounded wait
    assert r.adjacencies[key] != "Established"
    assert _running_frr(node, t.host) == before  # the device is as it was
    assert engine.adjacency_up(key, _wait_up(node, t.host, key)), "the session came back after the rollback"


def test_a_push_that_breaks_an_ospf_adjacency_is_rolled_back(pipe: Pipeline) -> None:
    node = "jpl-core"
    t = lab_targets(pipe.plan, pipe.intents, pipe.emulations, only=[node])[node]
    [rid] = _sessions(pipe, node, "ospf")
    key = f"ospf {rid}"
    assert engine.adjacency_up(key, _wait_up(node, t.host, key))
    # every OSPF interface made passive: no hellos, the neighbour times out (dead interval 4 s in the lab)
    frr = re.sub(r"(?m)^ ip ospf network point-to-point$", " ip ospf network point-to-point\n ip ospf passive",
                 t.files["frr.conf"])
    assert frr != t.files["frr.conf"]
    [r] = deploy_many([t.model_copy(update={"files": {**t.files, "frr.conf": frr}})], commit=True,
                      run=Run.new(commit=True), workers=1)
    assert r.status == "rolled-back", r
    assert any(f"OSPF neighbour {rid}" in f for f in r.post_check_failures), r.post_check_failures
    assert engine.adjacency_up(key, _wait_up(node, t.host, key))


def test_unknown_host_key_is_refused_unless_opted_in(pipe: Pipeline, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    node = "yt-dc-leaf4"
    host = pipe.plan.node(node).mgmt_address
    kh = tmp_path / "known_hosts"
    monkeypatch.setenv("CAMPUSNET_SSH_KNOWN_HOSTS", str(kh))
    monkeypatch.setenv("HOME", str(tmp_path))  # not the user's own known_hosts either
    with pytest.raises(CampusnetError) as exc:
        Connection(node, host, Credentials.from_environment()).open()
    assert exc.value.code == "E475" and host in str(exc.value)
    with Connection(node, host, Credentials.from_environment(accept_new=True)) as c:
        assert c.run("true").ok
    assert host in kh.read_text()
    with Connection(node, host, Credentials.from_environment()) as c:  # learnt: no opt-in needed now
        assert c.run("true").ok


def test_a_second_deploy_on_locked_devices_is_refused(pipe: Pipeline) -> None:
    from campusnet.deploy import lock
    from campusnet.deploy.run import run_deploy

    with lock.acquire(["yt-dc-leaf4"], run_id="HOLDER", action="deploy"):
        with pytest.raises(CampusnetError) as exc:
            run_deploy(commit=True, pipeline=pipe, limit=["yt-dc-leaf3", "yt-dc-leaf4"])
        assert exc.value.code == "E472" and "HOLDER" in str(exc.value)
    s = run_deploy(commit=True, pipeline=pipe, limit=["yt-dc-leaf3", "yt-dc-leaf4"])
    assert set(s.counts()) == {"unchanged"}, s.as_dict()


def test_targets_have_the_sessions_verify_expects(pipe: Pipeline) -> None:
    """The post-check and verify judge the same sessions; every target carries them."""
    targets: dict[str, DeployTarget] = lab_targets(pipe.plan, pipe.intents, pipe.emulations)
    assert any(t.expected.sessions for t in targets.values())
