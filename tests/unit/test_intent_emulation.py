"""The emulation step (campusnet/intent/emulation.py): production intents hold no lab names and no lab twin;
the twins are built apart (``Pipeline.emulations``); the Linux/OVS plumbing of a linux-frr node is computed
from its intent."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from campusnet.intent import DeviceIntent, build_intents
from campusnet.intent.build import SnapshotIndex
from campusnet.intent.emulation import emulate, plumbing
from campusnet.intent.models import SviInterface
from campusnet.pipeline import Pipeline
from campusnet.sot.models import Snapshot

SNAPSHOTS = Path(__file__).resolve().parent.parent / "fixtures" / "snapshots"


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return Snapshot.load(SNAPSHOTS / "small.json")


@pytest.fixture(scope="module")
def intents(snap: Snapshot) -> dict[str, DeviceIntent]:
    return build_intents(snap)


@pytest.fixture(scope="module")
def emulations(snap: Snapshot) -> dict[str, DeviceIntent]:
    return Pipeline.build(snap, strict=True).emulations


def keys(data: Any, path: str = "") -> set[str]:
    """Every key path of a dumped model."""
    out: set[str] = set()
    if isinstance(data, dict):
        for k, v in data.items():
            out.add(f"{path}.{k}" if path else k)
            out |= keys(v, f"{path}.{k}" if path else k)
    elif isinstance(data, list):
        for v in data:
            out |= keys(v, f"{path}[]")
    return out


@pytest.mark.parametrize("case", ["small.json", "campus.json"])
def test_production_intents_hold_no_lab_names(case: str) -> None:
    for name, intent in build_intents(Snapshot.load(SNAPSHOTS / case)).items():
        lab_keys = {k for k in keys(intent.model_dump(mode="json")) if k.rsplit(".", 1)[-1].startswith("lab")}
        assert lab_keys <= {"system.lab"}, (name, sorted(lab_keys))


def models_in(annotation: Any) -> set[type[BaseModel]]:
    """The pydantic models a field annotation names (through unions, tuples, Annotated, ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    return {m for arg in get_args(annotation) for m in models_in(arg)}


def test_no_production_model_has_a_field_for_the_emulation() -> None:
    """The lab twin is the emulation step's output (``Pipeline.emulations``), never part of an intent: no model
    reachable from DeviceIntent holds a DeviceIntent, or a field named for the emulation."""
    seen: set[type[BaseModel]] = set()
    todo = [DeviceIntent]
    while todo:
        model = todo.pop()
        seen.add(model)
        for name, f in model.model_fields.items():
            assert "emulation" not in name and "twin" not in name, f"{model.__name__}.{name}"
            inner = models_in(f.annotation)
            assert DeviceIntent not in inner, f"{model.__name__}.{name} holds a DeviceIntent"
            todo += [m for m in inner if m not in seen]
    assert len(seen) > 10  # the walk reached the area models


@pytest.mark.parametrize("case", ["small.json", "campus.json"])
def test_production_intents_dump_no_emulation(case: str) -> None:
    pipe = Pipeline.build(Snapshot.load(SNAPSHOTS / case), strict=True)
    assert pipe.emulations and set(pipe.emulations) <= set(pipe.intents)
    for name, intent in pipe.intents.items():
        assert not any("emulation" in k for k in keys(intent.model_dump(mode="json"))), name
    for name, emu in pipe.emulations.items():
        assert emu.platform == "linux-frr" and pipe.intents[name] != emu


def test_no_emulation_without_lab(snap: Snapshot) -> None:
    pipe = Pipeline.build(snap, lab=False, strict=True)
    assert pipe.emulations == {} and pipe.intents == Pipeline.build(snap, strict=True).intents


def test_emulate_is_the_intents_lab_twin(snap: Snapshot, emulations: dict[str, DeviceIntent]) -> None:
    idx = SnapshotIndex.build(snap)
    emu = emulate(idx, idx.devices["ytg-leaf-1"])
    assert emu == emulations["ytg-leaf-1"] and emu.platform == "linux-frr"


def test_vni_plumbing_and_no_svi_veth_for_a_vni_vlan(emulations: dict[str, DeviceIntent]) -> None:
    emu = emulations["ytg-leaf-1"]
    assert emu is not None and emu.evpn is not None
    lab = plumbing(emu)
    assert [(v.vni, v.bridge, v.vxlan, v.bridge_port, v.port) for v in lab.vnis] == [
        (v.vni, f"vlan{v.vlan_id}", f"vxlan{v.vni}", f"vlan{v.vlan_id}b", f"vlan{v.vlan_id}o") for v in emu.evpn.vnis]
    vni_vids = {v.vlan_id for v in lab.vnis}
    assert not any(f"vlan{vid}" in lab.svi_ports for vid in vni_vids)  # the VNI's bridge is the gateway
    assert "vrrpd" in lab.frr_daemons and "bgpd" in lab.frr_daemons


def test_svi_veths_bonds_and_bridge(emulations: dict[str, DeviceIntent]) -> None:
    emu = emulations["jpl-core-1"]
    assert emu is not None
    lab = plumbing(emu)
    svis = [i for i in emu.interfaces if isinstance(i, SviInterface)]
    assert lab.svi_ports == {i.name: f"vlan{i.vlan_id}o" for i in svis}
    assert lab.ovs_bridge == "br0"
    assert {p.name for p in lab.ovs_ports if p.tag is not None} == set(lab.svi_ports.values())
    assert all(p.bond_members and p.trunks for p in lab.ovs_ports if p.tag is None)
    assert lab.frr_daemons == ("zebra", "staticd", "ospfd")


def test_a_router_without_l2_has_no_bridge(emulations: dict[str, DeviceIntent]) -> None:
    emu = emulations["ytg-vpn-1"]
    assert emu is not None
    lab = plumbing(emu)
    assert lab.ovs_bridge is None and lab.ovs_ports == () and lab.svi_ports == {}


def test_a_device_whose_twin_fails_fails_as_a_whole(snap: Snapshot) -> None:
    """Only the twin reads ``lab_timers``: a bad value there fails the device in the Pipeline, not others."""
    def bad_ctx(d: Any) -> Any:
        ctx = {**d.config_context, "lab_timers": {"bgp": {"keepalive": "soon", "hold": 3}}}
        return d.model_copy(update={"config_context": ctx}) if d.name == "ytg-leaf-1" else d

    bad = snap.model_copy(update={"devices": tuple(bad_ctx(d) for d in snap.devices)})
    assert "ytg-leaf-1" in build_intents(bad)  # the production intent alone builds
    pipe = Pipeline.build(bad)
    assert "ytg-leaf-1" not in pipe.intents and "ytg-leaf-1" not in pipe.emulations
    assert [e.device for e in pipe.errors] == ["ytg-leaf-1"]
    assert set(pipe.intents) == set(build_intents(snap)) - {"ytg-leaf-1"}
