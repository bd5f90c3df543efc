"""Verify collects once per node and judges in-process: recorded batches (tests/fixtures/verify/<node>.json,
provenance inside each) of three lab nodes, judged against the recorded campus snapshot with no network.

Every check kind passes on the recorded state, and each fails, naming the node and what was found, on a
corrupted copy. The batch script itself runs here under the local ``sh``.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from campusnet.errors import CampusnetError
from campusnet.verify.checks import CheckResult, show_command
from campusnet.verify.collect import NodeState, ReplayConnection, batch_script, parse_batch_output
from campusnet.verify.expect import Expectation

FIX = Path(__file__).resolve().parents[1] / "fixtures"
NODES = ("jpl-core", "yt-dc-leaf1", "jpl-b01-user1")
FRR_RELOAD = Path("/usr/lib/frr/frr-reload.py")
needs_frr_reload = pytest.mark.skipif(not FRR_RELOAD.exists() or not shutil.which("vtysh"),
                                      reason="the drift check diffs with FRR's frr-reload.py on this machine")


@pytest.fixture(scope="module")
def pipe() -> Any:
    from campusnet.pipeline import Pipeline

    return Pipeline.load(snapshot=FIX / "snapshots" / "campus.json")


@pytest.fixture(scope="module")
def recorded() -> dict[str, dict[str, Any]]:
    return {n: json.loads((FIX / "verify" / f"{n}.json").read_text()) for n in NODES}


def _exps(pipe: Any, checks: set[str] | None = None) -> list[Expectation]:
    from campusnet.verify.expect import expectations

    return [e for e in expectations(pipe.snapshot, pipe.plan, pipe.intents, pipe.emulations)
            if e.node in NODES and (checks is None or e.check in checks)]


def _judge(pipe: Any, docs: dict[str, dict[str, Any]], checks: set[str] | None = None) -> dict[str, CheckResult]:
    from campusnet.deploy.targets import lab_targets
    from campusnet.verify.run import VerifyContext

    state = {n: NodeState.from_batch(n, d) for n, d in docs.items()}
    ctx = VerifyContext(pipe.plan, _exps(pipe, checks), lab_targets(pipe.plan, pipe.intents, pipe.emulations),
                        state=state)
    ctx.judge_all()  # no SSH: the state is given, and a read the batch lacks would raise (no live session)
    assert not ctx.live_reads
    return ctx.judged


def _set(doc: dict[str, Any], command: str, out: str) -> None:
    doc["commands"][command]["out"] = out


def test_every_kind_of_check_passes_on_the_recorded_state(pipe: Any, recorded: dict[str, Any]) -> None:
    checks = {"link-up", "lag-bundled", "ospf-neighbors", "bgp-sessions", "evpn-vnis", "reachability"}
    judged = _judge(pipe, recorded, checks)
    assert {r.check for r in judged.values()} == checks
    assert all(r.passed for r in judged.values()), [r.message for r in judged.values() if not r.passed]
    assert len(judged) >= 20


def test_batches_hold_every_command_the_checks_need(pipe: Any, recorded: dict[str, Any]) -> None:
    from campusnet.deploy.targets import lab_targets
    from campusnet.verify.run import node_commands

    cmds = node_commands(_exps(pipe), lab_targets(pipe.plan, pipe.intents, pipe.emulations))
    for n in NODES:
        assert set(cmds[n]) <= set(recorded[n]["commands"]), n
        assert len(cmds[n]) == len(set(cmds[n]))  # each command once, however many checks read it
    pings = [c for c in cmds["jpl-b01-user1"] if c.startswith("ping ")]
    assert pings and cmds["jpl-b01-user1"][:len(pings)] == pings  # the slow ones start first
    assert all(" -w 3 " in c for c in pings)  # with a deadline


def _corrupt(recorded: dict[str, Any]) -> dict[str, dict[str, Any]]:
    bad = copy.deepcopy(recorded)
    core, leaf, user = bad["jpl-core"], bad["yt-dc-leaf1"], bad["jpl-b01-user1"]
    links = json.loads(core["commands"]["ip -j link show"]["out"])
    for x in links:
        if x["ifname"] == "tf1-0-1":
            x["flags"] = [f for f in x["flags"] if f != "LOWER_UP"]
            x["operstate"] = "DOWN"
    _set(core, "ip -j link show", json.dumps(links))
    bond = core["commands"]["ovs-appctl bond/show bond1"]["out"]
    _set(core, "ovs-appctl bond/show bond1", bond.replace("member tf2-0-1: enabled", "member tf2-0-1: disabled"))
    ospf = json.loads(core["commands"]["vtysh -c 'show ip ospf neighbor json'"]["out"])
    gone = sorted(ospf["neighbors"])[0]
    del ospf["neighbors"][gone]
    _set(core, "vtysh -c 'show ip ospf neighbor json'", json.dumps(ospf))
    bgp = json.loads(leaf["commands"]["vtysh -c 'show bgp summary json'"]["out"])
    for af in bgp.values():
        if isinstance(af, dict) and "10.255.1.0" in af.get("peers", {}):
            af["peers"]["10.255.1.0"]["state"] = "Active"
    _set(leaf, "vtysh -c 'show bgp summary json'", json.dumps(bgp))
    vnis = json.loads(leaf["commands"]["vtysh -c 'show evpn vni json'"]["out"])
    del vnis["12020"]
    _set(leaf, "vtysh -c 'show evpn vni json'", json.dumps(vnis))
    ping = "ping -n -c 3 -i 0.2 -W 1 -w 3 10.30.10.50"
    _set(user, ping, "PING 10.30.10.50 (10.30.10.50) 56(84) bytes of data.\n\n--- 10.30.10.50 ping statistics ---\n"
                     "3 packets transmitted, 0 received, 100% packet loss, time 2003ms\n")
    user["commands"][ping]["rc"] = 1
    return bad


def test_each_kind_of_check_fails_on_bad_state(pipe: Any, recorded: dict[str, Any]) -> None:
    judged = _judge(pipe, _corrupt(recorded), {"link-up", "lag-bundled", "ospf-neighbors", "bgp-sessions",
                                               "evpn-vnis", "reachability"})
    failed = {k: r for k, r in judged.items() if not r.passed}
    assert set(failed) == {"link-up:jpl-core:tf1-0-1", "lag-bundled:jpl-core:bond1", "ospf-neighbors:jpl-core:ospf",
                           "bgp-sessions:yt-dc-leaf1:bgp", "evpn-vnis:yt-dc-leaf1:evpn",
                           "reachability:jpl-b01-user1:10.30.10.50"}
    assert "jpl-core: tf1-0-1" in failed["link-up:jpl-core:tf1-0-1"].message
    assert failed["lag-bundled:jpl-core:bond1"].found == "lacp negotiated, members enabled tf1-0-1"
    assert "missing/not Full" in failed["ospf-neighbors:jpl-core:ospf"].message
    assert "10.255.1.0(Active)" in failed["bgp-sessions:yt-dc-leaf1:bgp"].found
    assert "VNIs missing: 12020" in failed["evpn-vnis:yt-dc-leaf1:evpn"].message
    assert failed["reachability:jpl-b01-user1:10.30.10.50"].found == "0/3 replies"


def test_a_node_that_could_not_be_collected_fails_each_of_its_checks(pipe: Any, recorded: dict[str, Any]) -> None:
    from campusnet.deploy.targets import lab_targets
    from campusnet.verify.run import VerifyContext

    state = {n: NodeState.from_batch(n, d) for n, d in recorded.items()}
    state["yt-dc-leaf1"] = NodeState("yt-dc-leaf1", error="CampusnetError: E411 SSH to 10.254.0.9 failed: timed out")
    ctx = VerifyContext(pipe.plan, _exps(pipe), lab_targets(pipe.plan, pipe.intents, pipe.emulations), state=state)
    ctx.judge_all()
    leaf = [r for r in ctx.judged.values() if r.device == "yt-dc-leaf1"]
    assert leaf and all(not r.passed and r.found == "error" and "E432" in r.message and "E411" in r.message
                        for r in leaf)
    assert all(r.passed for r in ctx.judged.values() if r.device == "jpl-b01-user1")


@needs_frr_reload
def test_drift_is_judged_from_the_batch_and_found(pipe: Any, recorded: dict[str, Any]) -> None:
    assert all(r.passed for r in _judge(pipe, recorded, {"config-sync"}).values())
    bad = copy.deepcopy(recorded)
    run = "vtysh -c 'show running-config'"
    _set(bad["yt-dc-leaf1"], run, bad["yt-dc-leaf1"]["commands"][run]["out"].replace(
        "\nrouter bgp", "\nip route 10.99.99.0/24 blackhole\nrouter bgp", 1))
    addrs = json.loads(bad["jpl-core"]["commands"]["ip -j addr show"]["out"])
    lo = next(a for a in addrs if a["ifname"] == "lo")
    lo["addr_info"].append({"family": "inet", "local": "10.99.98.1", "prefixlen": 32})
    _set(bad["jpl-core"], "ip -j addr show", json.dumps(addrs))
    judged = _judge(pipe, bad, {"config-sync"})
    leaf, core = judged["config-sync:yt-dc-leaf1:running-config"], judged["config-sync:jpl-core:running-config"]
    assert not leaf.passed and "DRIFT" in leaf.message and "10.99.99.0/24" in leaf.message
    assert not core.passed and "10.99.98.1" in core.message


def test_replay_answers_from_the_batch_and_never_writes(recorded: dict[str, Any]) -> None:
    st = NodeState.from_batch("jpl-core", recorded["jpl-core"])
    conn = ReplayConnection(st)
    assert conn.run("ip -j addr show", check=True).stdout.startswith("[")
    with pytest.raises(CampusnetError) as exc:
        conn.run("ip route show")
    assert exc.value.code == "E433" and "jpl-core" in str(exc.value)
    with pytest.raises(CampusnetError):
        conn.put("x", "/tmp/x")
    failing = NodeState("n", {"false": {"rc": 1, "out": "", "err": "nope"}})
    with pytest.raises(CampusnetError) as exc:
        ReplayConnection(failing).run("false", check=True)
    assert exc.value.code == "E435"


def _sh(script: str) -> str:
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True, timeout=30).stdout


def test_batch_script_keeps_each_output_exit_code_and_stderr_apart() -> None:
    cmds = ["printf 'a\\n\\nb'", "echo oops >&2; exit 3", "echo '@@cn-0000 end'", "cat", "printf '%s\\n' \"it's\""]
    got = parse_batch_output("n", cmds, "@@cn-1234", _sh(batch_script(cmds, "@@cn-1234")))
    assert got[cmds[0]] == {"rc": 0, "out": "a\n\nb", "err": ""}
    assert got[cmds[1]] == {"rc": 3, "out": "", "err": "oops\n"}
    assert got[cmds[2]]["out"] == "@@cn-0000 end\n"  # another token is just output
    assert got[cmds[3]] == {"rc": 0, "out": "", "err": ""}  # stdin is /dev/null, never the script
    assert got[cmds[4]]["out"] == "it's\n"


def test_batch_commands_run_concurrently_and_time_out() -> None:
    import time

    cmds = ["sleep 1; echo a", "sleep 1; echo b", "sleep 5"]
    t = time.monotonic()
    got = parse_batch_output("n", cmds, "@@cn-9", _sh(batch_script(cmds, "@@cn-9", timeout=2)))
    assert time.monotonic() - t < 4
    assert got["sleep 1; echo a"]["out"] == "a\n" and got["sleep 5"]["rc"] == 124


def test_a_cut_short_batch_is_a_coded_error() -> None:
    cmds = ["echo a", "echo b"]
    out = _sh(batch_script(cmds, "@@cn-7"))
    with pytest.raises(CampusnetError) as exc:
        parse_batch_output("jpl-core", cmds, "@@cn-7", out[: out.index("@@cn-7 err 1")])
    assert exc.value.code == "E434" and "jpl-core" in str(exc.value)
    with pytest.raises(CampusnetError) as exc:
        NodeState.from_batch("jpl-core", {"seconds": 1})
    assert exc.value.code == "E434" and "commands" in str(exc.value)


def test_reporting_keeps_junit_and_the_json_format(pipe: Any, recorded: dict[str, Any], tmp_path: Path) -> None:
    from campusnet.deploy.targets import lab_targets
    from campusnet.verify.run import VerifyContext, run_verify

    checks = {"link-up", "bgp-sessions", "reachability"}
    state = {n: NodeState.from_batch(n, d) for n, d in _corrupt(recorded).items()}
    ctx = VerifyContext(pipe.plan, _exps(pipe, checks), lab_targets(pipe.plan, pipe.intents, pipe.emulations),
                        state=state)
    rc, results, path = run_verify(ctx, out_dir=tmp_path)
    assert rc == 1 and len(results) == len(ctx.expectations)
    data = json.loads(path.read_text())
    assert data["passed"] + data["failed"] == len(results) and data["failed"] == 3
    assert set(data["checks"][0]) == {"check", "device", "subject", "expected", "found", "passed", "message"}
    cases = ET.parse(tmp_path / "latest.xml").getroot().iter("testcase")  # noqa: S314 - our own output
    failures = {c.get("name"): c.find("failure") for c in cases if c.find("failure") is not None}
    assert set(failures) == {"test_network[link-up:jpl-core:tf1-0-1]", "test_network[bgp-sessions:yt-dc-leaf1:bgp]",
                             "test_network[reachability:jpl-b01-user1:10.30.10.50]"}
    msg = failures["test_network[bgp-sessions:yt-dc-leaf1:bgp]"].get("message", "")  # type: ignore[union-attr]
    assert "yt-dc-leaf1: BGP missing/not Established" in msg


def test_show_commands_are_unchanged_for_the_deploy_post_checks() -> None:
    # helper-3's adjacency post-checks read these with the same parsers: the commands must not move
    e = Expectation("bgp-sessions", "n", "bgp")
    assert show_command(e) == "vtysh -c 'show bgp summary json'"
    assert show_command(Expectation("ospf-neighbors", "n", "ospf")) == "vtysh -c 'show ip ospf neighbor json'"


@needs_frr_reload
def test_the_in_sync_shortcut_gives_the_drivers_diff(pipe: Any, recorded: dict[str, Any]) -> None:
    from campusnet.deploy.drivers import driver_for
    from campusnet.deploy.targets import lab_targets
    from campusnet.verify.run import same_frr_diff

    target = lab_targets(pipe.plan, pipe.intents, pipe.emulations)["jpl-core"]
    drv = driver_for(target.driver)
    doc = copy.deepcopy(recorded["jpl-core"])
    conn: Any = ReplayConnection(NodeState.from_batch("jpl-core", doc))
    assert same_frr_diff(drv.running(conn), target) == drv.diff(conn, target.files, drv.running(conn), target) == ""
    addrs = json.loads(doc["commands"]["ip -j addr show"]["out"])
    next(a for a in addrs if a["ifname"] == "lo")["addr_info"].append(
        {"family": "inet", "local": "10.99.98.1", "prefixlen": 32})
    _set(doc, "ip -j addr show", json.dumps(addrs))
    conn = ReplayConnection(NodeState.from_batch("jpl-core", doc))
    fast = same_frr_diff(drv.running(conn), target)
    assert fast and fast == drv.diff(conn, target.files, drv.running(conn), target)
    run = "vtysh -c 'show running-config'"
    _set(doc, run, doc["commands"][run]["out"] + "ip route 10.99.99.0/24 blackhole\n")
    conn = ReplayConnection(NodeState.from_batch("jpl-core", doc))
    assert same_frr_diff(drv.running(conn), target) is None  # FRR differs: frr-reload.py decides
