"""Client-side cable paths (campusnet.sot.paths): NetBox's CablePath.from_origin on synthetic cabling, and the
reader asking NetBox only for what the trace does not answer (cable profiles)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from campusnet.settings import NetBoxTarget
from campusnet.sot.paths import CABLED_LISTS, PATH_FIELDS, PEER_FIELDS, CableGraph, graph_of
from campusnet.sot.reader import Fetcher, _client_paths

IF, FP, RP, CT, PN = "dcim.interface", "dcim.frontport", "dcim.rearport", "circuits.circuittermination", \
    "circuits.providernetwork"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "netbox"


class Cabling:
    def __init__(self) -> None:
        self.terms: list[dict[str, Any]] = []
        self.cables: list[dict[str, Any]] = []
        self.fronts: list[dict[str, Any]] = []
        self.rears: list[dict[str, Any]] = []
        self.cts: list[dict[str, Any]] = []

    def cable(self, a: list[tuple[str, int]], b: list[tuple[str, int]], status: str = "connected",
              profile: str | None = None) -> int:
        cid = len(self.cables) + 1
        self.cables.append({"id": cid, "status": {"value": status}, "profile": profile})
        for end, side in (("A", a), ("B", b)):
            for t, i in side:
                self.terms.append({"id": len(self.terms) + 1, "cable": cid, "cable_end": end, "termination_type": t,
                                   "termination_id": i, "connector": None, "positions": None})
        return cid

    def panel(self, front: int, rear: int, positions: int = 1) -> None:
        """A patch panel: rear port ``rear`` with ``positions``, front ports front..front+positions-1."""
        self.rears.append({"id": rear, "positions": positions})
        for p in range(positions):
            self.fronts.append({"id": front + p, "positions": 1,
                                "rear_ports": [{"position": 1, "rear_port": rear, "rear_port_position": p + 1}]})

    def circuit(self, cid: int, a: int, z: int, z_on: tuple[str, int] | None = None) -> None:
        self.cts.append({"id": a, "circuit": {"id": cid}, "term_side": "A", "termination_type": "dcim.site",
                         "termination_id": 1})
        zt, zi = z_on or ("dcim.site", 2)
        self.cts.append({"id": z, "circuit": {"id": cid}, "term_side": "Z", "termination_type": zt,
                         "termination_id": zi})

    def graph(self) -> CableGraph:
        return CableGraph.from_rows(cable_terminations=self.terms, cables=self.cables, front_ports=self.fronts,
                                    rear_ports=self.rears, circuit_terminations=self.cts)


def test_direct_cable_and_planned_status() -> None:
    c = Cabling()
    c.cable([(IF, 1)], [(IF, 2)])
    c.cable([(IF, 3)], [(IF, 4)], status="planned")
    g = c.graph()
    assert g.link_peers((IF, 1)) == ((IF, 2),) and g.cable((IF, 2)) == 1
    p = g.path((IF, 2))
    assert p is not None and p.destinations == ((IF, 1),) and p.reachable
    planned = g.path((IF, 3))
    assert planned is not None and planned.destinations == ((IF, 4),) and not planned.reachable
    assert g.path((IF, 99)) is None and g.link_peers((IF, 99)) == ()


def test_through_two_patch_panels() -> None:
    c = Cabling()
    c.panel(front=10, rear=20)
    c.panel(front=11, rear=21)
    c.cable([(IF, 1)], [(FP, 10)])
    c.cable([(RP, 20)], [(RP, 21)])
    c.cable([(FP, 11)], [(IF, 2)])
    g = c.graph()
    assert g.link_peers((IF, 1)) == ((FP, 10),)
    p1, p2 = g.path((IF, 1)), g.path((IF, 2))
    assert p1 is not None and p1.destinations == ((IF, 2),) and p1.reachable
    assert p2 is not None and p2.destinations == ((IF, 1),)


def test_a_patch_panel_not_patched_through_is_incomplete() -> None:
    c = Cabling()
    c.panel(front=10, rear=20)
    c.cable([(IF, 1)], [(FP, 10)])
    p = c.graph().path((IF, 1))
    assert p is not None and p.destinations == () and not p.is_complete and not p.reachable


def test_multi_position_rear_ports_keep_the_position() -> None:
    c = Cabling()
    c.panel(front=10, rear=20, positions=4)
    c.panel(front=30, rear=40, positions=4)
    c.cable([(RP, 20)], [(RP, 40)])
    for k in range(4):
        c.cable([(IF, 100 + k)], [(FP, 10 + k)])
        c.cable([(FP, 30 + k)], [(IF, 200 + k)])
    g = c.graph()
    for k in range(4):
        p = g.path((IF, 100 + k))
        assert p is not None and p.destinations == ((IF, 200 + k),), k


def test_circuits_a_to_z() -> None:
    c = Cabling()
    c.circuit(1, a=1, z=2)
    c.circuit(2, a=3, z=4, z_on=(PN, 7))
    c.circuit(3, a=5, z=6)
    c.panel(front=10, rear=20)
    c.panel(front=11, rear=21)
    c.cable([(IF, 1)], [(CT, 1)])
    c.cable([(CT, 2)], [(FP, 10)])  # the far end reaches its interface through two patch panels
    c.cable([(RP, 20)], [(RP, 21)])
    c.cable([(FP, 11)], [(IF, 2)])
    c.cable([(IF, 3)], [(CT, 3)])
    c.cable([(IF, 5)], [(CT, 5)])  # the Z end is a site, not cabled
    g = c.graph()
    p = g.path((IF, 1))
    assert p is not None and p.destinations == ((IF, 2),) and p.reachable
    back = g.path((IF, 2))
    assert back is not None and back.destinations == ((IF, 1),)
    pn = g.path((IF, 3))
    assert pn is not None and pn.destinations == ((PN, 7),) and pn.reachable
    site = g.path((IF, 5))
    assert site is not None and site.destinations == () and not site.reachable
    assert g.link_peers((CT, 2)) == ((FP, 10),) and g.path((CT, 2)) is None  # not a path endpoint


def test_cable_profiles_are_left_to_netbox() -> None:
    c = Cabling()
    c.cable([(IF, 1)], [(IF, 2)], profile="single-1c4p")
    g = c.graph()
    assert g.path((IF, 1)) is None and (IF, 1) in g.unsupported


def test_recorded_bare_replies_carry_no_path_fields() -> None:
    """The fixture is what NetBox answers to the reader's fields=: cable ends come from cable terminations."""
    rec = json.loads((FIXTURES / "mini_raw.json").read_text())["endpoints"]
    for name in CABLED_LISTS:
        for row in rec.get(name, []):
            assert not set(row) & {"link_peers", "connected_endpoints"}, name
    assert rec["cable_terminations"] and graph_of(rec).unsupported == set()


def test_unsupported_interfaces_are_asked_of_netbox_by_id() -> None:
    c = Cabling()
    c.cable([(IF, 1)], [(IF, 2)], profile="single-1c4p")
    c.cable([(IF, 3)], [(IF, 4)])
    dev = {"id": 9, "name": "sw"}
    raw: dict[str, list[dict[str, Any]]] = {
        "interfaces": [{"id": i, "device": dev, "name": f"e{i}"} for i in (1, 2, 3, 4)],
        "cable_terminations": c.terms, "cables": c.cables}
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        q = parse_qs(urlparse(str(req.url)).query)
        rows = [{"id": int(i), "cable": {"id": 1}, "link_peers": [], "link_peers_type": None,
                 "connected_endpoints": [{"id": 3 - int(i), "device": dev, "name": f"e{3 - int(i)}"}],
                 "connected_endpoints_type": IF, "connected_endpoints_reachable": True} for i in q["id"]]
        return httpx.Response(200, json={"count": len(rows), "next": None, "results": rows})

    target = NetBoxTarget("http://nb.test", "nbt_abc.secret", "environment", branch="br_1")
    with Fetcher(target, transport=httpx.MockTransport(handler)) as f:
        _client_paths(f, raw)
    assert len(seen) == 1 and seen[0].headers["X-NetBox-Branch"] == "br_1"
    q = parse_qs(urlparse(str(seen[0].url)).query)
    assert sorted(q["id"]) == ["1", "2"] and set(q["fields"][0].split(",")) == {"id", *PEER_FIELDS, *PATH_FIELDS}
    rows = {r["id"]: r for r in raw["interfaces"]}
    assert rows[1]["connected_endpoints"][0]["name"] == "e2"  # NetBox's answer
    assert rows[3]["connected_endpoints"] == [{"id": 4, "device": dev, "name": "e4"}]  # computed
    assert rows[3]["connected_endpoints_reachable"] is True and rows[3]["cable"] == {"id": 2}
