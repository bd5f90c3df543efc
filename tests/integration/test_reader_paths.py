"""Client-side cable paths equal NetBox's own, field for field, on the reference campus in the local NetBox.

The reader computes ``cable``, ``link_peers`` and ``connected_endpoints`` from the cable terminations, port
mappings and circuit terminations (:mod:`campusnet.sot.paths`) instead of asking NetBox for its cached
paths. Here the same NetBox is read both ways (``paths="netbox"``: the reader as it was) and the two
Snapshots must be equal in everything but their ``source``. The reference campus has what matters: building
uplinks through two patch panels (front ↔ rear ↔ trunk ↔ rear ↔ front), core-to-core circuits cabled at both
ends (A ↔ Z), provider circuits with one end.

Read-only: uses ``netbox_up`` (no seeding), never writes. The local NetBox is shared: if another session
writes between the two reads, the comparison is repeated (a path difference never is excused).
"""

from __future__ import annotations

from typing import Any

import pytest

from campusnet.settings import NetBoxTarget
from campusnet.sot.models import Snapshot
from campusnet.sot.reader import read_snapshot

pytestmark = pytest.mark.integration

PATH_KEYS = {"cable", "link_peers", "connected_endpoints", "connected_reachable", "feed", "link_peer",
             "termination_a", "termination_z", "a_terminations", "b_terminations"}


def differences(old: Snapshot, new: Snapshot) -> list[tuple[str, int, str, Any, Any]]:
    a, b = old.model_dump(exclude={"source"}), new.model_dump(exclude={"source"})
    out: list[tuple[str, int, str, Any, Any]] = []
    for name in a:
        if a[name] == b[name]:
            continue
        if not isinstance(a[name], list) or len(a[name]) != len(b[name]):
            out.append((name, -1, "*", len(a[name]), len(b[name])))
            continue
        for x, y in zip(a[name], b[name], strict=True):
            out += [(name, x["id"], f, x[f], y[f]) for f in x if x[f] != y[f]]
    return out


def test_client_paths_equal_netbox_paths_on_the_reference_campus(netbox_up: NetBoxTarget) -> None:
    diff: list[tuple[str, int, str, Any, Any]] = []
    for _attempt in range(3):
        old = read_snapshot(netbox_up, paths="netbox")
        new = read_snapshot(netbox_up)
        diff = differences(old, new)
        if not diff or any(f in PATH_KEYS for _n, _i, f, _x, _y in diff):
            break
    assert diff == [], diff[:10]
    assert new.source.method == "rest-fields+client-paths" and old.source.method == "rest-fields"

    # the reference campus exercises what the trace must get right
    assert new.has_device("jpl-core-1"), "the local NetBox does not hold the reference campus"
    via_panel = [i for i in new.interfaces if i.link_peers and i.link_peers[0].kind == "frontport"
                 and i.peer is not None and i.peer.kind == "interface"]
    assert via_panel, "no uplink through patch panels"
    assert any(i.device.startswith("jpl-") for i in via_panel)
    # an uplink through two panels: both ends see each other
    up = via_panel[0]
    assert up.peer is not None
    far = new.interface(up.peer.key)
    assert far.peer is not None and far.peer.key == up.key and far.connected_reachable
    # circuits A <-> Z: an interface cabled to a circuit termination sees the interface at the other end
    via_circuit = [i for i in new.interfaces if i.link_peers and i.link_peers[0].kind == "circuittermination"]
    assert via_circuit
    assert any(i.peer is not None and i.peer.kind == "interface" for i in via_circuit)
    # a circuit cabled to the campus at one end only: its interface has no connected endpoint
    assert any(i.peer is None for i in via_circuit)
