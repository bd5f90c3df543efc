"""The linux-frr driver's two sides of each section agree: what ``expected_<section>`` makes of the intent
is, byte for byte, what ``canonical_<section>`` makes of the node that intent was deployed to (recorded
batches of converged lab nodes, tests/fixtures/verify/, replayed through the driver's own reads)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from campusnet.deploy.drivers import DeployTarget, ExpectedState, Session, driver_for
from campusnet.deploy.drivers.linux_frr import SECTIONS, LinuxFrrDriver, _sections
from campusnet.deploy.targets import lab_targets
from campusnet.verify.collect import NodeState, ReplayConnection

FIX = Path(__file__).resolve().parents[1] / "fixtures"
NODES = ("jpl-core", "yt-dc-leaf1")


@pytest.fixture(scope="module")
def pipe() -> Any:
    from campusnet.pipeline import Pipeline

    return Pipeline.load(snapshot=FIX / "snapshots" / "campus.json")


def _replayed(node: str) -> dict[str, str]:
    state = NodeState.from_batch(node, json.loads((FIX / "verify" / f"{node}.json").read_text()))
    return _sections(LinuxFrrDriver().running(ReplayConnection(state)))  # type: ignore[arg-type]


@pytest.mark.parametrize("node", NODES)
def test_expected_equals_canonical_on_a_converged_node(pipe: Any, node: str) -> None:
    target = lab_targets(pipe.plan, pipe.intents, pipe.emulations, only=[node])[node]
    running = _replayed(node)
    for sec in SECTIONS:
        assert running.get(sec, "").strip() == target.expected.section(sec).strip(), (node, sec)
    assert target.expected.links or target.expected.ovs  # the comparison covers a non-empty section


def test_a_changed_expected_side_no_longer_matches(pipe: Any) -> None:
    """The comparison above can fail: one changed line on the intent's side shows."""
    target = lab_targets(pipe.plan, pipe.intents, pipe.emulations, only=["yt-dc-leaf1"])["yt-dc-leaf1"]
    running = _replayed("yt-dc-leaf1")
    first = target.expected.addrs.splitlines()[0]
    bent = target.expected.addrs.replace(first, first.replace("/", "9/", 1))
    assert running["addrs"].strip() != bent.strip()


def test_expected_state_is_typed_and_closed() -> None:
    with pytest.raises(ValidationError):
        ExpectedState(ovs="", checks={})  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Session(proto="isis", peer="10.0.0.1")  # type: ignore[arg-type]
    t = DeployTarget(device="r1", host="10.254.0.1", driver="linux-frr", files={"frr.conf": ""})
    assert DeployTarget.model_validate_json(t.model_dump_json()) == t
    with pytest.raises(ValidationError):
        t.expected.__setattr__("ovs", "bridge x")


def test_every_driver_implements_the_contract() -> None:
    from campusnet.deploy.drivers import drivers

    for key, drv in drivers().items():
        assert drv.name == key and driver_for(key) is not None
        for name in ("expected", "running", "diff", "apply", "post_checks", "restore", "normalise", "adjacencies"):
            assert callable(getattr(drv, name)), (key, name)


def _imports(path: Path) -> set[str]:
    import ast

    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_imports_go_one_way() -> None:
    """Drivers never import the engine (nor targets); the library never imports nornir_tasks."""
    root = Path(__file__).resolve().parents[2]
    for f in (root / "campusnet" / "deploy" / "drivers").rglob("*.py"):
        bad = {m for m in _imports(f) if m.startswith(("campusnet.deploy.engine", "campusnet.deploy.targets",
                                                       "campusnet.deploy.run"))}
        assert not bad, (f.name, bad)
    for f in (root / "campusnet").rglob("*.py"):
        assert not any(m.split(".")[0] == "nornir_tasks" for m in _imports(f)), f


def test_a_malformed_target_file_is_a_coded_error() -> None:
    from campusnet.errors import CampusnetError

    good = DeployTarget(device="r1", host="10.254.0.1", driver="linux-frr", files={"frr.conf": ""})
    assert DeployTarget.load(good.model_dump(mode="json"), obj="r1.json") == good
    bad = {**good.model_dump(mode="json"), "expected": {"ovs": "", "checks": {}}}
    with pytest.raises(CampusnetError) as exc:
        DeployTarget.load(bad, obj="targets/r1.json")
    assert exc.value.code == "E480" and "expected.checks" in str(exc.value) and "targets/r1.json" in str(exc.value)


def test_deploy_runs_over_the_inventory_plugin_hosts(pipe: Any) -> None:
    """Nornir's hosts for a deploy come from campusnet.NetBoxSnapshotInventory: a virtual chassis' node is
    its master's host; every target has one."""
    from campusnet.deploy.nornir_task import deploy_nornir

    targets = lab_targets(pipe.plan, pipe.intents, pipe.emulations)
    nr, hosts = deploy_nornir(pipe.snapshot, pipe.plan, targets, workers=2)
    assert set(hosts) == set(targets)
    assert hosts["jpl-core"] == "jpl-core-1" and hosts["yt-dc-leaf1"] == "yt-dc-leaf1"
    assert set(nr.inventory.hosts) == set(hosts.values())
    assert nr.inventory.hosts["jpl-core-1"].data["vc_members"] == ["jpl-core-1", "jpl-core-2"]
