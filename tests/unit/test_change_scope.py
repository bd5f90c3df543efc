"""The scope of a change (campusnet.change.scope) on the recorded reference campus."""

from __future__ import annotations

from pathlib import Path

from campusnet.change.scope import affected
from campusnet.sot import Snapshot

CAMPUS = Path(__file__).resolve().parents[1] / "fixtures" / "snapshots" / "campus.json"


def _edit_interface(snap: Snapshot, device: str, **update: object) -> tuple[Snapshot, str]:
    i = next(i for i in snap.interfaces_of(device) if i.connected_endpoints)
    ifaces = tuple(x.model_copy(update=update) if x is i else x for x in snap.interfaces)
    return snap.model_copy(update={"interfaces": ifaces}), i.key


def test_one_interface_edit_scopes_its_device_and_cable_neighbours() -> None:
    snap = Snapshot.load(CAMPUS)
    dev = next(d.name for d in snap.devices if snap.interfaces_of(d.name)
               and any(i.connected_endpoints for i in snap.interfaces_of(d.name)) and d.role == "access-switch")
    after, _key = _edit_interface(snap, dev, description="moved")
    sc = affected(snap, after)
    peers = {e.device for i in snap.interfaces_of(dev) for e in (*i.link_peers, *i.connected_endpoints) if e.device}
    assert sc.changed == {dev}
    assert sc.devices is not None and dev in sc.devices and peers <= sc.devices
    assert len(sc.devices) < len(snap.devices) / 2, sc.devices


def test_nothing_changed_is_an_empty_scope() -> None:
    snap = Snapshot.load(CAMPUS)
    assert affected(snap, snap.model_copy()).devices == set()


def test_a_vlan_change_renders_every_device_and_says_why() -> None:
    snap = Snapshot.load(CAMPUS)
    v = snap.vlans[0]
    after = snap.model_copy(update={"vlans": (v.model_copy(update={"name": "renamed"}), *snap.vlans[1:])})
    sc = affected(snap, after)
    assert sc.devices is None and "vlans" in sc.reason


def test_the_summary_says_when_only_the_scope_was_rendered() -> None:
    from campusnet.change.model import Side
    from campusnet.change.report import render_summary
    from campusnet.change.run import compare

    res = compare("x", "branch", Side("NetBox main"), Side("NetBox branch x"), rules={})
    assert "scope (--incremental)" not in render_summary(res)
    res.after.info["scope"] = {"devices": ["a", "b"], "changed": ["a"],
                               "reason": "1 changed device(s) and 1 neighbour(s)"}
    assert "| scope (--incremental) | only the devices the change can affect were rendered: 1 changed" \
        in render_summary(res)
