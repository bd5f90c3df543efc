"""Snapshot → :class:`DeviceIntent` per configurable device. All derivation happens here, in Python.

Rules (docs/design.md, docs/intent.md):

* a device is configured when its platform is in the registry and its status is active/staged; a
  virtual chassis is one device, the master, carrying every member's interfaces;
* a *routed link* is a connected cable path between two interfaces holding IPv4 addresses of one subnet:
  OSPF when both interfaces carry tag ``ospf`` (area from config context ``ospf.area``), else eBGP when
  both devices have a ``bgp_asn`` and they differ; EVPN is activated on a BGP session when both devices
  have ``evpn.enabled``;
* a campus interface on a circuit whose far end is not a campus interface peers eBGP with the circuit's
  provider (first provider ASN; neighbor = the other address of the interface's subnet);
* VNIs: L2VPNs of type ``vxlan-evpn`` terminated on a VLAN that the device carries (port or SVI);
* every lab device (tag ``lab``) also gets :attr:`DeviceIntent.emulation`, the same intent for the
  linux-frr platform with Linux interface names, only interfaces towards lab devices, and lab timers.

Everything is indexed once per snapshot: building is linear in the number of interfaces.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, collapse_addresses, ip_interface
from typing import Literal

from pydantic import ValidationError

from campusnet.errors import CampusnetError
from campusnet.intent.context import Context
from campusnet.intent.errors import IntentError, IntentErrors
from campusnet.intent.models import (
    Bgp,
    BgpEvpn,
    BgpIpv4,
    BgpNeighbor,
    DeviceIntent,
    EthernetInterface,
    Evpn,
    Interface,
    Lab,
    LagInterface,
    LoopbackInterface,
    ManagementInterface,
    Ospf,
    OspfArea,
    OspfInterface,
    OvsPort,
    PeerRef,
    PrefixList,
    PrefixListEntry,
    Services,
    StaticRoute,
    SviInterface,
    Switchport,
    System,
    Vlan,
    VlanRange,
    Vlans,
    Vni,
    Vpn,
    VpnRoute,
    Vrrp,
)
from campusnet.platforms import LAB_PLATFORM, REGISTRY, Platform
from campusnet.sot.models import (
    L2VPN,
    VLAN,
    Circuit,
    Device,
    FHRPGroup,
    IPAddress,
    Provider,
    Snapshot,
    iface_key,
)
from campusnet.sot.models import (
    Interface as NbIf,
)
from campusnet.vpn import REMOTE_VPN_DIR, VPN_DEVICE, transport

CONFIGURED_STATUSES = frozenset({"active", "staged"})
#: roles that are not configured network devices (the lab builds test hosts itself)
UNCONFIGURED_ROLES = frozenset({"test-host"})
#: a device of this role announces the ``POOL_PREFIX_ROLE`` prefixes of its site (e.g. the VPN staff pool)
POOL_DEVICE_ROLE = "vpn-gateway"
POOL_PREFIX_ROLE = "vpn-pool"
#: prefixes of this role are what the egress announces to providers (and nothing else)
PUBLIC_PREFIX_ROLE = "public"
#: prefix roles whose prefixes a VPN gateway offers its clients (config context `vpn.route_roles` overrides):
#: the DC server prefixes and the campus user prefixes
VPN_ROUTE_ROLES = ("server", "users")
PROVIDER_OUT_PREFIX_LIST = "CN-TO-PROVIDER"
SECONDARY_IP_ROLES = frozenset({"anycast", "vip"})
#: VLAN roles whose gateways do not relay DHCP unless `services.dhcp_relay.vlan_roles` says otherwise
NO_RELAY_VLAN_ROLES = frozenset({"server", "management"})
CONNECTED_CABLE_STATUSES = frozenset({"connected"})
OSPF_TAG = "ospf"
LAB_TAG = "lab"
L2VPN_VXLAN_TYPES = frozenset({"vxlan-evpn"})
_DIGITS = re.compile(r"(\d+)$")
_LOOPBACK_NAME = re.compile(r"^(lo|loopback|LoopBack|Loopback)(\d*)$")


# --------------------------------------------------------------------------------------------------------
# small pure helpers
# --------------------------------------------------------------------------------------------------------
def vlan_ranges(vids: Iterable[int]) -> tuple[VlanRange, ...]:
    """Compact VLAN ids into ranges.

    >>> [(r.start, r.end) for r in vlan_ranges([30, 10, 11, 12, 20])]
    [(10, 12), (20, 20), (30, 30)]
    """
    out: list[VlanRange] = []
    start = prev = None
    for vid in sorted(set(vids)):
        if start is None:
            start = prev = vid
        elif prev is not None and vid == prev + 1:
            prev = vid
        else:
            out.append(VlanRange(start=start, end=prev if prev is not None else start))
            start = prev = vid
    if start is not None:
        out.append(VlanRange(start=start, end=prev if prev is not None else start))
    return tuple(out)


def other_host(iface: IPv4Interface) -> IPv4Address | None:
    """The other address of a point-to-point subnet (/31 or /30), or None for larger subnets.

    >>> other_host(IPv4Interface("10.0.0.0/31")), other_host(IPv4Interface("10.0.0.2/30"))
    (IPv4Address('10.0.0.1'), IPv4Address('10.0.0.1'))
    """
    net = iface.network
    if net.prefixlen == 31:
        return net[1] if iface.ip == net[0] else net[0]
    if net.prefixlen == 30:
        return net[2] if iface.ip == net[1] else net[1]
    return None


def ospf_area(value: str | int) -> str:
    """Dotted area id. ``ospf_area(0) == '0.0.0.0'``, ``ospf_area('0.0.0.1') == '0.0.0.1'``."""
    if isinstance(value, int) or str(value).isdigit():
        return str(IPv4Address(int(value)))
    return str(IPv4Address(str(value)))


@lru_cache(maxsize=262144)
def _parse_if(address: str) -> IPv4Interface | None:
    i = ip_interface(address)
    return i if isinstance(i, IPv4Interface) else None


def _v4(addresses: Iterable[str]) -> list[IPv4Interface]:
    out: list[IPv4Interface] = []
    for a in addresses:
        i = _parse_if(a)
        if i is not None:
            out.append(i)
    return out


# --------------------------------------------------------------------------------------------------------
# the per-snapshot index
# --------------------------------------------------------------------------------------------------------
@dataclass
class _Index:
    snap: Snapshot
    devices: dict[str, Device] = field(default_factory=dict)
    logical: dict[str, str] = field(default_factory=dict)  # device → its logical device (VC master)
    members: dict[str, list[Device]] = field(default_factory=dict)  # logical → member devices
    lab: set[str] = field(default_factory=set)  # logical devices tagged lab
    ifaces_by_logical: dict[str, list[NbIf]] = field(default_factory=lambda: defaultdict(list))
    iface: dict[str, NbIf] = field(default_factory=dict)
    ips: dict[str, list[IPAddress]] = field(default_factory=lambda: defaultdict(list))
    vlans: dict[str, VLAN] = field(default_factory=dict)
    fhrp: dict[int, FHRPGroup] = field(default_factory=dict)
    l2vpn_by_vlan: dict[str, L2VPN] = field(default_factory=dict)
    l2vpn_by_vid_site: dict[tuple[str | None, int], L2VPN] = field(default_factory=dict)
    circuit_by_iface: dict[str, Circuit] = field(default_factory=dict)
    circuit_campus_ends: dict[str, int] = field(default_factory=dict)
    providers: dict[str, Provider] = field(default_factory=dict)
    cable_status: dict[int, str] = field(default_factory=dict)
    lag_iface: dict[tuple[str, str], NbIf] = field(default_factory=dict)  # (logical, lag name) → Interface
    # memo tables: identical values are shared (the models are frozen), names mapped once per platform
    switchports: dict[tuple[object, ...], Switchport] = field(default_factory=dict)
    names: dict[tuple[str, str], str] = field(default_factory=dict)
    services: dict[tuple[str, str | None], Services] = field(default_factory=dict)
    pools_by_site: dict[str, list[IPv4Network]] = field(default_factory=lambda: defaultdict(list))
    public: list[IPv4Network] = field(default_factory=list)

    @classmethod
    def build(cls, snap: Snapshot) -> _Index:
        idx = cls(snap)
        idx.devices = {d.name: d for d in snap.devices}
        vc_members: dict[str, list[Device]] = defaultdict(list)
        for d in snap.devices:
            if d.virtual_chassis:
                vc_members[d.virtual_chassis].append(d)
        masters: dict[str, str] = {}
        for vc in snap.virtual_chassis:
            members = sorted(vc_members.get(vc.name, ()), key=lambda d: (d.vc_position or 0, d.name))
            master = vc.master or next((d.name for d in members if d.vc_master), None) or (
                members[0].name if members else None)
            if master is None:
                continue
            masters[vc.name] = master
            idx.members[master] = members
            for d in members:
                idx.logical[d.name] = master
        for d in snap.devices:
            if d.name not in idx.logical:
                idx.logical[d.name] = d.name
                idx.members[d.name] = [d]
        for d in snap.devices:
            if LAB_TAG in d.tags:
                idx.lab.add(idx.logical[d.name])
        for i in snap.interfaces:
            logical = idx.logical.get(i.device, i.device)
            idx.ifaces_by_logical[logical].append(i)
            idx.iface[i.key] = i
            if i.type == "lag":
                idx.lag_iface[(logical, i.name)] = i
        for ip in snap.ip_addresses:
            if ip.device and ip.interface:
                idx.ips[iface_key(ip.device, ip.interface)].append(ip)
        idx.vlans = {v.key: v for v in snap.vlans}
        idx.fhrp = {g.id: g for g in snap.fhrp_groups}
        for l2 in snap.l2vpns:
            if l2.type not in L2VPN_VXLAN_TYPES or l2.identifier is None:
                continue
            for lt in l2.terminations:
                if lt.kind == "vlan" and lt.vlan:
                    idx.l2vpn_by_vlan[lt.vlan] = l2
        for c in snap.circuits:
            ends = 0
            for t in c.terminations:
                ep = t.interface
                if ep is not None and ep.device and ep.name:
                    idx.circuit_by_iface[iface_key(ep.device, ep.name)] = c
                    ends += 1
            idx.circuit_campus_ends[c.key] = ends
        idx.providers = {p.slug: p for p in snap.providers}
        idx.cable_status = {c.id: c.status for c in snap.cables}
        for pfx in snap.prefixes:
            net = pfx.network
            if not isinstance(net, IPv4Network) or pfx.vrf is not None:
                continue
            if pfx.role == POOL_PREFIX_ROLE and pfx.site:
                idx.pools_by_site[pfx.site].append(net)
            elif pfx.role == PUBLIC_PREFIX_ROLE:
                idx.public.append(net)
        return idx

    def vlan_of(self, key: str | None) -> VLAN | None:
        return self.vlans.get(key) if key else None


# --------------------------------------------------------------------------------------------------------
# one device
# --------------------------------------------------------------------------------------------------------
@dataclass
class _Link:
    """A routed link seen from this device."""

    local: NbIf
    local_ip: IPv4Interface
    peer_device: str | None  # logical name (None: provider circuit)
    peer_ip: IPv4Address | None
    peer_iface: NbIf | None
    circuit: Circuit | None


class _DeviceBuilder:
    def __init__(self, idx: _Index, dev: Device, platform: Platform, *, emulation: bool):
        self.idx = idx
        self.dev = dev
        self.name = dev.name
        self.p = platform
        self.emulation = emulation
        self.ctx = Context(dev.name, dev.config_context)
        self.members = idx.members.get(dev.name, [dev])
        self.ifaces = idx.ifaces_by_logical.get(dev.name, [])
        self.lag_ids: dict[str, int] = {}

    def eth_name(self, netbox_name: str) -> str:
        key = (self.p.slug, netbox_name)
        name = self.idx.names.get(key)
        if name is None:
            name = self.idx.names[key] = self.p.ethernet_name(netbox_name)
        return name

    def err(self, message: str, field: str | None = None) -> IntentError:
        return IntentError(message, device=self.name, field=field)

    # -- lookups -----------------------------------------------------------------------------------------
    def asn_of(self, logical: str) -> int | None:
        d = self.idx.devices.get(logical)
        return d.bgp_asn if d else None

    def evpn_of(self, logical: str) -> bool:
        d = self.idx.devices.get(logical)
        return bool(d and isinstance(d.config_context.get("evpn"), dict)
                    and d.config_context["evpn"].get("enabled") is True)  # type: ignore[union-attr]

    def iface_ips(self, i: NbIf) -> list[IPv4Interface]:
        key = i.key
        return _v4(ip.address for ip in self.idx.ips.get(key, ()) if ip.role not in ("vrrp", *SECONDARY_IP_ROLES))

    def secondary_ips(self, i: NbIf) -> list[IPv4Interface]:
        return _v4(ip.address for ip in self.idx.ips.get(i.key, ()) if ip.role in SECONDARY_IP_ROLES)

    def cabled(self, i: NbIf) -> bool:
        cable = i.cable
        return cable is not None and self.idx.cable_status.get(cable, "connected") in CONNECTED_CABLE_STATUSES

    def peer_iface(self, i: NbIf) -> NbIf | None:
        """The interface at the far end of the cable path, if it is one interface of a configured device."""
        if not self.cabled(i):
            return None
        eps = [e for e in i.connected_endpoints if e.kind == "interface"]
        if len(eps) != 1 or not eps[0].device or not eps[0].name:
            return None
        return self.idx.iface.get(iface_key(eps[0].device, eps[0].name))

    def peer_logical(self, peer: NbIf | None) -> str | None:
        return self.idx.logical.get(peer.device) if peer is not None else None

    def in_lab(self, i: NbIf) -> bool:
        """In the emulation, only interfaces towards lab devices (or lab circuits) exist."""
        peer = self.peer_iface(i)
        if peer is not None:
            return self.peer_logical(peer) in self.idx.lab
        circuit = self.idx.circuit_by_iface.get(i.key)
        return circuit is not None and LAB_TAG in circuit.tags and self.cabled(i)

    # -- classification ----------------------------------------------------------------------------------
    def kind_of(self, i: NbIf) -> str:
        name: str = i.name
        if i.mgmt_only or name == "mgmt0":
            return "management"
        if i.type == "lag":
            return "lag"
        if i.type == "virtual":
            if i.untagged_vid is not None or name.lower().startswith(("vlan", "vlanif", "vlan-interface")):
                return "svi"
            if _LOOPBACK_NAME.match(name) or any(ip.role == "loopback" for ip in self.idx.ips.get(i.key, ())):
                return "loopback"
            return "other"
        return "ethernet"

    def lag_id(self, lag_name: str, field: str) -> int:
        if lag_name not in self.lag_ids:
            m = _DIGITS.search(lag_name)
            if not m:
                raise self.err(f"LAG {lag_name!r} has no number in its name", field)
            self.lag_ids[lag_name] = int(m.group(1))
        return self.lag_ids[lag_name]

    def description(self, i: NbIf, peer: NbIf | None, circuit: Circuit | None) -> str:
        if i.description:
            return str(i.description)
        if peer is not None:
            text = f"{peer.device} {peer.name}"
            return f"{text} via {circuit.cid}" if circuit is not None else text
        if circuit is not None:
            return f"{circuit.provider} {circuit.cid}"
        return ""

    # -- the build -----------------------------------------------------------------------------------------
    def build(self) -> DeviceIntent:
        dev, p = self.dev, self.p
        router_id = ip_interface(dev.primary_ip4).ip if dev.primary_ip4 else None
        if router_id is not None and not isinstance(router_id, IPv4Address):
            router_id = None
        vc_names = tuple(m.name for m in self.members) if dev.virtual_chassis else ()

        # VLANs known to the device (names from NetBox VLAN objects)
        vlan_objs: dict[int, VLAN | None] = {}

        def note_vlan(vid: int | None, key: str | None) -> None:
            if vid is None:
                return
            obj = self.idx.vlan_of(key)
            if vid not in vlan_objs or vlan_objs[vid] is None:
                vlan_objs[vid] = obj

        # pass 1: classify, collect LAG members, routed links
        by_kind: dict[str, list[NbIf]] = defaultdict(list)
        for i in self.ifaces:
            kind = self.kind_of(i)
            if self.emulation and kind in ("ethernet",) and not self.in_lab(i):
                continue
            by_kind[kind].append(i)
        lag_members: dict[str, list[NbIf]] = defaultdict(list)
        for i in by_kind["ethernet"]:
            if i.lag:
                lag_members[i.lag].append(i)

        relay_servers, relay_roles = self.ctx.dhcp_relay()
        relay_ok = p.capabilities.dhcp_relay
        links: list[_Link] = []
        ospf_local: set[str] = set()  # interface keys with an OSPF adjacency
        area: str | None = None
        hello = dead = None
        ospf_timers = None
        if self.emulation:
            hello, dead, ospf_timers = self.ctx.ospf_lab_timers()

        def link_for(i: NbIf, ips: list[IPv4Interface]) -> _Link | None:
            if not ips:
                return None
            local_ip = ips[0]
            peer = self.peer_iface(i)
            if i.type == "lag":
                # the peer LAG: the LAG of the peer of any member
                peer = None
                for m in lag_members.get(i.name, ()):
                    mp = self.peer_iface(m)
                    if mp is not None and mp.lag:
                        peer = self.idx.lag_iface.get((self.peer_logical(mp) or "", mp.lag))
                        break
            circuit = self.idx.circuit_by_iface.get(i.key)
            if peer is not None:
                peer_ips = [x for x in self.iface_ips(peer) if x.network == local_ip.network]
                return _Link(i, local_ip, self.peer_logical(peer), peer_ips[0].ip if peer_ips else None, peer,
                             circuit)
            if circuit is not None and self.idx.circuit_campus_ends.get(circuit.key, 0) == 1 and self.cabled(i):
                return _Link(i, local_ip, None, other_host(local_ip), None, circuit)
            return None

        # pass 2: interfaces
        out: list[tuple[str, str, Interface]] = []  # (kind, name, model)

        def add(kind: str, model: Interface) -> None:
            out.append((kind, model.name, model))

        def switchport(i: NbIf) -> Switchport | None:
            mode = i.mode
            if mode == "access":
                note_vlan(i.untagged_vid, i.untagged_vlan)
                if i.untagged_vid is None:
                    raise self.err(f"access port {i.name} has no untagged VLAN", f"{i.name}.untagged_vlan")
                key: tuple[object, ...] = ("access", i.untagged_vid)
                sp = self.idx.switchports.get(key)
                if sp is None:
                    sp = self.idx.switchports[key] = Switchport(mode="access", access_vlan=i.untagged_vid)
                return sp
            if mode in ("tagged", "tagged-all"):
                for vid, vkey in zip(i.tagged_vids, i.tagged_vlans or (None,) * len(i.tagged_vids), strict=False):
                    note_vlan(vid, vkey)
                note_vlan(i.untagged_vid, i.untagged_vlan)
                key = (mode, i.untagged_vid, i.tagged_vids)
                sp = self.idx.switchports.get(key)
                if sp is None:
                    allowed = tuple(sorted(set(i.tagged_vids) | ({i.untagged_vid} if i.untagged_vid else set())))
                    sp = self.idx.switchports[key] = Switchport(
                        mode="trunk", native_vlan=i.untagged_vid, allowed_vlans=allowed,
                        allowed_ranges=vlan_ranges(allowed), allowed_csv=",".join(map(str, allowed)),
                        allow_all=mode == "tagged-all")
                return sp
            return None

        def ospf_if(i: NbIf, *, passive: bool, p2p: bool) -> OspfInterface | None:
            nonlocal area
            if area is None:
                raw = self.ctx.get("ospf.area")
                if raw is None:
                    raise self.err("missing: OSPF runs on this device (tag ospf on a link) but no area is set",
                                   "config_context.ospf.area")
                try:
                    area = ospf_area(raw)
                except ValueError:
                    raise self.err(f"not an OSPF area: {raw!r}", "config_context.ospf.area") from None
            return OspfInterface(process_id=self.ctx.integer("ospf.process_id", 1) or 1, area=area,
                                 network_type="p2p" if p2p else None, passive=passive,
                                 cost=None if passive else self.ctx.integer("ospf.cost"),
                                 hello_interval=None if passive else hello,
                                 dead_interval=None if passive else dead)

        # routed links first (they decide OSPF on this device)
        routed: dict[str, _Link] = {}
        for i in [*by_kind["ethernet"], *by_kind["lag"]]:
            ips = self.iface_ips(i)
            link = link_for(i, ips)
            if link is None:
                continue
            routed[i.key] = link
            links.append(link)
            if (link.peer_iface is not None and OSPF_TAG in i.tags
                    and OSPF_TAG in link.peer_iface.tags):
                ospf_local.add(i.key)
        runs_ospf = bool(ospf_local)

        for i in by_kind["management"]:
            if i.device != dev.name:
                continue  # a virtual chassis is managed through its master
            name = p.management_name if self.emulation else self.eth_name(i.name)
            mgmt_ip = _v4([dev.oob_ip] if dev.oob_ip and i.device == dev.name else [])
            all_ips = _v4(x.address for x in self.idx.ips.get(i.key, ()))
            candidates = mgmt_ip or all_ips
            if not candidates:
                continue
            ipv4 = candidates[0]
            add("management", ManagementInterface(
                name=name, netbox_name=i.name, netbox_device=i.device,
                description=i.description or "management",
                vrf=i.vrf if p.capabilities.mgmt_vrf else None,
                ipv4=ipv4, gateway=self.ctx.addresses("mgmt.gateway")[0] if self.ctx.has("mgmt.gateway") else None))

        loopback_ips: list[tuple[str, IPv4Interface]] = []
        for n, i in enumerate(sorted(by_kind["loopback"], key=lambda x: x.name)):
            ips = self.iface_ips(i)
            if not ips:
                continue
            m = _LOOPBACK_NAME.match(i.name)
            index = int(m.group(2)) if m and m.group(2) else n
            name = p.loopback_name(index)
            loopback_ips.append((name, ips[0]))
            add("loopback", LoopbackInterface(
                name=name, netbox_name=i.name, netbox_device=i.device,
                description=i.description or "loopback",
                ipv4=ips[0], secondary=tuple(self.secondary_ips(i)),
                ospf=ospf_if(i, passive=True, p2p=False) if runs_ospf else None))

        lag_names: dict[str, str] = {}
        for i in by_kind["lag"]:
            members = lag_members.get(i.name, [])
            if self.emulation and not members:
                continue
            lag_id = self.lag_id(i.name, f"{i.name}.name")
            lag_names[i.name] = p.lag_name(lag_id)
        for i in by_kind["ethernet"]:
            lag = i.lag
            if lag and lag not in lag_names and not self.emulation:
                raise self.err(f"member of LAG {lag!r}, which is not an interface of this device",
                               f"{i.name}.lag")

        for i in by_kind["ethernet"]:
            peer = self.peer_iface(i)
            circuit = self.idx.circuit_by_iface.get(i.key)
            link = routed.get(i.key)
            lag = i.lag
            if self.emulation and lag and lag not in lag_names:
                continue
            peer_ref = None
            if peer is not None:
                peer_ref = PeerRef(device=peer.device, interface=peer.name, circuit=circuit.key if circuit else None)
            elif circuit is not None:
                peer_ref = PeerRef(circuit=circuit.key)
            is_ospf = i.key in ospf_local
            if self.emulation and not lag and not link and i.mode is None and not self.iface_ips(i):
                continue
            add("ethernet", EthernetInterface(
                name=self.eth_name(i.name), netbox_name=i.name, netbox_device=i.device,
                description=self.description(i, peer, circuit), enabled=i.enabled, mtu=i.mtu,
                peer=peer_ref,
                switchport=None if lag else switchport(i),
                lag=lag_names.get(lag) if lag else None,
                lag_id=self.lag_ids.get(lag) if lag else None,
                lacp_fast=bool(lag),
                ipv4=link.local_ip if link else None,
                ospf=ospf_if(i, passive=False, p2p=True) if is_ospf else None))

        for i in by_kind["lag"]:
            if i.name not in lag_names:
                continue
            members = lag_members.get(i.name, [])
            link = routed.get(i.key)
            if self.emulation and link is not None:
                raise self.err("the lab cannot emulate a routed LAG (no bond driver)", f"{i.name}.ip_addresses")
            peer_dev = None
            for member in members:
                mp = self.peer_iface(member)
                if mp is not None:
                    peer_dev = self.peer_logical(mp)
                    break
            desc = i.description or (f"{peer_dev} LAG" if peer_dev else "")
            add("lag", LagInterface(
                name=lag_names[i.name], netbox_name=i.name, netbox_device=i.device,
                description=desc, enabled=i.enabled, mtu=i.mtu,
                lag_id=self.lag_ids[i.name],
                members=tuple(sorted((self.eth_name(m.name) for m in members), key=self._nk)),
                switchport=switchport(i), ipv4=link.local_ip if link else None,
                ospf=ospf_if(i, passive=False, p2p=True) if i.key in ospf_local else None,
                peer_device=peer_dev))

        # VNIs carried here (decided before SVIs: in the lab a VNI's gateway lives on its bridge)
        evpn_on = self.evpn_of(self.name)
        svi_vids = [i.untagged_vid if i.untagged_vid is not None else self._vid_from_name(i)
                    for i in by_kind["svi"]]
        for i, vid in zip(by_kind["svi"], svi_vids, strict=True):
            note_vlan(vid, i.untagged_vlan)

        vni_by_vid: dict[int, L2VPN] = {}
        if evpn_on:
            for vid, obj in vlan_objs.items():
                if obj is not None and obj.key in self.idx.l2vpn_by_vlan:
                    vni_by_vid[vid] = self.idx.l2vpn_by_vlan[obj.key]

        for i, vid in zip(by_kind["svi"], svi_vids, strict=True):
            ips = self.iface_ips(i)
            vlan = self.idx.vlan_of(i.untagged_vlan)
            vrrps: list[Vrrp] = []
            for a in i.fhrp:
                group = self.idx.fhrp.get(a.group)
                if group is None or not group.protocol.startswith("vrrp"):
                    continue
                if not p.capabilities.vrrp:
                    raise self.err(f"platform {p.slug} cannot do VRRP", f"{i.name}.fhrp")
                vips = _v4(group.vips)
                if not vips:
                    raise self.err(f"FHRP group {group.id} (VRID {group.group_id}) has no virtual IP",
                                   f"{i.name}.fhrp")
                vrrps.append(Vrrp(vrid=group.group_id, version=2 if group.protocol == "vrrp2" else 3,
                                  virtual_ip=vips[0].ip, priority=a.priority,
                                  virtual_mac=f"00:00:5e:00:01:{group.group_id:02x}",
                                  macvlan=f"vrrp{vid}-{group.group_id}"))
            relay: tuple[IPv4Address, ...] = ()
            role = vlan.role if vlan else None
            if relay_servers and relay_ok and ips and (
                    role not in NO_RELAY_VLAN_ROLES if relay_roles is None else role in relay_roles):
                relay = relay_servers
            in_vni = vid in vni_by_vid
            add("svi", SviInterface(
                name=p.svi_name(vid), netbox_name=i.name, netbox_device=i.device,
                description=i.description or (vlan.name if vlan else f"vlan {vid}"),
                enabled=i.enabled, mtu=i.mtu, vlan_id=vid,
                ipv4=ips[0] if ips else None, vrrp=tuple(sorted(vrrps, key=lambda v: v.vrid)),
                dhcp_relay=relay,
                ospf=ospf_if(i, passive=True, p2p=False) if runs_ospf and ips else None,
                lab_port=None if (in_vni or not p.capabilities.ovs) else f"vlan{vid}o"))

        interfaces = tuple(m for _, _, m in sorted(out, key=lambda t: p.interface_sort_key(t[0], t[1])))  # type: ignore[arg-type]

        # VLANs
        vlans = tuple(Vlan(vid=vid, name=(obj.name if obj else f"VLAN{vid}"),
                           description=(obj.description if obj else ""))
                      for vid, obj in sorted(vlan_objs.items()))
        vlans_model = Vlans(vlans=vlans, ranges=vlan_ranges(vlan_objs), vids_csv=",".join(map(str, sorted(vlan_objs))))

        # loopback as the source of services and VTEP
        lo_name, lo_ip = loopback_ips[0] if loopback_ips else (None, None)
        # services: the same context content gives the same (frozen) model, parsed once
        skey = (json.dumps(self.ctx.get("services"), sort_keys=True, default=str), lo_name)
        services = self.idx.services.get(skey) or self.idx.services.setdefault(skey, self.ctx.services(lo_name))
        if any(isinstance(x, SviInterface) and x.dhcp_relay for x in interfaces):
            services = services.model_copy(update={"dhcp_relay": True})

        # BGP (first: whether this device is the OSPF/BGP boundary or the egress decides OSPF extras)
        static = list(self.ctx.static_routes())
        bgp = self._bgp(links, ospf_local, router_id, interfaces, evpn_on, bool(vni_by_vid), runs_ospf, static)
        has_provider = bgp is not None and any(n.kind == "provider" for n in bgp.neighbors)
        boundary = runs_ospf and bgp is not None and any(n.kind == "campus" for n in bgp.neighbors)

        # OSPF process
        ospf = None
        if runs_ospf:
            if not p.capabilities.ospf:
                raise self.err(f"platform {p.slug} cannot run OSPF", "platform")
            if router_id is None:
                raise self.err("missing: OSPF needs a router id (the loopback as primary IPv4)", "primary_ip4")
            assert area is not None
            networks = sorted({x.ipv4.network for x in interfaces
                               if not isinstance(x, ManagementInterface) and getattr(x, "ospf", None) is not None
                               and x.ipv4 is not None})
            passive = tuple(x.name for x in interfaces if getattr(x, "ospf", None) is not None
                            and x.ospf.passive)  # type: ignore[union-attr]
            dflt = self.ctx.get("ospf.default_originate", "normal" if has_provider else None)
            redistribute = list(self.ctx.get("ospf.redistribute", ()) or ())
            if boundary and "bgp" not in redistribute:
                redistribute.append("bgp")  # the fabric's and VPN's routes into the campus
            if has_provider and "bgp" not in redistribute:
                # the egress: what a provider announces beyond the default (its test addresses, its
                # customers) goes to the right egress, not to whichever default the core hashes onto
                redistribute.append("bgp")
            ospf = Ospf(process_id=self.ctx.integer("ospf.process_id", 1) or 1, router_id=router_id,
                        areas=(OspfArea(area=area, networks=tuple(networks)),),
                        passive_interfaces=passive,
                        default_originate="always" if dflt in ("always", True) else (
                            "normal" if dflt == "normal" else None),
                        redistribute=tuple(redistribute),
                        timers=ospf_timers)

        # EVPN / VXLAN
        evpn = None
        if evpn_on and vni_by_vid:
            if not p.capabilities.evpn:
                raise self.err(f"platform {p.slug} cannot do EVPN/VXLAN", "config_context.evpn.enabled")
            if lo_ip is None or lo_name is None:
                raise self.err("missing: a VTEP needs a loopback address", "interfaces.loopback")
            svi_gw = {x.vlan_id: x.ipv4 for x in interfaces if isinstance(x, SviInterface)}
            evpn = Evpn(vtep_source=lo_ip.ip, source_interface=lo_name, vnis=tuple(
                Vni(vni=l2.identifier or 0, vlan_id=vid, name=l2.name, bridge_domain=vid,
                    rd=f"{lo_ip.ip}:{vid}", route_target=f"{l2.identifier}:1", gateway=svi_gw.get(vid),
                    lab_bridge=f"vlan{vid}", lab_vxlan=f"vxlan{l2.identifier}", lab_bridge_port=f"vlan{vid}b",
                    lab_port=f"vlan{vid}o")
                for vid, l2 in sorted(vni_by_vid.items())))

        static_routes = tuple(sorted(static, key=lambda r: (r.prefix, str(r.next_hop))))
        # the lab runs a virtual chassis as one node named after the chassis: FRR takes the node's hostname
        hostname = dev.virtual_chassis if (self.emulation and dev.virtual_chassis) else dev.name
        system = System(hostname=hostname, site=dev.site, role=dev.role, platform=p.slug, tenant=dev.tenant,
                        description=dev.description, router_id=router_id, lab=self.name in self.idx.lab,
                        vc_members=vc_names, ip_forwarding=True, ipv6_forwarding=False)
        lab = self._lab(interfaces, evpn, ospf, bgp) if (self.emulation or p.capabilities.ovs) else None
        vpn = self._vpn(interfaces) if dev.role == POOL_DEVICE_ROLE else None
        return DeviceIntent(system=system, services=services if not self.emulation else Services(),
                            vlans=vlans_model, interfaces=interfaces, ospf=ospf, bgp=bgp, evpn=evpn,
                            static_routes=static_routes, vpn=vpn, lab=lab)

    def _vpn(self, interfaces: tuple[Interface, ...]) -> Vpn:
        """The remote-access VPN server of a VPN gateway, from NetBox only (docs/intent.md, "VPN")."""
        if not self.p.capabilities.vpn:
            raise self.err(f"platform {self.p.slug} cannot run the VPN server", "platform")
        pools = sorted(self.idx.pools_by_site.get(self.dev.site, ()))
        if not pools:
            raise self.err(f"missing: a VPN gateway needs a prefix of role {POOL_PREFIX_ROLE} at its site "
                           f"{self.dev.site}", f"prefix (role {POOL_PREFIX_ROLE})")
        pool = pools[0]
        listen: IPv4Interface | None = None
        for x in interfaces:
            if isinstance(x, LoopbackInterface) and x.secondary:
                listen = x.secondary[0]
                break
        if listen is None:
            raise self.err("missing: a VPN gateway listens on a public address: an IP of role anycast (or vip) on "
                           "its loopback", "interfaces.loopback.ip_addresses (role anycast)")
        dns = next((ip.dns_name for key in (i.key for i in self.ifaces) for ip in self.idx.ips.get(key, ())
                    if ip.address == str(listen)), "")
        try:
            port, proto = transport(self.dev.config_context)
        except CampusnetError as exc:
            raise self.err(exc.message, exc.field) from None
        roles = tuple(str(r) for r in (self.ctx.get("vpn.route_roles") or VPN_ROUTE_ROLES))
        by_role: dict[IPv4Network, set[str]] = defaultdict(set)
        for pfx in self.idx.snap.prefixes:
            net = pfx.network
            if pfx.vrf is None and isinstance(net, IPv4Network) and pfx.role in roles and not net.overlaps(pool):
                by_role[net].add(pfx.role or "")
        routes = []
        for net in collapse_addresses(by_role):
            covered = sorted({r for n, rs in by_role.items() if n.subnet_of(net) for r in rs})
            routes.append(VpnRoute(network=net, netmask=net.netmask, roles=tuple(covered)))
        return Vpn(common_name=self.dev.name, listen=listen.ip, dns_name=dns, port=port, proto=proto,
                   device=VPN_DEVICE, pool=pool, server_address=IPv4Interface(f"{pool[1]}/{pool.prefixlen}"),
                   routes=tuple(routes), key_dir=REMOTE_VPN_DIR)

    @staticmethod
    def _nk(name: str) -> tuple[object, ...]:
        from campusnet.platforms import natural_key

        return natural_key(name)

    def _vid_from_name(self, i: NbIf) -> int:
        m = _DIGITS.search(i.name)
        if not m:
            raise self.err("SVI without untagged VLAN and without a VLAN number in its name",
                           f"{i.name}.untagged_vlan")
        return int(m.group(1))

    def _bgp(self, links: list[_Link], ospf_local: set[str], router_id: IPv4Address | None,
             interfaces: tuple[Interface, ...], evpn_on: bool, has_vnis: bool, runs_ospf: bool,
             static: list[StaticRoute]) -> Bgp | None:
        asn = self.dev.bgp_asn
        if evpn_on and asn is None:
            raise self.err("missing: EVPN is enabled (config_context.evpn.enabled) but the device has no ASN",
                           "bgp_asn")
        if asn is None:
            return None
        timers, connect, advint = self.ctx.bgp_lab_timers() if self.emulation else (None, None, None)
        names = {x.netbox_name: x.name for x in interfaces}
        neighbors: list[BgpNeighbor] = []
        for link in links:
            local = link.local
            if local.key in ospf_local:
                continue
            if link.circuit is not None and link.peer_device is None:
                provider = self.idx.providers.get(link.circuit.provider)
                if provider is None or not provider.asns:
                    raise IntentError("provider has no ASN: cannot peer eBGP over its circuit",
                                      device=self.name, field=f"circuit {link.circuit.key}: provider.asns")
                if link.peer_ip is None:
                    raise self.err(f"circuit interface {local.name} needs a /31 or /30 to find the provider's "
                                   "address", f"{local.name}.ip_addresses")
                neighbors.append(BgpNeighbor(
                    address=link.peer_ip, remote_as=provider.asns[0], kind="provider",
                    description=f"{provider.name} {link.circuit.cid}", interface=names.get(local.name),
                    address_families=("ipv4",), prefix_list_out=PROVIDER_OUT_PREFIX_LIST,
                    advertisement_interval=advint, connect_timer=connect))
                continue
            if link.peer_device is None:
                continue
            peer_asn = self.asn_of(link.peer_device)
            if peer_asn is None or peer_asn == asn:
                continue
            if link.peer_ip is None:
                raise self.err(f"eBGP link {local.name} to {link.peer_device}: the peer interface has no address "
                               f"in {link.local_ip.network}", f"{local.name}.ip_addresses")
            both_evpn = evpn_on and self.evpn_of(link.peer_device)
            afs: tuple[Literal["ipv4", "evpn"], ...] = ("ipv4", "evpn") if both_evpn else ("ipv4",)
            neighbors.append(BgpNeighbor(
                address=link.peer_ip, remote_as=peer_asn, kind="fabric" if both_evpn else "campus",
                description=link.peer_device, interface=names.get(local.name), address_families=afs,
                # the OSPF/BGP boundary (a core) gives the BGP side its way out
                default_originate=runs_ospf and not both_evpn,
                next_hop_unchanged=both_evpn and not has_vnis,
                advertisement_interval=advint, connect_timer=connect))
        if not neighbors:
            return None
        if not self.p.capabilities.bgp:
            raise self.err(f"platform {self.p.slug} cannot run BGP", "platform")
        if router_id is None:
            raise self.err("missing: BGP needs a router id (the loopback as primary IPv4)", "primary_ip4")
        neighbors.sort(key=lambda n: n.address)
        has_provider = any(n.kind == "provider" for n in neighbors)
        has_campus = any(n.kind == "campus" for n in neighbors)

        # what this device announces
        networks: set[IPv4Network] = set(self.ctx.networks("bgp.networks"))
        for x in interfaces:
            if isinstance(x, LoopbackInterface):
                networks.update(IPv4Network(f"{a.ip}/32") for a in (x.ipv4, *x.secondary))
            elif isinstance(x, SviInterface) and x.ipv4 is not None and not runs_ospf:
                networks.add(x.ipv4.network)  # gateways in the fabric (border leaves)
        if self.dev.role == POOL_DEVICE_ROLE:
            for pool in self.idx.pools_by_site.get(self.dev.site, ()):
                networks.add(pool)
                static.append(StaticRoute(prefix=pool, description="address pool"))
        prefix_lists: list[PrefixList] = []
        if has_provider:
            public = sorted(set(self.idx.public))
            for net in public:
                networks.add(net)
                static.append(StaticRoute(prefix=net, description="campus public block"))
            prefix_lists.append(PrefixList(name=PROVIDER_OUT_PREFIX_LIST, entries=tuple(
                PrefixListEntry(seq=10 * (n + 1), action="permit", prefix=net) for n, net in enumerate(public))))
            # nothing but the public blocks to providers: not even the loopback
            networks = {n for n in networks if not n.subnet_of(IPv4Network("10.0.0.0/8"))} | set(public)
        redistribute = list(self.ctx.get("bgp.redistribute", ()) or ())
        if runs_ospf and has_campus:
            redistribute += [r for r in ("connected", "ospf") if r not in redistribute]
        ospf_process = None
        if "ospf" in redistribute:
            if not runs_ospf:
                raise self.err("redistributes OSPF into BGP but runs no OSPF", "config_context.bgp.redistribute")
            ospf_process = self.ctx.integer("ospf.process_id", 1) or 1
        evpn_peers = tuple(n.address for n in neighbors if "evpn" in n.address_families)
        if evpn_peers and not self.p.capabilities.evpn:
            raise self.err(f"platform {self.p.slug} cannot do EVPN", "config_context.evpn.enabled")
        return Bgp(
            asn=asn, router_id=router_id, neighbors=tuple(neighbors),
            ipv4=BgpIpv4(networks=tuple(sorted(networks)),
                         redistribute=tuple(redistribute), ospf_process_id=ospf_process,
                         neighbors=tuple(n.address for n in neighbors),
                         default_originate=tuple(n.address for n in neighbors if n.default_originate)),
            evpn=BgpEvpn(neighbors=evpn_peers, advertise_all_vni=has_vnis, retain_all=not has_vnis)
            if evpn_peers else None,
            timers=timers, prefix_lists=tuple(prefix_lists))

    def _lab(self, interfaces: tuple[Interface, ...], evpn: Evpn | None, ospf: Ospf | None,
             bgp: Bgp | None) -> Lab:
        ports: list[OvsPort] = []
        for x in interfaces:
            if isinstance(x, EthernetInterface) and x.switchport is not None and x.lag is None:
                ports.append(OvsPort(name=x.name, tag=x.switchport.access_vlan,
                                     trunks=x.switchport.allowed_csv if x.switchport.mode == "trunk" else ""))
            elif isinstance(x, LagInterface) and x.switchport is not None:
                ports.append(OvsPort(name=x.name, tag=x.switchport.access_vlan,
                                     trunks=x.switchport.allowed_csv if x.switchport.mode == "trunk" else "",
                                     bond_members=x.members, lacp_fast=x.lacp_fast))
            elif isinstance(x, SviInterface) and x.lab_port is not None:
                ports.append(OvsPort(name=x.lab_port, tag=x.vlan_id))
        if evpn is not None:
            ports.extend(OvsPort(name=v.lab_port, tag=v.vlan_id) for v in evpn.vnis)
        daemons = ["zebra", "staticd"]
        if bgp is not None:
            daemons.append("bgpd")
        if ospf is not None:
            daemons.append("ospfd")
        if any(isinstance(x, SviInterface) and x.vrrp for x in interfaces):
            daemons.append("vrrpd")
        return Lab(ovs_bridge="br0" if ports else None, ovs_ports=tuple(ports), frr_daemons=tuple(daemons))


# --------------------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------------------
def configured_devices(snapshot: Snapshot, idx: _Index | None = None) -> list[Device]:
    """Devices that get a configuration: registry platform, active/staged, VC masters only."""
    idx = idx or _Index.build(snapshot)
    return [d for d in snapshot.devices
            if d.platform in REGISTRY and d.status in CONFIGURED_STATUSES and d.role not in UNCONFIGURED_ROLES
            and idx.logical.get(d.name) == d.name]


def build_intents_collect(snapshot: Snapshot, *, limit: Callable[[Device], bool] | None = None,
                          lab: bool = True) -> tuple[dict[str, DeviceIntent], list[IntentError]]:
    """Build every device's intent; return the intents and the per-device errors (devices with an error
    have no intent)."""
    idx = _Index.build(snapshot)
    intents: dict[str, DeviceIntent] = {}
    errors: list[IntentError] = []
    for dev in configured_devices(snapshot, idx):
        if limit is not None and not limit(dev):
            continue
        platform = REGISTRY[dev.platform or ""]
        try:
            from campusnet import safety  # hostile strings never reach a template (docs/reliability.md, 3)

            safety.check_device_strings(dev, idx.members.get(dev.name, [dev]),
                                        idx.ifaces_by_logical.get(dev.name, []))
            intent = _DeviceBuilder(idx, dev, platform, emulation=False).build()
            if lab and dev.name in idx.lab:
                emu = _DeviceBuilder(idx, dev, LAB_PLATFORM, emulation=True).build()
                intent = intent.model_copy(update={"emulation": emu})
            safety.check_intent_strings(intent)
        except IntentError as exc:
            errors.append(exc)
            continue
        except ValueError as exc:  # includes pydantic's ValidationError
            if not isinstance(exc, ValidationError):
                errors.append(IntentError(str(exc), device=dev.name))
                continue
            first = exc.errors()[0]  # a config-context value of the wrong shape
            errors.append(IntentError(f"{first['msg']} (input {first.get('input')!r})", device=dev.name,
                                      field=".".join(str(x) for x in first["loc"])))
            continue
        intents[dev.name] = intent
    return intents, errors


def build_intents(snapshot: Snapshot, *, limit: Callable[[Device], bool] | None = None,
                  lab: bool = True) -> dict[str, DeviceIntent]:
    """Build every configured device's intent, keyed by device name; :class:`IntentErrors` if any fails."""
    intents, errors = build_intents_collect(snapshot, limit=limit, lab=lab)
    if errors:
        raise IntentErrors(errors)
    return intents
