"""Cable paths computed client side, from the flat lists the reader reads anyway.

NetBox caches one ``CablePath`` per cabled endpoint and serialises it into every interface as
``connected_endpoints`` — the most expensive fields of the interface list (~60 % of its time at
university scale). This module recomputes the same answer from data that costs almost nothing to read:

- cable terminations (``dcim/cable-terminations``: cable, end, termination type and id),
- cables (status, profile),
- front-port → rear-port mappings (the front ports' ``rear_ports`` list) and the ports' ``positions``,
- circuit terminations (circuit, side, what the far side terminates on).

:func:`trace` is a port of NetBox 4.7's ``CablePath.from_origin`` for *positionless* cables (the only kind
a NetBox had before cable profiles): through front ↔ rear ports (with multi-position rear ports and the
position stack), through circuits A ↔ Z, ending on an endpoint, a provider network (complete) or a site
(incomplete). ``link_peers`` are the other end's terminations in NetBox's ``CableTermination`` order
(cable, end, connector, pk).

What is not reproduced here is *reported*, never guessed: cables with a profile, terminations with a
connector or positions (cable profiles, channelised interfaces), wireless links, virtual-circuit
terminations. The objects whose answer depends on those are listed in :attr:`CableGraph.unsupported`;
the reader asks NetBox for their path fields (a few filtered requests).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Node = tuple[str, int]  # ("dcim.interface", 17)

PATH_ENDPOINTS = frozenset({"dcim.interface", "dcim.consoleport", "dcim.consoleserverport", "dcim.powerport",
                            "dcim.poweroutlet", "dcim.powerfeed"})
FRONT, REAR, CT = "dcim.frontport", "dcim.rearport", "circuits.circuittermination"


@dataclass(frozen=True)
class Path:
    """What an endpoint's cached CablePath would say."""

    destinations: tuple[Node, ...]  # empty unless complete
    is_complete: bool
    is_active: bool

    @property
    def reachable(self) -> bool:
        return self.is_complete and self.is_active


@dataclass(frozen=True)
class _Term:
    id: int
    cable: int
    end: str
    node: Node
    profiled: bool  # a connector or positions: cable-profile data, not traced here


@dataclass(frozen=True)
class _Map:
    front: int
    front_pos: int
    rear: int
    rear_pos: int


@dataclass(frozen=True)
class _Circuit:
    id: int
    circuit: int
    side: str
    provider_network: int | None  # set when it terminates on a provider network
    termination: Node | None  # site, location, region, ... (or the provider network)


class Unsupported(Exception):
    """The trace reached data this module does not interpret (cable profiles)."""


@dataclass
class CableGraph:
    """The cabling of one NetBox, indexed for tracing. Build with :meth:`from_rows`."""

    terms_by_node: dict[Node, _Term] = field(default_factory=dict)
    terms_by_end: dict[tuple[int, str], list[_Term]] = field(default_factory=dict)
    cable_status: dict[int, str] = field(default_factory=dict)
    cable_profiled: set[int] = field(default_factory=set)
    front_positions: dict[int, int] = field(default_factory=dict)
    rear_positions: dict[int, int] = field(default_factory=dict)
    maps_by_front: dict[int, list[_Map]] = field(default_factory=dict)
    maps_by_rear: dict[int, list[_Map]] = field(default_factory=dict)
    circuits: dict[int, _Circuit] = field(default_factory=dict)
    circuit_sides: dict[tuple[int, str], list[_Circuit]] = field(default_factory=dict)
    #: endpoints (interfaces etc.) whose link peers or path this module cannot answer for
    unsupported: set[Node] = field(default_factory=set)
    _paths: dict[tuple[int, str], Path | None] = field(default_factory=dict)

    # -- construction ------------------------------------------------------------------------------------
    @classmethod
    def from_rows(cls, *, cable_terminations: Iterable[Mapping[str, Any]], cables: Iterable[Mapping[str, Any]],
                  front_ports: Iterable[Mapping[str, Any]], rear_ports: Iterable[Mapping[str, Any]],
                  circuit_terminations: Iterable[Mapping[str, Any]],
                  foreign: Iterable[Node] = ()) -> CableGraph:
        """Index REST rows (as the reader reads them). ``foreign``: endpoints linked by other means (wireless
        links, virtual circuits): answered by NetBox, never by this module."""
        g = cls()
        for c in cables:
            g.cable_status[c["id"]] = _value(c.get("status")) or "connected"
            if c.get("profile"):
                g.cable_profiled.add(c["id"])
        for row in sorted(cable_terminations, key=lambda r: (_ref(r.get("cable")), r.get("cable_end") or "",
                                                             r.get("connector") or 0, r["id"])):
            node = (str(row["termination_type"]), int(row["termination_id"]))
            t = _Term(id=row["id"], cable=_ref(row.get("cable")), end=str(row.get("cable_end") or ""), node=node,
                      profiled=row.get("connector") is not None or bool(row.get("positions")))
            g.terms_by_node[node] = t
            g.terms_by_end.setdefault((t.cable, t.end), []).append(t)
        for p in front_ports:
            g.front_positions[p["id"]] = int(p.get("positions") or 1)
            for m in p.get("rear_ports") or ():
                mp = _Map(front=p["id"], front_pos=int(m.get("position") or 1), rear=_ref(m["rear_port"]),
                          rear_pos=int(m.get("rear_port_position") or 1))
                g.maps_by_front.setdefault(mp.front, []).append(mp)
                g.maps_by_rear.setdefault(mp.rear, []).append(mp)
        for maps in (*g.maps_by_front.values(), *g.maps_by_rear.values()):
            maps.sort(key=lambda m: (m.front, m.front_pos, m.rear, m.rear_pos))
        for p in rear_ports:
            g.rear_positions[p["id"]] = int(p.get("positions") or 1)
        for o in sorted(circuit_terminations, key=lambda r: (_ref(r.get("circuit")), r.get("term_side") or "")):
            ttype, tid = o.get("termination_type"), o.get("termination_id")
            ct = _Circuit(id=o["id"], circuit=_ref(o["circuit"]), side=str(o.get("term_side")),
                          provider_network=tid if ttype == "circuits.providernetwork" and tid is not None else None,
                          termination=(str(ttype), int(tid)) if ttype and tid is not None else None)
            g.circuits[ct.id] = ct
            g.circuit_sides.setdefault((ct.circuit, ct.side), []).append(ct)
        g.unsupported.update(foreign)
        return g

    # -- per object ----------------------------------------------------------------------------------------
    def cable(self, node: Node) -> int | None:
        t = self.terms_by_node.get(node)
        return t.cable if t else None

    def link_peers(self, node: Node) -> tuple[Node, ...]:
        """The terminations on the other end of this object's cable, in NetBox's order."""
        t = self.terms_by_node.get(node)
        if t is None:
            return ()
        if t.profiled or t.cable in self.cable_profiled:
            self.unsupported.add(node)
        other = "A" if t.end == "B" else "B"
        return tuple(x.node for x in self.terms_by_end.get((t.cable, other), ()))

    def path(self, node: Node) -> Path | None:
        """The path NetBox caches for this endpoint (``None``: no path — not cabled)."""
        t = self.terms_by_node.get(node)
        if t is None or node[0] not in PATH_ENDPOINTS:
            return None
        key = (t.cable, t.end)
        if key not in self._paths:
            origins = [x.node for x in self.terms_by_end[key]]
            try:
                self._paths[key] = self.trace(origins)
            except Unsupported:
                self.unsupported.update(origins)
                self._paths[key] = None
        return self._paths[key]

    # -- the trace (NetBox's CablePath.from_origin, positionless cables) -----------------------------------
    def trace(self, origins: list[Node]) -> Path | None:
        terminations = list(origins)
        position_stack: list[list[int]] = []
        is_complete, is_active = False, True
        last: list[Node] = []
        first = True
        seen: set[tuple[Node, ...]] = set()
        while terminations:
            if len({n[0] for n in terminations}) > 1:
                raise Unsupported("mixed termination types")
            state = tuple(terminations)
            if state in seen:  # a loop NetBox refuses to build; never spin
                raise Unsupported("loop")
            seen.add(state)
            terms = [self.terms_by_node.get(n) for n in terminations]
            links = list(dict.fromkeys(t.cable for t in terms if t is not None))
            if len(links) > 1 and position_stack and len(terminations) != len(position_stack[-1]):
                break  # split
            last = terminations
            if not links:
                if first:
                    return None
                break
            first = False
            if any(t is not None and t.profiled for t in terms) or any(c in self.cable_profiled for c in links):
                raise Unsupported("cable profile")
            if any(self.cable_status.get(c, "connected") != "connected" for c in links):
                is_active = False
            remote: list[Node] = []
            for t in terms:
                if t is None:
                    continue
                other = "A" if t.end == "B" else "B"
                remote += [x.node for x in self.terms_by_end.get((t.cable, other), ())]
            remote = list(dict.fromkeys(remote))  # one Q(...) | Q(...) query: each row once, in table order
            remote.sort(key=lambda n: self._order(n))
            if len({n[0] for n in remote}) > 1:
                break  # split
            last = remote
            if not remote:
                break
            kind = remote[0][0]
            if kind == FRONT:
                ids = [n[1] for n in remote]
                if self.front_positions.get(ids[0], 1) > 1 and position_stack:
                    positions = position_stack.pop()
                    maps = [m for i in ids for m in self.maps_by_front.get(i, ()) if m.front_pos in positions]
                elif self.front_positions.get(ids[0], 1) > 1:
                    break  # split
                else:
                    maps = [m for i in ids for m in self.maps_by_front.get(i, ())]
                if not maps:
                    break
                rears = list(dict.fromkeys(m.rear for m in maps))
                terminations = [(REAR, r) for r in rears]
                if any(self.rear_positions.get(r, 1) > 1 for r in rears):
                    position_stack.append([m.rear_pos for m in maps])
            elif kind == REAR:
                ids = [n[1] for n in remote]
                if self.rear_positions.get(ids[0], 1) > 1 and position_stack:
                    positions = position_stack.pop()
                    maps = [m for i in ids for m in self.maps_by_rear.get(i, ()) if m.rear_pos in positions]
                elif self.rear_positions.get(ids[0], 1) > 1:
                    break  # split
                else:
                    maps = [m for i in ids for m in self.maps_by_rear.get(i, ())]
                if not maps:
                    break
                fronts = list(dict.fromkeys(m.front for m in maps))
                terminations = [(FRONT, f) for f in fronts]
                if any(self.front_positions.get(f, 1) > 1 for f in fronts):
                    position_stack.append([m.front_pos for m in maps])
            elif kind == CT:
                far: list[_Circuit] = []
                for n in remote:
                    ct = self.circuits.get(n[1])
                    if ct is not None:
                        far += self.circuit_sides.get((ct.circuit, "Z" if ct.side == "A" else "A"), [])
                far = sorted(dict.fromkeys(far), key=lambda c: (c.circuit, c.side))
                if not far:
                    break
                if all(c.provider_network is not None for c in far):
                    last = [("circuits.providernetwork", c.provider_network) for c in far
                            if c.provider_network is not None]
                    is_complete = True
                    break
                if all(c.termination is not None and self.cable((CT, c.id)) is None for c in far):
                    break  # ends on a site, region, ...: incomplete
                if any(self.cable((CT, c.id)) in links for c in far):
                    break  # no valid path
                terminations = [(CT, c.id) for c in far]
            else:
                is_complete = True
                break
        return Path(destinations=tuple(last) if is_complete else (), is_complete=is_complete, is_active=is_active)

    def _order(self, node: Node) -> tuple[int, str, int]:
        t = self.terms_by_node[node]
        return (t.cable, t.end, t.id)


def _ref(x: Any) -> int:
    """An id given as a number or as a nested object."""
    return int(x["id"]) if isinstance(x, dict) else int(x)


def _value(x: Any) -> str | None:
    return str(x.get("value")) if isinstance(x, dict) else (str(x) if x is not None else None)


# --------------------------------------------------------------------------------------------------------
# REST-shaped answers for the reader's raw lists
# --------------------------------------------------------------------------------------------------------
#: raw list name -> content type of its rows (the objects a cable can end on that the reader reads)
CABLED_LISTS: dict[str, str] = {
    "interfaces": "dcim.interface", "front_ports": FRONT, "rear_ports": REAR, "power_ports": "dcim.powerport",
    "power_outlets": "dcim.poweroutlet", "power_feeds": "dcim.powerfeed", "circuit_terminations": CT,
}
#: the lists whose rows carry a path (``connected_endpoints``) in NetBox's API, besides link peers
WITH_PATH = frozenset({"interfaces", "power_ports"})
PEER_FIELDS = ("cable", "link_peers", "link_peers_type")
PATH_FIELDS = ("connected_endpoints", "connected_endpoints_type", "connected_endpoints_reachable")


def graph_of(raw: Mapping[str, list[dict[str, Any]]], foreign: Iterable[Node] = ()) -> CableGraph:
    return CableGraph.from_rows(cable_terminations=raw.get("cable_terminations", []), cables=raw.get("cables", []),
                                front_ports=raw.get("front_ports", []), rear_ports=raw.get("rear_ports", []),
                                circuit_terminations=raw.get("circuit_terminations", []), foreign=foreign)


def annotate(raw: Mapping[str, list[dict[str, Any]]], graph: CableGraph) -> set[Node]:
    """Fill ``cable``, ``link_peers*`` (and ``connected_endpoints*`` where NetBox has them) into the rows that
    lack them, in the shape NetBox's REST API gives them; rows that carry them already are left alone.
    Returns the nodes this module could not answer for (see :attr:`CableGraph.unsupported`)."""
    rows_by_node: dict[Node, dict[str, Any]] = {
        (ct, r["id"]): r for name, ct in CABLED_LISTS.items() for r in raw.get(name, [])}
    pn_rows = {r["id"]: r for r in raw.get("provider_networks", [])}

    def nested(node: Node) -> dict[str, Any]:
        ctype, oid = node
        if ctype == "circuits.providernetwork":
            return {"id": oid, "name": (pn_rows.get(oid) or {}).get("name")}
        row = rows_by_node.get(node)
        if row is None:
            return {"id": oid, "display": f"{ctype}#{oid}"}
        if ctype == CT:
            return {"id": oid, "circuit": row.get("circuit"), "term_side": row.get("term_side")}
        if ctype == "dcim.powerfeed":
            return {"id": oid, "name": row.get("name")}
        return {"id": oid, "device": row.get("device"), "name": row.get("name")}

    for name, ctype in CABLED_LISTS.items():
        with_path = name in WITH_PATH
        for row in raw.get(name, []):
            node = (ctype, row["id"])
            if not all(k in row for k in PEER_FIELDS):
                cable = graph.cable(node)
                peers = graph.link_peers(node)
                row["cable"] = {"id": cable} if cable is not None else None
                row["link_peers"] = [nested(n) for n in peers]
                row["link_peers_type"] = peers[0][0] if peers else None
            if with_path and not all(k in row for k in PATH_FIELDS):
                path = graph.path(node)
                dests = path.destinations if path else ()
                row["connected_endpoints"] = [nested(n) for n in dests] if dests else None
                row["connected_endpoints_type"] = dests[0][0] if dests else None
                row["connected_endpoints_reachable"] = path.reachable if path else False
    return set(graph.unsupported)
