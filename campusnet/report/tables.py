"""The report's tables, computed from the Snapshot only (no extra NetBox reads).

Each :class:`Table` is both a page section and an export (``data/<name>.csv`` and ``.json``): its rows are
flat records whose keys are the columns. Power uses the same arithmetic as the ``rack-power-budget`` rule
(:mod:`campusnet.rules.power`); prefix utilisation follows NetBox's definition (containers: child prefixes'
address space; others: IP addresses, less network and broadcast on IPv4 non-pool prefixes shorter than /31;
``mark_utilized``: 100 %).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from campusnet.rules.power import feed_loads, rack_capacity, rack_draw
from campusnet.sot.models import Endpoint, Prefix, Snapshot

Row = dict[str, Any]

OWNED = (("dcim.device", "device"), ("ipam.prefix", "prefix"), ("ipam.vlan", "VLAN"),
         ("circuits.circuit", "circuit"))


@dataclass
class Table:
    name: str  # export file stem
    title: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)


def ep_text(ep: Endpoint) -> str:
    if ep.device and ep.name:
        return f"{ep.device} {ep.name}"
    if ep.circuit:
        return f"circuit {ep.circuit} ({ep.term_side})"
    if ep.kind == "powerfeed":
        return f"power feed {ep.name}"
    return f"{ep.kind} {ep.name or ''}".strip()


def _join(xs: Iterable[str]) -> str:
    return ", ".join(xs)


# --------------------------------------------------------------------------------------------------------
# Inventory
# --------------------------------------------------------------------------------------------------------
def devices_table(snap: Snapshot) -> Table:
    t = Table("devices", "Devices", ["name", "site", "location", "rack", "position", "face", "role", "manufacturer",
                                     "model", "platform", "status", "tenant", "owners", "serial", "asset_tag",
                                     "primary_ip4", "oob_ip", "virtual_chassis", "tags"])
    for d in sorted(snap.devices, key=lambda d: (d.site, d.location or "", d.rack or "", -(d.position or 0), d.name)):
        t.rows.append({"name": d.name, "site": d.site, "location": d.location or "", "rack": d.rack or "",
                       "position": d.position, "face": d.face or "", "role": d.role,
                       "manufacturer": d.manufacturer, "model": d.device_type.model, "platform": d.platform or "",
                       "status": d.status, "tenant": d.tenant or "",
                       "owners": _join(snap.owners("dcim.device", d.name)), "serial": d.serial,
                       "asset_tag": d.asset_tag or "", "primary_ip4": d.primary_ip4 or "", "oob_ip": d.oob_ip or "",
                       "virtual_chassis": d.virtual_chassis or "", "tags": _join(d.tags)})
    return t


def racks_table(snap: Snapshot) -> Table:
    t = Table("racks", "Racks", ["rack", "site", "location", "status", "role", "tenant", "u_height", "u_used",
                                 "devices", "draw_w", "capacity_w", "feeds"])
    for r in sorted(snap.racks, key=lambda r: (r.site, r.location or "", r.name)):
        devs = snap.devices_in_rack(r.key)
        used = sum(d.device_type.u_height for d in devs if d.position is not None)
        cap = rack_capacity(snap, r.key)
        t.rows.append({"rack": r.key, "site": r.site, "location": r.location or "", "status": r.status,
                       "role": r.role or "", "tenant": r.tenant or "", "u_height": r.u_height, "u_used": used,
                       "devices": len(devs), "draw_w": rack_draw(snap, r.key),
                       "capacity_w": round(cap) if cap is not None else None,
                       "feeds": _join(f.key for f in snap.feeds_of_rack(r.key))})
    return t


def feeds_table(snap: Snapshot) -> Table:
    loads = feed_loads(snap)
    t = Table("power_feeds", "Power feeds", ["feed", "panel", "site", "rack", "type", "status", "supply", "phase",
                                             "voltage", "amperage", "max_utilization", "capacity_w", "load_w",
                                             "load_pct"])
    for f in sorted(snap.power_feeds, key=lambda f: (f.site, f.power_panel, f.name)):
        load = loads.get(f.key, 0)
        t.rows.append({"feed": f.key, "panel": f.power_panel, "site": f.site, "rack": f.rack or "", "type": f.type,
                       "status": f.status, "supply": f.supply, "phase": f.phase, "voltage": f.voltage,
                       "amperage": f.amperage, "max_utilization": f.max_utilization,
                       "capacity_w": round(f.capacity_w), "load_w": load,
                       "load_pct": round(100 * load / f.capacity_w, 1) if f.capacity_w else None})
    return t


# --------------------------------------------------------------------------------------------------------
# IPAM
# --------------------------------------------------------------------------------------------------------
def _prefix_size(p: Prefix) -> int:
    n = p.network
    size = n.num_addresses
    if n.version == 4 and n.prefixlen < 31 and not p.is_pool and p.status != "container":
        size -= 2
    return max(size, 1)


def prefix_utilisation(snap: Snapshot) -> dict[str, tuple[int, int]]:
    """``{prefix key: (used, size)}`` as NetBox computes utilisation, from the snapshot in O(IPs)."""
    # index prefixes by (vrf, version, prefixlen, network int) so each IP tests one key per length
    by_key: dict[tuple[str | None, int, int, int], list[Prefix]] = defaultdict(list)
    lengths: dict[tuple[str | None, int], set[int]] = defaultdict(set)
    for p in snap.prefixes:
        n = p.network
        by_key[(p.vrf, n.version, n.prefixlen, int(n.network_address))].append(p)
        lengths[(p.vrf, n.version)].add(n.prefixlen)
    used: dict[str, int] = defaultdict(int)
    for ip in snap.ip_addresses:
        try:
            addr = ip.ip
        except ValueError:
            continue
        bits = 32 if addr.version == 4 else 128
        a = int(addr)
        for plen in lengths.get((ip.vrf, addr.version), ()):
            net = a & (((1 << plen) - 1) << (bits - plen)) if plen else 0
            for p in by_key.get((ip.vrf, addr.version, plen, net), ()):
                if p.status != "container":
                    used[p.key] += 1
    out: dict[str, tuple[int, int]] = {}
    containers = [p for p in snap.prefixes if p.status == "container"]
    for p in snap.prefixes:
        size = _prefix_size(p)
        if p.mark_utilized:
            out[p.key] = (size, size)
        elif p.status == "container":
            continue
        else:
            out[p.key] = (min(used.get(p.key, 0), size), size)
    for c in containers:  # child prefixes' address space (any VRF when the container is global)
        cn: Any = c.network
        children: list[Any] = [p.network for p in snap.prefixes
                               if p is not c and p.network.version == cn.version and (c.vrf is None or p.vrf == c.vrf)
                               and p.network != cn and p.network.subnet_of(cn)]
        space = sum(int(n.num_addresses) for n in ipaddress.collapse_addresses(children))
        size = _prefix_size(c)
        out.setdefault(c.key, (min(space, size), size))
    return out


def prefixes_table(snap: Snapshot) -> Table:
    util = prefix_utilisation(snap)
    t = Table("prefixes", "Prefixes", ["prefix", "vrf", "scope", "vlan", "tenant", "role", "status", "used", "size",
                                       "utilisation_pct", "owners", "description"])
    for p in sorted(snap.prefixes, key=lambda p: (p.vrf or "", p.network.version, p.network)):
        u, s = util.get(p.key, (0, _prefix_size(p)))
        t.rows.append({"prefix": p.prefix, "vrf": p.vrf or "global", "scope": p.scope or "", "vlan": p.vlan or "",
                       "tenant": p.tenant or "", "role": p.role or "", "status": p.status, "used": u, "size": s,
                       "utilisation_pct": round(100 * u / s, 1) if s else 0.0,
                       "owners": _join(snap.owners("ipam.prefix", p.key)), "description": p.description})
    return t


def vlans_table(snap: Snapshot) -> Table:
    prefixes: dict[str, list[str]] = defaultdict(list)
    for p in snap.prefixes:
        if p.vlan:
            prefixes[p.vlan].append(p.prefix)
    by_vid: dict[int, list[str]] = defaultdict(list)
    for v in snap.vlans:
        by_vid[v.vid].append(v.key)
    site_of = {d.name: d.site for d in snap.devices}

    def svi_vlan(i: Any) -> str | None:
        """The SVI's VLAN: its untagged VLAN, or (older data) the one VLAN with its VID at its site."""
        if i.untagged_vlan or i.untagged_vid is None:
            return i.untagged_vlan  # type: ignore[no-any-return]
        cands = by_vid.get(i.untagged_vid, [])
        site = site_of.get(i.device, "")
        local = [k for k in cands if site and (k.startswith(f"{site}:") or k.startswith(f"{site}-"))]
        pick = local or cands
        return pick[0] if len(pick) == 1 else None

    gateways: dict[str, list[str]] = defaultdict(list)
    for i in snap.interfaces:
        vkey = svi_vlan(i) if i.type == "virtual" else None
        if vkey:
            gw = f"{i.device} {i.name}"
            if i.ip_addresses:
                gw += f" {', '.join(i.ip_addresses)}"
            gateways[vkey].append(gw)
            for fa in i.fhrp:
                g = snap.fhrp_group(fa.group)
                if g is not None and g.vips:
                    vip = f"VIP {', '.join(g.vips)} ({g.protocol} {g.group_id})"
                    if vip not in gateways[vkey]:
                        gateways[vkey].append(vip)
    t = Table("vlans", "VLAN plan", ["group", "vid", "name", "site", "tenant", "role", "status", "prefixes",
                                     "gateways", "owners", "description"])
    for v in sorted(snap.vlans, key=lambda v: (v.group or v.site or "", v.vid)):
        t.rows.append({"group": v.group or (f"site {v.site}" if v.site else "global"), "vid": v.vid, "name": v.name,
                       "site": v.site or "", "tenant": v.tenant or "", "role": v.role or "", "status": v.status,
                       "prefixes": _join(prefixes.get(v.key, [])), "gateways": _join(gateways.get(v.key, [])),
                       "owners": _join(snap.owners("ipam.vlan", v.key)), "description": v.description})
    return t


# --------------------------------------------------------------------------------------------------------
# Cabling
# --------------------------------------------------------------------------------------------------------
def cables_table(snap: Snapshot) -> Table:
    site_of = {d.name: d.site for d in snap.devices}
    t = Table("cables", "Cables", ["id", "label", "site", "a_end", "b_end", "type", "status", "tenant", "length",
                                   "color"])
    for c in sorted(snap.cables, key=lambda c: c.id):
        sites = sorted({site_of.get(e.device or "", "") for e in (*c.a_terminations, *c.b_terminations)} - {""})
        t.rows.append({"id": c.id, "label": c.label, "site": _join(sites),
                       "a_end": _join(ep_text(e) for e in c.a_terminations),
                       "b_end": _join(ep_text(e) for e in c.b_terminations), "type": c.type or "",
                       "status": c.status, "tenant": c.tenant or "",
                       "length": f"{c.length:g} {c.length_unit or ''}".strip() if c.length is not None else "",
                       "color": c.color})
    return t


# --------------------------------------------------------------------------------------------------------
# Ownership
# --------------------------------------------------------------------------------------------------------
def _owned_objects(snap: Snapshot) -> Iterable[tuple[str, str, str, str | None]]:
    for d in snap.devices:
        yield "dcim.device", "device", d.name, d.tenant
    for p in snap.prefixes:
        yield "ipam.prefix", "prefix", p.key, p.tenant
    for v in snap.vlans:
        yield "ipam.vlan", "VLAN", v.key, v.tenant
    for c in snap.circuits:
        yield "circuits.circuit", "circuit", c.key, c.tenant


def ownership_tables(snap: Snapshot) -> tuple[Table, Table]:
    """(every owned object with tenant and owner contacts, the objects missing either)."""
    tenant_name = {t.slug: t.name for t in snap.tenants}
    all_t = Table("ownership", "Ownership", ["type", "object", "tenant", "tenant_name", "owners", "other_contacts"])
    missing = Table("unowned", "Objects without a tenant or an owner", ["type", "object", "tenant", "owners",
                                                                       "missing"])
    for otype, label, key, tenant in _owned_objects(snap):
        owners = snap.owners(otype, key)
        others = [f"{a.contact} ({a.role or '-'})" for a in snap.assignments(otype, key) if a.role != "owner"]
        all_t.rows.append({"type": label, "object": key, "tenant": tenant or "",
                           "tenant_name": tenant_name.get(tenant or "", ""), "owners": _join(owners),
                           "other_contacts": _join(others)})
        gaps = ([] if tenant else ["tenant"]) + ([] if owners else ["owner contact"])
        if gaps:
            missing.rows.append({"type": label, "object": key, "tenant": tenant or "", "owners": _join(owners),
                                 "missing": " and ".join(gaps)})
    return all_t, missing


def owners_summary(snap: Snapshot) -> Table:
    """Per owner contact: how many objects of each type it owns (every owner knows what it owns)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for a in snap.contact_assignments:
        if a.role == "owner":
            counts[a.contact][a.object_type] += 1
    t = Table("owners", "Owners", ["contact", "devices", "prefixes", "vlans", "circuits", "other"])
    for contact in sorted(counts):
        c = counts[contact]
        t.rows.append({"contact": contact, "devices": c.get("dcim.device", 0), "prefixes": c.get("ipam.prefix", 0),
                       "vlans": c.get("ipam.vlan", 0), "circuits": c.get("circuits.circuit", 0),
                       "other": sum(v for k, v in c.items() if k not in {o for o, _ in OWNED})})
    return t


def circuits_table(snap: Snapshot) -> Table:
    t = Table("circuits", "Circuits", ["circuit", "provider", "type", "status", "tenant", "commit_rate",
                                       "a_end", "z_end", "owners"])

    def end(term: Any) -> str:
        if term is None:
            return ""
        iface = term.interface
        where = term.site or term.provider_network or ""
        return f"{where}: {ep_text(iface)}" if iface else where

    for c in sorted(snap.circuits, key=lambda c: c.key):
        t.rows.append({"circuit": c.key, "provider": c.provider, "type": c.type, "status": c.status,
                       "tenant": c.tenant or "", "commit_rate": c.commit_rate, "a_end": end(c.termination_a),
                       "z_end": end(c.termination_z), "owners": _join(snap.owners("circuits.circuit", c.key))})
    return t
