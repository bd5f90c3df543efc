"""NetBox REST rows → Snapshot objects: one converter per NetBox kind (raw list name).

:func:`build` turns every raw list into the Snapshot's tuples (what :func:`campusnet.sot.reader.read_snapshot`
returns); :class:`Ctx` holds the id → natural-key maps and the few aggregates a row's conversion needs
(IPs per interface, FHRP assignments, virtual-chassis members, circuit terminations behind patch panels,
L2VPN terminations), built from the raw lists on first use. The incremental reader
(:mod:`campusnet.sot.incremental`) converts only the rows that changed with the same functions
(:data:`CONVERTERS`), so a full read and an incremental one cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

from pydantic import BaseModel, ValidationError

from campusnet.errors import DataError
from campusnet.sot.models import (
    ASN,
    L2VPN,
    VLAN,
    VRF,
    Cable,
    Circuit,
    CircuitTermination,
    ConfigContext,
    Contact,
    ContactAssignment,
    Device,
    DeviceRole,
    DeviceType,
    Endpoint,
    FhrpAssignment,
    FHRPGroup,
    FrontPort,
    Interface,
    IPAddress,
    L2VPNTermination,
    Location,
    Platform,
    PowerFeed,
    PowerOutlet,
    PowerPanel,
    PowerPort,
    Prefix,
    Provider,
    ProviderNetwork,
    Rack,
    RearPort,
    Region,
    Site,
    Snapshot,
    SnapshotSource,
    Tag,
    Tenant,
    TenantGroup,
    VirtualChassis,
    VLANGroup,
    iface_key,
    vrf_key,
)

Raw = dict[str, Any]


# --------------------------------------------------------------------------------------------------------
# Normalisation helpers
# --------------------------------------------------------------------------------------------------------
def _v(x: Any) -> Any:
    """A choice field's value ({"value":..,"label":..}) or the plain value."""
    return x.get("value") if isinstance(x, dict) else x


def _slug(x: Any) -> str | None:
    return cast(str, x.get("slug")) if isinstance(x, dict) else None


def _name(x: Any) -> str | None:
    return cast(str, x.get("name")) if isinstance(x, dict) else None


def _id(x: Any) -> int | None:
    return cast(int, x.get("id")) if isinstance(x, dict) else None


def _tags(o: Raw) -> tuple[str, ...]:
    return tuple(sorted(t["slug"] for t in o.get("tags") or ()))


def _addr(x: Any) -> str | None:
    return cast(str, x.get("address")) if isinstance(x, dict) else None


def _cf_value(v: Any) -> Any:
    """Object custom fields come as nested objects: keep their natural value."""
    if isinstance(v, list):
        return [_cf_value(i) for i in v]
    if isinstance(v, dict) and "id" in v and "url" in v:
        for k in ("asn", "slug", "name", "address", "prefix", "vid", "cid", "display"):
            if k in v:
                return v[k]
        return v["id"]
    return v


def _cf_name(o: Raw, name: str) -> str | None:
    v = (o.get("custom_fields") or {}).get(name)
    if isinstance(v, dict):
        return cast(str | None, v.get("name") or v.get("display"))
    return str(v) if v else None


@dataclass
class Ctx:
    """Id → natural key maps, built from the raw lists before the objects that need them."""

    raw: dict[str, list[Raw]]
    device_by_id: dict[int, str] = field(default_factory=dict)
    rack_by_id: dict[int, str] = field(default_factory=dict)
    panel_by_id: dict[int, Raw] = field(default_factory=dict)
    feed_by_id: dict[int, str] = field(default_factory=dict)
    vlan_by_id: dict[int, str] = field(default_factory=dict)
    circuit_by_id: dict[int, str] = field(default_factory=dict)
    ct_by_id: dict[int, Raw] = field(default_factory=dict)
    site_by_id: dict[int, str] = field(default_factory=dict)
    location_by_id: dict[int, str] = field(default_factory=dict)
    region_by_id: dict[int, str] = field(default_factory=dict)
    provider_by_id: dict[int, str] = field(default_factory=dict)
    pn_by_id: dict[int, str] = field(default_factory=dict)
    prefix_by_id: dict[int, str] = field(default_factory=dict)
    ip_by_id: dict[int, str] = field(default_factory=dict)

    @cached_property
    def iface_by_id(self) -> dict[int, str]:
        return {o["id"]: iface_key(self.device_name(o["device"]) or "?", o["name"])
                for o in self.raw.get("interfaces", [])}

    def device_name(self, d: Any) -> str | None:
        if not isinstance(d, dict):
            return None
        return self.device_by_id.get(d["id"]) or d.get("name") or f"device-{d['id']}"

    def endpoint(self, kind: str | None, o: Raw) -> Endpoint:
        k = (kind or "").rpartition(".")[2]
        if k in ("interface", "frontport", "rearport", "powerport", "poweroutlet", "consoleport",
                 "consoleserverport"):
            return Endpoint(kind=cast(Any, k), device=self.device_name(o.get("device")), name=o.get("name"))
        if k == "circuittermination":
            ct = self.ct_by_id.get(o["id"], o)
            cid = _id(ct.get("circuit"))
            return Endpoint(kind="circuittermination",
                            circuit=self.circuit_by_id.get(cid, str(cid)) if cid is not None else None,
                            term_side=ct.get("term_side"))
        if k == "powerfeed":
            return Endpoint(kind="powerfeed", name=self.feed_by_id.get(o["id"], o.get("name")))
        if k == "providernetwork":
            return Endpoint(kind="providernetwork", name=self.pn_by_id.get(o["id"], o.get("name")))
        return Endpoint(kind="other", name=str(o.get("display") or o.get("name") or o.get("id")))

    def endpoints(self, kind: str | None, objs: Any) -> tuple[Endpoint, ...]:
        return tuple(self.endpoint(kind, o) for o in objs or () if isinstance(o, dict))

    def scope_key(self, scope_type: str | None, scope_id: int | None, scope: Any) -> str | None:
        if scope_type is None or scope_id is None:
            return None
        table = {"dcim.site": self.site_by_id, "dcim.location": self.location_by_id,
                 "dcim.region": self.region_by_id}.get(scope_type)
        if table is not None and scope_id in table:
            return table[scope_id]
        return _slug(scope) or _name(scope)

    def object_key(self, object_type: str, object_id: int, obj: Any) -> str:
        table: dict[int, str] | None = {
            "dcim.device": self.device_by_id, "dcim.site": self.site_by_id, "dcim.location": self.location_by_id,
            "dcim.region": self.region_by_id, "dcim.rack": self.rack_by_id, "ipam.vlan": self.vlan_by_id,
            "ipam.prefix": self.prefix_by_id, "ipam.ipaddress": self.ip_by_id,
            "circuits.circuit": self.circuit_by_id, "circuits.provider": self.provider_by_id,
            "dcim.powerfeed": self.feed_by_id, "dcim.interface": self.iface_by_id,
        }.get(object_type)
        if table is not None and object_id in table:
            return table[object_id]
        if isinstance(obj, dict):
            for k in ("slug", "name", "display"):
                if obj.get(k):
                    return str(obj[k])
        return f"{object_type}#{object_id}"


def context(raw: dict[str, list[Raw]]) -> Aggregates:
    """The id → natural-key maps of ``raw`` (the aggregates are built on first use)."""
    c = Aggregates(raw)
    g = raw.get
    c.site_by_id = {o["id"]: o["slug"] for o in g("sites", [])}
    c.region_by_id = {o["id"]: o["slug"] for o in g("regions", [])}
    c.location_by_id = {o["id"]: f"{_slug(o['site'])}/{o['slug']}" for o in g("locations", [])}
    c.provider_by_id = {o["id"]: o["slug"] for o in g("providers", [])}
    c.pn_by_id = {o["id"]: f"{_slug(o['provider'])}/{o['name']}" for o in g("provider_networks", [])}
    for o in g("devices", []):
        c.device_by_id[o["id"]] = o.get("name") or f"device-{o['id']}"
    c.rack_by_id = {o["id"]: f"{_slug(o['site'])}/{o['name']}" for o in g("racks", [])}
    c.panel_by_id = {o["id"]: o for o in g("power_panels", [])}
    c.feed_by_id = {o["id"]: f"{_name(o['power_panel'])}/{o['name']}" for o in g("power_feeds", [])}
    vlan_groups = {o["id"]: o["slug"] for o in g("vlan_groups", [])}
    for o in g("vlans", []):
        grp = vlan_groups.get(_id(o.get("group")) or -1) or _slug(o.get("group"))
        c.vlan_by_id[o["id"]] = f"{grp or _slug(o.get('site')) or 'global'}:{o['vid']}"
    c.circuit_by_id = {o["id"]: f"{_slug(o['provider'])}/{o['cid']}" for o in g("circuits", [])}
    c.ct_by_id = {o["id"]: o for o in g("circuit_terminations", [])}
    c.prefix_by_id = {o["id"]: vrf_key(_name(o.get("vrf")), o["prefix"]) for o in g("prefixes", [])}
    c.ip_by_id = {o["id"]: vrf_key(_name(o.get("vrf")), o["address"]) for o in g("ip_addresses", [])}
    return c


class Aggregates(Ctx):
    """:class:`Ctx` plus what several rows together decide (built lazily, once per context)."""

    @cached_property
    def ips(self) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
        """(IP addresses per interface id, per FHRP group id), in the list's order."""
        by_iface: dict[int, list[str]] = {}
        vips: dict[int, list[str]] = {}
        for o in self.raw.get("ip_addresses", []):
            at, aid, ao = o.get("assigned_object_type"), o.get("assigned_object_id"), o.get("assigned_object")
            if at == "dcim.interface" and isinstance(ao, dict) and aid is not None:
                by_iface.setdefault(aid, []).append(o["address"])
            elif at == "ipam.fhrpgroup" and aid is not None:
                vips.setdefault(aid, []).append(o["address"])
        return by_iface, vips

    @cached_property
    def fhrp_by_iface(self) -> dict[int, list[FhrpAssignment]]:
        groups: dict[int, Raw] = {o["id"]: o for o in self.raw.get("fhrp_groups", [])}
        out: dict[int, list[FhrpAssignment]] = {}
        for o in self.raw.get("fhrp_assignments", []):
            if o.get("interface_type") != "dcim.interface":
                continue
            fg: Raw = groups.get(_id(o["group"]) or -1) or o["group"]
            out.setdefault(o["interface_id"], []).append(FhrpAssignment(
                group=fg["id"], protocol=_v(fg.get("protocol")), group_id=fg.get("group_id", 0),
                priority=o.get("priority", 0)))
        return out

    @cached_property
    def devtypes(self) -> dict[int, Raw]:
        return {o["id"]: o for o in self.raw.get("device_types", [])}

    @cached_property
    def vc_raw(self) -> dict[int, Raw]:
        return {o["id"]: o for o in self.raw.get("virtual_chassis", [])}

    def vc_of(self, o: Raw) -> Raw | None:
        vc = o.get("virtual_chassis")
        return cast(Raw, self.vc_raw.get(_id(vc) or -1, vc)) if vc else None

    @cached_property
    def vc_members(self) -> dict[str, list[str]]:
        """Device names per virtual-chassis name, by (vc_position, name)."""
        rows: dict[str, list[tuple[int, str]]] = {}
        for o in self.raw.get("devices", []):
            name = _name(self.vc_of(o))
            if name is not None:
                rows.setdefault(name, []).append((o.get("vc_position") or 0, self.device_by_id[o["id"]]))
        return {k: [n for _p, n in sorted(v)] for k, v in rows.items()}

    @cached_property
    def front_ports(self) -> dict[str, FrontPort]:
        return {p.key: p for p in map(self.front_port, self.raw.get("front_ports", []))}

    @cached_property
    def rear_ports(self) -> dict[str, RearPort]:
        return {p.key: p for p in map(self.rear_port, self.raw.get("rear_ports", []))}

    @cached_property
    def rear_rows(self) -> dict[int, Raw]:
        return {o["id"]: o for o in self.raw.get("rear_ports", [])}

    def front_port(self, o: Raw) -> FrontPort:
        maps = o.get("rear_ports") or []
        rp = self.rear_rows.get(maps[0]["rear_port"]) if maps else None
        return FrontPort(
            id=o["id"], device=self.device_name(o["device"]) or "?", name=o["name"], type=_v(o["type"]),
            rear_port=rp["name"] if rp else None,
            rear_port_position=maps[0].get("rear_port_position") if maps else None,
            cable=_id(o.get("cable")), link_peers=self.endpoints(o.get("link_peers_type"), o.get("link_peers")))

    def rear_port(self, o: Raw) -> RearPort:
        return RearPort(id=o["id"], device=self.device_name(o["device"]) or "?", name=o["name"], type=_v(o["type"]),
                        positions=o.get("positions") or 1, cable=_id(o.get("cable")),
                        link_peers=self.endpoints(o.get("link_peers_type"), o.get("link_peers")))

    @cached_property
    def cable_ends(self) -> dict[tuple[int, str], list[Endpoint]]:
        """(cable id, end) → endpoints, from the flat cable-terminations list."""
        g = self.raw.get
        comp_rows: dict[str, list[Raw]] = {
            "dcim.interface": g("interfaces", []), "dcim.frontport": g("front_ports", []),
            "dcim.rearport": g("rear_ports", []), "dcim.powerport": g("power_ports", []),
            "dcim.poweroutlet": g("power_outlets", []), "circuits.circuittermination": g("circuit_terminations", []),
            "dcim.powerfeed": g("power_feeds", [])}
        by_type_id = {(tt, r["id"]): r for tt, rows in comp_rows.items() for r in rows}
        out: dict[tuple[int, str], list[Endpoint]] = {}
        for ctr in g("cable_terminations", []):
            tt, tid = str(ctr.get("termination_type")), ctr.get("termination_id")
            row = by_type_id.get((tt, tid))
            ep = self.endpoint(tt, row) if row is not None else Endpoint(kind="other", name=f"{tt}#{tid}")
            cable_id = _id(ctr.get("cable")) or ctr.get("cable") or -1
            out.setdefault((cable_id, ctr.get("cable_end") or "?"), []).append(ep)
        return out

    def through_patch(self, ep: Endpoint, depth: int = 0) -> Endpoint:
        """Follow front port → rear port → cable → rear port → front port → its peer, to an interface."""
        if depth > 8 or ep.kind not in ("frontport", "rearport"):
            return ep
        if ep.kind == "frontport":
            fp = self.front_ports.get(ep.key)
            rp = self.rear_ports.get(iface_key(fp.device, fp.rear_port)) if fp and fp.rear_port else None
            pos = (fp.rear_port_position or 1) if fp else 1
        else:
            rp, pos = self.rear_ports.get(ep.key), 1
        if rp is None or not rp.link_peers:
            return ep
        far = rp.link_peers[0]
        if far.kind == "rearport":
            far_fp = self.fp_by_rear.get((far.device, far.name, pos))
            if far_fp is None or not far_fp.link_peers:
                return far
            return self.through_patch(far_fp.link_peers[0], depth + 1)
        return self.through_patch(far, depth + 1)

    @cached_property
    def fp_by_rear(self) -> dict[tuple[str | None, str | None, int], FrontPort]:
        return {(p.device, p.rear_port, p.rear_port_position or 1): p for p in self.front_ports.values()}

    @cached_property
    def circuit_terms(self) -> dict[tuple[str, str], CircuitTermination]:
        out: dict[tuple[str, str], CircuitTermination] = {}
        for o in self.raw.get("circuit_terminations", []):
            peers = self.endpoints(o.get("link_peers_type"), o.get("link_peers"))
            ends = tuple(e for e in (self.through_patch(p) for p in peers) if e.kind == "interface")
            ttype, tid = o.get("termination_type"), o.get("termination_id")
            site = loc = pn = None
            if ttype == "dcim.site":
                site = self.site_by_id.get(tid or -1)
            elif ttype == "dcim.location":
                loc = self.location_by_id.get(tid or -1)
                site = loc.partition("/")[0] if loc else None
            elif ttype == "circuits.providernetwork":
                pn = self.pn_by_id.get(tid or -1)
            ck = self.circuit_by_id.get(_id(o["circuit"]) or -1, "?")
            out[(ck, o["term_side"])] = CircuitTermination(
                id=o["id"], term_side=o["term_side"], site=site, location=loc.partition("/")[2] if loc else None,
                provider_network=pn, port_speed=o.get("port_speed"), xconnect_id=o.get("xconnect_id") or "",
                cable=_id(o.get("cable")), link_peers=peers, connected_endpoints=ends)
        return out

    @cached_property
    def l2_terms(self) -> dict[int, list[L2VPNTermination]]:
        out: dict[int, list[L2VPNTermination]] = {}
        for o in self.raw.get("l2vpn_terminations", []):
            at, aid = o.get("assigned_object_type"), o.get("assigned_object_id")
            ao = o.get("assigned_object") or {}
            if at == "ipam.vlan":
                t = L2VPNTermination(id=o["id"], kind="vlan", vlan=self.vlan_by_id.get(aid or -1), vid=ao.get("vid"))
            elif at == "dcim.interface":
                t = L2VPNTermination(id=o["id"], kind="interface", device=self.device_name(ao.get("device")),
                                     interface=ao.get("name"))
            elif at == "virtualization.vminterface":
                t = L2VPNTermination(id=o["id"], kind="vminterface", interface=ao.get("name"))
            else:
                t = L2VPNTermination(id=o["id"], kind="other")
            out.setdefault(_id(o["l2vpn"]) or -1, []).append(t)
        return out

    def feed_of(self, o: Raw) -> str | None:
        for ep in self.endpoints(o.get("connected_endpoints_type"), o.get("connected_endpoints")):
            if ep.kind == "powerfeed":
                return ep.name
        return None

    def peer_key(self, o: Raw) -> str | None:
        eps = self.endpoints(o.get("link_peers_type"), o.get("link_peers"))
        return eps[0].key if eps and eps[0].kind != "powerfeed" else (eps[0].name if eps else None)

    def term(self, e: Raw) -> Endpoint | None:
        obj = e.get("object")
        if not isinstance(obj, dict):
            return None
        return self.endpoint(e.get("object_type"), obj)

    def cable_side(self, o: Raw, side: str) -> tuple[Endpoint, ...]:
        if f"{side.lower()}_terminations" in o:
            return tuple(t for t in map(self.term, o.get(f"{side.lower()}_terminations") or ()) if t)
        return tuple(self.cable_ends.get((o["id"], side), ()))


def _tenant(o: Raw) -> str | None:
    return _slug(o.get("tenant"))


# --------------------------------------------------------------------------------------------------------
# One converter per kind: (context, row) -> Snapshot object
# --------------------------------------------------------------------------------------------------------
def _ip_address(c: Aggregates, o: Raw) -> IPAddress:
    at, aid, ao = o.get("assigned_object_type"), o.get("assigned_object_id"), o.get("assigned_object")
    dev = ifname = None
    fhrp = None
    if at == "dcim.interface" and isinstance(ao, dict) and aid is not None:
        dev, ifname = c.device_name(ao.get("device")), ao.get("name")
    elif at == "ipam.fhrpgroup" and aid is not None:
        fhrp = aid
    return IPAddress(
        id=o["id"], address=o["address"], vrf=_name(o.get("vrf")), tenant=_tenant(o), role=_v(o.get("role")),
        status=_v(o["status"]), dns_name=o.get("dns_name") or "", description=o.get("description") or "",
        assigned_type=at, device=dev, interface=ifname, fhrp_group=fhrp, tags=_tags(o))


def _device(c: Aggregates, o: Raw) -> Device:
    name = c.device_by_id[o["id"]]
    dt: Raw = c.devtypes.get(_id(o["device_type"]) or -1) or o["device_type"]
    vc_full = c.vc_of(o)
    cfs = {k: _cf_value(v) for k, v in (o.get("custom_fields") or {}).items()}
    asn = cfs.get("bgp_asn")
    if asn is not None and not isinstance(asn, int):
        try:
            asn = int(str(asn).removeprefix("AS"))
        except ValueError:
            raise DataError(f"bgp_asn {asn!r} is not an ASN", obj=f"device {name}",
                            field="custom_fields.bgp_asn") from None
    try:
        return Device(
            id=o["id"], name=name, role=_slug(o.get("role")) or "", platform=_slug(o.get("platform")),
            device_type=DeviceType(
                manufacturer=_slug(dt.get("manufacturer")) or "", model=dt.get("model", ""),
                slug=dt.get("slug", ""), u_height=float(dt.get("u_height", 1) or 0),
                is_full_depth=bool(dt.get("is_full_depth", True))),
            site=_slug(o["site"]) or "", location=(c.location_by_id.get(_id(o.get("location")) or -1)
                                                   or "").partition("/")[2] or None,
            rack=c.rack_by_id.get(_id(o.get("rack")) or -1), position=o.get("position"),
            face=_v(o.get("face")) or None, status=_v(o["status"]), tenant=_tenant(o),
            owner=_name(o.get("owner")),
            virtual_chassis=_name(vc_full), vc_position=o.get("vc_position"),
            vc_master=bool(vc_full and _id(vc_full.get("master")) == o["id"]),
            primary_ip4=_addr(o.get("primary_ip4")), primary_ip6=_addr(o.get("primary_ip6")),
            oob_ip=_addr(o.get("oob_ip")), serial=o.get("serial") or "", asset_tag=o.get("asset_tag"),
            description=o.get("description") or "", tags=_tags(o), custom_fields=cfs, bgp_asn=asn,
            config_context=o.get("config_context") or {})
    except ValidationError as exc:
        raise data_error(exc, f"device {name}") from None


def _virtual_chassis(c: Aggregates, o: Raw) -> VirtualChassis:
    return VirtualChassis(id=o["id"], name=o["name"], domain=o.get("domain") or "",
                          master=c.device_by_id.get(_id(o.get("master")) or -1),
                          members=tuple(c.vc_members.get(o["name"], ())))


def _interface(c: Aggregates, o: Raw) -> Interface:
    dev = c.device_name(o["device"]) or "?"
    uv, tv = o.get("untagged_vlan"), o.get("tagged_vlans") or []
    mac = o.get("primary_mac_address")
    try:
        return Interface(
            id=o["id"], device=dev, name=o["name"], label=o.get("label") or "", type=_v(o["type"]),
            enabled=o.get("enabled", True), mtu=o.get("mtu"), speed=o.get("speed"), mode=_v(o.get("mode")),
            untagged_vid=uv["vid"] if uv else None,
            untagged_vlan=c.vlan_by_id.get(uv["id"]) if uv else None,
            tagged_vids=tuple(sorted(v["vid"] for v in tv)),
            tagged_vlans=tuple(sorted(c.vlan_by_id.get(v["id"], str(v["vid"])) for v in tv)),
            lag=_name(o.get("lag")), parent=_name(o.get("parent")), vrf=_name(o.get("vrf")),
            mgmt_only=bool(o.get("mgmt_only")), description=o.get("description") or "",
            mac_address=mac.get("mac_address") if isinstance(mac, dict) else None, tags=_tags(o),
            ip_addresses=tuple(c.ips[0].get(o["id"], ())), cable=_id(o.get("cable")),
            link_peers=c.endpoints(o.get("link_peers_type"), o.get("link_peers")),
            connected_endpoints=c.endpoints(o.get("connected_endpoints_type"), o.get("connected_endpoints")),
            connected_reachable=o.get("connected_endpoints_reachable"),
            fhrp=tuple(sorted(c.fhrp_by_iface.get(o["id"], ()), key=lambda a: a.group)))
    except ValidationError as exc:
        raise data_error(exc, f"interface {dev}:{o.get('name')}") from None


def _power_port(c: Aggregates, o: Raw) -> PowerPort:
    return PowerPort(
        id=o["id"], device=c.device_name(o["device"]) or "?", name=o["name"], type=_v(o.get("type")),
        allocated_draw=o.get("allocated_draw"), maximum_draw=o.get("maximum_draw"), cable=_id(o.get("cable")),
        feed=c.feed_of(o), link_peer=c.peer_key(o))


def _power_outlet(c: Aggregates, o: Raw) -> PowerOutlet:
    return PowerOutlet(
        id=o["id"], device=c.device_name(o["device"]) or "?", name=o["name"], power_port=_name(o.get("power_port")),
        feed_leg=_v(o.get("feed_leg")), cable=_id(o.get("cable")), link_peer=c.peer_key(o))


def _cable(c: Aggregates, o: Raw) -> Cable:
    return Cable(id=o["id"], label=o.get("label") or "", type=o.get("type") or None, status=_v(o["status"]),
                 tenant=_tenant(o), color=o.get("color") or "", length=o.get("length"),
                 length_unit=_v(o.get("length_unit")), a_terminations=c.cable_side(o, "A"),
                 b_terminations=c.cable_side(o, "B"), tags=_tags(o))


def _circuit(c: Aggregates, o: Raw) -> Circuit:
    k = c.circuit_by_id[o["id"]]
    return Circuit(
        id=o["id"], cid=o["cid"], provider=_slug(o["provider"]) or "", type=_slug(o.get("type")) or "",
        status=_v(o["status"]), tenant=_tenant(o), owner=_name(o.get("owner")), commit_rate=o.get("commit_rate"),
        description=o.get("description") or "", tags=_tags(o),
        termination_a=c.circuit_terms.get((k, "A")), termination_z=c.circuit_terms.get((k, "Z")))


def _contact_groups(o: Raw) -> tuple[str, ...]:
    gs = o.get("groups")
    if gs is None and o.get("group"):
        gs = [o["group"]]
    return tuple(sorted(x["name"] for x in gs or ()))


def _prefix(c: Aggregates, o: Raw) -> Prefix:
    st, sid = o.get("scope_type"), o.get("scope_id")
    scope = c.scope_key(st, sid, o.get("scope"))
    site = scope if st == "dcim.site" else (scope.partition("/")[0] if st == "dcim.location" and scope else None)
    return Prefix(id=o["id"], prefix=o["prefix"], vrf=_name(o.get("vrf")), scope_type=st, scope=scope, site=site,
                  vlan=c.vlan_by_id.get(_id(o.get("vlan")) or -1), tenant=_slug(o.get("tenant")),
                  owner=_name(o.get("owner")),
                  role=_slug(o.get("role")), status=_v(o["status"]), is_pool=bool(o.get("is_pool")),
                  mark_utilized=bool(o.get("mark_utilized")), description=o.get("description") or "",
                  tags=_tags(o))


def _fhrp_group(c: Aggregates, o: Raw) -> FHRPGroup:
    return FHRPGroup(
        id=o["id"], protocol=_v(o["protocol"]), group_id=o["group_id"], name=o.get("name") or "",
        auth_type=_v(o.get("auth_type")) or None, has_auth_key=bool(o.get("auth_type")),
        vips=tuple(sorted(c.ips[1].get(o["id"], [a["address"] for a in o.get("ip_addresses") or ()]))),
        description=o.get("description") or "")


def _power_feed(c: Aggregates, o: Raw) -> PowerFeed:
    return PowerFeed(
        id=o["id"], name=o["name"], power_panel=_name(o["power_panel"]) or "",
        site=_slug(c.panel_by_id.get(_id(o["power_panel"]) or -1, {}).get("site")) or "",
        rack=c.rack_by_id.get(_id(o.get("rack")) or -1), status=_v(o["status"]), type=_v(o["type"]),
        supply=_v(o["supply"]), phase=_v(o["phase"]), voltage=o["voltage"], amperage=o["amperage"],
        max_utilization=o["max_utilization"], available_power=o.get("available_power"), tenant=_tenant(o),
        cable=_id(o.get("cable")), tags=_tags(o))


def _vlan_group(c: Aggregates, o: Raw) -> VLANGroup:
    return VLANGroup(
        id=o["id"], slug=o["slug"], name=o["name"], scope_type=o.get("scope_type"),
        scope=c.scope_key(o.get("scope_type"), o.get("scope_id"), o.get("scope")),
        vid_ranges=tuple((int(r[0]), int(r[1])) for r in o.get("vid_ranges") or ()), tenant=_tenant(o))


def _vlan(c: Aggregates, o: Raw) -> VLAN:
    return VLAN(id=o["id"], vid=o["vid"], name=o["name"], site=_slug(o.get("site")),
                group=_slug(o.get("group")), tenant=_tenant(o), owner=_name(o.get("owner")),
                owner_contact=_cf_name(o, "owner_contact"),
                custom_fields={k: _cf_value(v) for k, v in (o.get("custom_fields") or {}).items()},
                role=_slug(o.get("role")), status=_v(o["status"]), description=o.get("description") or "",
                tags=_tags(o))


def _contact_assignment(c: Aggregates, o: Raw) -> ContactAssignment:
    return ContactAssignment(
        id=o["id"], object_type=o["object_type"], object_id=o["object_id"],
        object_key=c.object_key(o["object_type"], o["object_id"], o.get("object")),
        contact=_name(o["contact"]) or "?", role=_slug(o.get("role")), priority=_v(o.get("priority")) or None)


Converter = Callable[[Aggregates, Raw], BaseModel]

#: Snapshot field (= raw list name) -> its converter, in the Snapshot's field order
CONVERTERS: dict[str, Converter] = {
    "tenant_groups": lambda c, o: TenantGroup(id=o["id"], slug=o["slug"], name=o["name"],
                                              parent=_slug(o.get("parent"))),
    "tenants": lambda c, o: Tenant(id=o["id"], slug=o["slug"], name=o["name"], group=_slug(o.get("group")),
                                   description=o.get("description") or "", tags=_tags(o)),
    "contacts": lambda c, o: Contact(id=o["id"], name=o["name"], groups=_contact_groups(o),
                                     title=o.get("title") or "", email=o.get("email") or "",
                                     phone=o.get("phone") or ""),
    "contact_assignments": _contact_assignment,
    "regions": lambda c, o: Region(id=o["id"], slug=o["slug"], name=o["name"], parent=_slug(o.get("parent"))),
    "sites": lambda c, o: Site(id=o["id"], slug=o["slug"], name=o["name"], status=_v(o["status"]),
                               region=_slug(o.get("region")), tenant=_tenant(o), facility=o.get("facility") or "",
                               asns=tuple(sorted(a["asn"] for a in o.get("asns") or ())), tags=_tags(o)),
    "locations": lambda c, o: Location(id=o["id"], site=_slug(o["site"]) or "", slug=o["slug"], name=o["name"],
                                       parent=_slug(o.get("parent")), status=_v(o.get("status")) or "active",
                                       tenant=_tenant(o)),
    "racks": lambda c, o: Rack(id=o["id"], name=o["name"], site=_slug(o["site"]) or "",
                               location=_slug(o.get("location")), status=_v(o["status"]),
                               role=_slug(o.get("role")), tenant=_tenant(o), u_height=o.get("u_height") or 42,
                               starting_unit=o.get("starting_unit") or 1, desc_units=bool(o.get("desc_units")),
                               facility_id=o.get("facility_id"), tags=_tags(o)),
    "power_panels": lambda c, o: PowerPanel(id=o["id"], name=o["name"], site=_slug(o["site"]) or "",
                                            location=_slug(o.get("location"))),
    "power_feeds": _power_feed,
    "power_ports": _power_port,
    "power_outlets": _power_outlet,
    "tags": lambda c, o: Tag(id=o["id"], slug=o["slug"], name=o["name"], color=o.get("color") or ""),
    "platforms": lambda c, o: Platform(id=o["id"], slug=o["slug"], name=o["name"],
                                       manufacturer=_slug(o.get("manufacturer"))),
    "device_roles": lambda c, o: DeviceRole(id=o["id"], slug=o["slug"], name=o["name"]),
    "virtual_chassis": _virtual_chassis,
    "devices": _device,
    "interfaces": _interface,
    "front_ports": lambda c, o: c.front_port(o),
    "rear_ports": lambda c, o: c.rear_port(o),
    "cables": _cable,
    "vlan_groups": _vlan_group,
    "vlans": _vlan,
    "vrfs": lambda c, o: VRF(id=o["id"], name=o["name"], rd=o.get("rd"), tenant=_tenant(o),
                            enforce_unique=bool(o.get("enforce_unique", True))),
    "prefixes": _prefix,
    "ip_addresses": _ip_address,
    "fhrp_groups": _fhrp_group,
    "asns": lambda c, o: ASN(id=o["id"], asn=o["asn"], rir=_slug(o.get("rir")), tenant=_tenant(o),
                             description=o.get("description") or ""),
    "providers": lambda c, o: Provider(id=o["id"], slug=o["slug"], name=o["name"],
                                       asns=tuple(sorted(a["asn"] for a in o.get("asns") or ())),
                                       description=o.get("description") or ""),
    "provider_networks": lambda c, o: ProviderNetwork(id=o["id"], name=o["name"],
                                                      provider=_slug(o["provider"]) or ""),
    "circuits": _circuit,
    "l2vpns": lambda c, o: L2VPN(id=o["id"], slug=o["slug"], name=o["name"], type=_v(o["type"]),
                                 identifier=o.get("identifier"), status=_v(o.get("status")) or "active",
                                 tenant=_tenant(o), tags=_tags(o), terminations=tuple(c.l2_terms.get(o["id"], ()))),
    "config_contexts": lambda c, o: ConfigContext(id=o["id"], name=o["name"], weight=o.get("weight", 1000),
                                                  is_active=o.get("is_active", True), data=o.get("data") or {}),
}


def convert(c: Aggregates, kind: str, row: Raw) -> BaseModel:
    """One row of list ``kind`` as its Snapshot object (coded E204 on a reply of the wrong shape)."""
    try:
        return CONVERTERS[kind](c, row)
    except ValidationError as exc:
        raise data_error(exc, "snapshot") from None
    except (KeyError, TypeError) as exc:
        raise DataError(f"unexpected NetBox reply shape ({type(exc).__name__}: {exc})", obj="snapshot",
                        code="E204") from None


def build(raw: dict[str, list[Raw]], source: SnapshotSource) -> Snapshot:
    """Every raw list as the Snapshot's tuples."""
    try:
        c = context(raw)
    except (KeyError, TypeError) as exc:
        raise DataError(f"unexpected NetBox reply shape ({type(exc).__name__}: {exc})", obj="snapshot",
                        code="E204") from None
    fields: dict[str, Any] = {kind: tuple(convert(c, kind, o) for o in raw.get(kind, [])) for kind in CONVERTERS}
    try:
        return Snapshot(source=source, **fields)
    except ValidationError as exc:
        raise data_error(exc, "snapshot") from None


def data_error(exc: ValidationError, obj: str) -> DataError:
    first = exc.errors()[0]
    return DataError(f"{first['msg']} (value {first.get('input')!r})", obj=obj,
                     field=".".join(str(x) for x in first["loc"]), code="E204")
