"""Expansion constructs: write repetition once, get NetBox objects.

Each construct is a frozen pydantic model with ``expand() -> list[Obj]`` (pure: no I/O, no NetBox).
Design-wide passes (:func:`device_type_templates`, :func:`addressing`, :func:`power_cabling`,
:func:`planned_cables`, :func:`ownership`) take the objects built so far and return more.
The same constructs scale: a generator can feed a ``Campus`` 1,000 buildings.

Name patterns:

- ``[a-b]`` ranges in names: ``GigabitEthernet1/0/[1-24]``, ``A[01-06]`` (zero padding kept);
- ``{n}``, ``{m}``, ``{vid}``… placeholders, documented on each construct.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import Field

from campusnet.design.models import (
    L2VPN,
    VLAN,
    Cable,
    ContactAssignment,
    Device,
    DeviceType,
    FHRPGroup,
    FHRPGroupAssignment,
    FrontPortTemplate,
    Interface,
    InterfaceTemplate,
    IPAddress,
    L2VPNTermination,
    Location,
    Obj,
    Platform,
    PowerFeed,
    PowerOutletTemplate,
    PowerPanel,
    PowerPortTemplate,
    Prefix,
    Rack,
    RearPortTemplate,
    Spec,
    Termination,
    VirtualChassis,
)

_RANGE = re.compile(r"\[(\d+)-(\d+)\]")

#: The management VRF (design.md: management addresses live in VRF ``mgmt``).
MGMT_VRF = "mgmt"


def expand_range(pattern: str) -> list[str]:
    """Expand ``[a-b]`` ranges (any number, left to right; leading zeros give the width).

    >>> expand_range("GigabitEthernet1/0/[1-3]")
    ['GigabitEthernet1/0/1', 'GigabitEthernet1/0/2', 'GigabitEthernet1/0/3']
    >>> expand_range("A[01-02]")
    ['A01', 'A02']
    >>> expand_range("plain")
    ['plain']
    """
    m = _RANGE.search(pattern)
    if not m:
        return [pattern]
    lo, hi = m.group(1), m.group(2)
    width = len(lo) if lo.startswith("0") else 0
    out: list[str] = []
    for i in range(int(lo), int(hi) + 1):
        out += expand_range(pattern[: m.start()] + str(i).zfill(width) + pattern[m.end() :])
    return out


def nth_address(network: str, n: int, prefixlen: int | None = None) -> str:
    """The n-th address of a network, as ``address/len`` (len = the network's unless given).

    >>> nth_address("10.20.3.0/24", 1)
    '10.20.3.1/24'
    >>> nth_address("10.255.0.0/24", 7, 32)
    '10.255.0.7/32'
    """
    net = ipaddress.ip_network(network)
    return f"{net.network_address + n}/{prefixlen if prefixlen is not None else net.prefixlen}"


def offset_address(first: str, n: int) -> str:
    """``first`` (``a.b.c.d/len``) plus n.

    >>> offset_address("10.254.0.20/24", 3)
    '10.254.0.23/24'
    """
    ip = ipaddress.ip_interface(first)
    return f"{ip.ip + n}/{ip.network.prefixlen}"


def subnet(supernet: str, index: int, prefixlen: int) -> str:
    """The index-th subnet of a given length inside a supernet.

    >>> subnet("10.20.0.0/16", 43, 24)
    '10.20.43.0/24'
    >>> subnet("10.255.2.0/24", 3, 31)
    '10.255.2.6/31'
    """
    net = ipaddress.ip_network(supernet)
    size = 2 ** (net.max_prefixlen - prefixlen)
    first = net.network_address + index * size
    sub = ipaddress.ip_network(f"{first}/{prefixlen}")
    if not sub.subnet_of(net):  # type: ignore[arg-type]
        raise ValueError(f"subnet {index} /{prefixlen} is outside {supernet}")
    return str(sub)


# ------------------------------------------------------------------------------------- rack rooms
def _default_panels() -> dict[Literal["A", "B"], str]:
    return {"A": "PP-A", "B": "PP-B"}


class RackGroup(Spec):
    names: str | list[str]  # range patterns, e.g. "A[01-06]"
    status: str = "active"
    role: str | None = None
    tags: list[str] = Field(default_factory=list)


class RackRoom(Spec):
    """Racks in one location, each fed by feed A (panel A, primary) and feed B (panel B, redundant),
    each feed cabled to one 0U PDU in the rack (``<prefix>-<rack>-pdu-a|b``). Racks of a planned group
    get planned feeds and PDUs. Device power supplies are cabled to the PDUs by :func:`power_cabling`."""

    site: str
    location: str
    device_prefix: str
    tenant: str
    owner_contact: str
    panels: dict[Literal["A", "B"], str] = Field(default_factory=lambda: _default_panels())
    u_height: int = 42
    voltage: int = 220
    amperage: int = 32
    max_utilization: int = 80
    pdu_type: str
    pdu_role: str = "pdu"
    pdu_input: str = "INPUT"
    racks: list[RackGroup]

    def expand(self) -> list[Obj]:
        out: list[Obj] = [
            PowerPanel(site=self.site, location=self.location, name=name, description=f"feed {side} of {self.location}")
            for side, name in self.panels.items()
        ]
        for group in self.racks:
            patterns = [group.names] if isinstance(group.names, str) else group.names
            names = [n for p in patterns for n in expand_range(p)]
            for rack in names:
                out.append(Rack(site=self.site, name=rack, location=self.location, role=group.role,
                                tenant=self.tenant, status=group.status, u_height=self.u_height, tags=group.tags,
                                owner_contact=self.owner_contact))
                for side, panel in self.panels.items():
                    feed = f"{rack}-{side}"
                    pdu = f"{self.device_prefix}-{rack.lower()}-pdu-{side.lower()}"
                    out.append(PowerFeed(site=self.site, power_panel=panel, name=feed, rack=rack, status=group.status,
                                         type="primary" if side == "A" else "redundant", voltage=self.voltage,
                                         amperage=self.amperage, max_utilization=self.max_utilization,
                                         tenant=self.tenant, tags=group.tags))
                    out.append(Device(name=pdu, device_type=self.pdu_type, role=self.pdu_role, site=self.site,
                                      location=self.location, rack=rack, tenant=self.tenant, status=group.status,
                                      tags=group.tags, owner_contact=self.owner_contact))
                    out.append(Cable(a=[Termination(site=self.site, power_panel=panel, power_feed=feed)],
                                     b=[Termination(device=pdu, power_port=self.pdu_input)], type="power",
                                     status="connected" if group.status == "active" else "planned",
                                     tags=group.tags))
        return out


# ------------------------------------------------------------------------------ campus (access)
class CoreMember(Spec):
    name: str
    rack: str | None = None
    position: float | None = None
    loopback: str | None = None
    mgmt: str | None = None
    tags: list[str] = Field(default_factory=list)


class PortSpec(Spec):
    name: str  # range pattern; {m} = the member's position (1, 2)
    type: str


class CoreCluster(Spec):
    """A two-chassis core: a virtual chassis whose members carry per-member port names (``25GE{m}/0/1``).
    The first member is the master (it holds SVIs, trunks and the cluster's addresses)."""

    name: str
    site: str
    location: str | None = None
    device_type: str
    platform: str
    role: str
    tenant: str
    owner_contact: str
    domain: str | None = None
    bgp_asn: int | None = None
    ports: list[PortSpec]
    members: list[CoreMember] = Field(min_length=1)

    @property
    def master(self) -> str:
        return self.members[0].name

    def expand(self) -> list[Obj]:
        out: list[Obj] = [VirtualChassis(name=self.name, domain=self.domain, master=self.master)]
        for pos, m in enumerate(self.members, start=1):
            out.append(Device(name=m.name, device_type=self.device_type, role=self.role, platform=self.platform,
                              site=self.site, location=self.location, rack=m.rack, position=m.position,
                              tenant=self.tenant, virtual_chassis=self.name, vc_position=pos,
                              vc_priority=256 - 8 * pos, bgp_asn=self.bgp_asn, tags=m.tags,
                              loopback=m.loopback, mgmt=m.mgmt, owner_contact=self.owner_contact))
            for p in self.ports:
                for name in expand_range(p.name.replace("{m}", str(pos))):
                    out.append(Interface(device=m.name, name=name, type=p.type))
        return out


class Use(Spec):
    """One use of a building network: VLAN id = ``vid_base`` + building number; prefix = the
    (``octet_base`` + building)-th /24 of the campus supernet."""

    vid_base: int
    octet_base: int
    tenant: str
    owner_contact: str
    description: str | None = None


class Building(Spec):
    number: int = Field(ge=1, le=99)
    name: str
    uses: list[str]
    switches: int = 1
    tags: dict[int, list[str]] = Field(default_factory=dict)  # switch number -> tags (e.g. {1: [lab]})


class AccessLayer(Spec):
    device_type: str
    platform: str
    role: str = "access-switch"
    tenant: str
    owner_contact: str
    uplinks: list[str] = Field(min_length=2, max_length=2)  # one per core member
    lag: str = "Bridge-Aggregation1"
    access_port: str = "GigabitEthernet1/0/{n}"
    ports_per_use: int = 2
    loopback_first: str  # the first switch's loopback, e.g. 10.255.0.100/32; then +1 per switch
    mgmt_first: str


class PatchPanels(Spec):
    """Building fibres land on patch panels (rear port = building fibre, front port = patch cord to
    the core): panel ``<prefix>-<rack>-odf<i>`` in ``racks[m-1]`` for the member-m uplinks."""

    device_type: str
    ports: int = 24
    front: str = "F{n}"
    rear: str = "R{n}"
    racks: list[str]
    position: int = 40  # U of the first panel; further panels go one U lower


class Campus(Spec):
    """The flattened core of one campus: a core cluster, buildings, access switches uplinked straight
    to it with a two-member LAG (one member per chassis), building VLANs/prefixes and their SVIs.

    Switch k (1-based, in building order) uses ``core_trunk``/``core_ports`` with ``{n}`` = k +
    ``core_port_offset``; its loopback/mgmt are ``loopback_first``/``mgmt_first`` + k - 1."""

    site: str
    prefix: str  # name prefix: jpl -> jpl-b01-as1, VLAN jpl-b01-teaching, location jpl-b01
    supernet: str
    core: CoreCluster
    core_trunk: str = "Eth-Trunk{n}"
    core_ports: list[str] = Field(default_factory=lambda: ["25GE1/0/{n}", "25GE2/0/{n}"])
    core_port_offset: int = 0
    svi: str = "Vlanif{vid}"
    access: AccessLayer
    uses: dict[str, Use]
    patch_panels: PatchPanels | None = None
    buildings: list[Building]

    def expand(self) -> list[Obj]:
        out = self.core.expand()
        master = self.core.master
        members = [m.name for m in self.core.members]
        k = 0
        for b in self.buildings:
            bslug = f"{self.prefix}-b{b.number:02d}"
            out.append(Location(site=self.site, name=f"{b.name} ({bslug.upper()})", slug=bslug,
                                tenant=self.access.tenant, owner_contact=self.access.owner_contact))
            vlans: list[str] = []
            for use_name in b.uses:
                use = self.uses[use_name]
                vid = use.vid_base + b.number
                vlan = f"{bslug}-{use_name}"
                net = subnet(self.supernet, use.octet_base + b.number, 24)
                vlans.append(vlan)
                desc = f"{b.name}: {use.description or use_name}"
                out += [
                    VLAN(name=vlan, vid=vid, site=self.site, role=use_name, tenant=use.tenant,
                         owner_contact=use.owner_contact, description=desc),
                    Prefix(prefix=net, site=self.site, vlan=vlan, role=use_name, tenant=use.tenant,
                           owner_contact=use.owner_contact, description=desc),
                    Interface(device=master, name=self.svi.format(vid=vid), type="virtual", mode="access",
                              untagged_vlan=vlan, description=f"gateway {vlan}"),
                    IPAddress(address=nth_address(net, 1), device=master, interface=self.svi.format(vid=vid),
                              tenant=use.tenant, description=f"gateway {vlan}"),
                ]
            for j in range(1, b.switches + 1):
                k += 1
                sw = f"{bslug}-as{j}"
                n = k + self.core_port_offset
                trunk = self.core_trunk.format(n=n)
                out.append(Device(name=sw, device_type=self.access.device_type, role=self.access.role,
                                  platform=self.access.platform, site=self.site, location=bslug,
                                  tenant=self.access.tenant, owner_contact=self.access.owner_contact,
                                  tags=b.tags.get(j, []), loopback=offset_address(self.access.loopback_first, k - 1),
                                  mgmt=offset_address(self.access.mgmt_first, k - 1)))
                out.append(Interface(device=sw, name=self.access.lag, type="lag", mode="tagged", tagged_vlans=vlans,
                                     description=f"uplink to {self.core.name} {trunk}"))
                out.append(Interface(device=master, name=trunk, type="lag", mode="tagged", tagged_vlans=vlans,
                                     description=f"to {sw} {self.access.lag}"))
                for i, (uplink, core_port, member) in enumerate(zip(self.access.uplinks, self.core_ports, members,
                                                                    strict=False)):
                    cport = core_port.format(n=n)
                    out.append(Interface(device=sw, name=uplink, lag=self.access.lag,
                                         description=f"uplink to {member} {cport}"))
                    out.append(Interface(device=member, name=cport, lag=trunk, lag_device=master,
                                         description=f"to {sw} {uplink}"))
                    out += self._uplink_cables(sw, uplink, member, cport, i, k)
                for u, use_name in enumerate(b.uses):
                    for p in range(u * self.access.ports_per_use + 1, (u + 1) * self.access.ports_per_use + 1):
                        out.append(Interface(device=sw, name=self.access.access_port.format(n=p), mode="access",
                                             untagged_vlan=f"{bslug}-{use_name}", description=f"{use_name} access"))
        if self.patch_panels:
            out += self._panels(k)
        return out

    def _panel(self, member_index: int, k: int) -> tuple[str, int]:
        pp = self.patch_panels
        assert pp is not None
        number, port = divmod(k - 1, pp.ports)
        return f"{self.prefix}-{pp.racks[member_index].lower()}-odf{number + 1}", port + 1

    def _uplink_cables(self, sw: str, uplink: str, member: str, cport: str, i: int, k: int) -> list[Obj]:
        end_sw = Termination(device=sw, interface=uplink)
        end_core = Termination(device=member, interface=cport)
        if not self.patch_panels:
            return [Cable(a=[end_sw], b=[end_core], type="smf")]
        panel, port = self._panel(i, k)
        pp = self.patch_panels
        return [
            Cable(a=[end_sw], b=[Termination(device=panel, rear_port=pp.rear.format(n=port))], type="smf",
                  description="building fibre"),
            Cable(a=[Termination(device=panel, front_port=pp.front.format(n=port))], b=[end_core], type="smf",
                  description="patch cord"),
        ]

    def _panels(self, switches: int) -> list[Obj]:
        pp = self.patch_panels
        assert pp is not None
        out: list[Obj] = []
        for i, rack in enumerate(pp.racks):
            for number in range((switches - 1) // pp.ports + 1 if switches else 0):
                out.append(Device(name=f"{self.prefix}-{rack.lower()}-odf{number + 1}", device_type=pp.device_type,
                                  role="patch-panel", site=self.site, location=self.core.location, rack=rack,
                                  position=pp.position - number, tenant=self.access.tenant,
                                  owner_contact=self.access.owner_contact,
                                  description=f"building fibres to chassis {i + 1}"))
        return out


# ------------------------------------------------------------------------------------------ links
class End(Spec):
    device: str
    interface: str
    address: str | None = None  # overrides the address taken from the link's prefix


class Link(Spec):
    """A routed point-to-point link: a cable (or two, through a ``circuit``: a↔A side, b↔Z side), the
    /31 (``prefix``: a gets the first address, b the second) and interface tags (``ospf``…)."""

    a: End
    b: End | None = None
    circuit: str | None = None
    prefix: str | None = None
    tags: list[str] = Field(default_factory=list)
    cable_type: str | None = None
    status: str = "connected"
    cable_tags: list[str] = Field(default_factory=list)
    tenant: str | None = None
    description: str | None = None

    def expand(self) -> list[Obj]:
        out: list[Obj] = []
        ends = [self.a, *([self.b] if self.b else [])]
        names = [f"{e.device} {e.interface}" for e in ends]
        for i, e in enumerate(ends):
            other = names[1 - i] if len(ends) == 2 else f"circuit {self.circuit}"
            out.append(Interface(device=e.device, name=e.interface, tags=self.tags,
                                 description=self.description or f"to {other}"))
            address = e.address or (nth_address(self.prefix, i) if self.prefix else None)
            if address:
                out.append(IPAddress(address=address, device=e.device, interface=e.interface, tenant=self.tenant,
                                     description=f"link to {other}"))
        def cable(a: Termination, b: Termination) -> Cable:
            return Cable(a=[a], b=[b], type=self.cable_type, status=self.status, tags=self.cable_tags)

        ta = Termination(device=self.a.device, interface=self.a.interface)
        if self.circuit:
            out.append(cable(ta, Termination(circuit=self.circuit, term_side="A")))
            if self.b:
                out.append(cable(Termination(device=self.b.device, interface=self.b.interface),
                                 Termination(circuit=self.circuit, term_side="Z")))
        elif self.b:
            out.append(cable(ta, Termination(device=self.b.device, interface=self.b.interface)))
        return out


class Fabric(Spec):
    """A spine-leaf fabric: one /31 per spine-leaf pair from ``pool`` (leaf-major order).
    ``{leaf}``/``{spine}`` are 1-based indexes in the lists."""

    spines: list[str]
    leaves: list[str]
    pool: str
    spine_port: str = "100GE1/0/{leaf}"
    leaf_port: str = "100GE1/0/{spine}"
    cable_type: str | None = "mmf-om4"
    tags: list[str] = Field(default_factory=list)

    def expand(self) -> list[Obj]:
        out: list[Obj] = []
        n = 0
        for li, leaf in enumerate(self.leaves, start=1):
            for si, spine in enumerate(self.spines, start=1):
                out += Link(a=End(device=spine, interface=self.spine_port.format(leaf=li, spine=si)),
                            b=End(device=leaf, interface=self.leaf_port.format(leaf=li, spine=si)),
                            prefix=subnet(self.pool, n, 31), tags=self.tags, cable_type=self.cable_type).expand()
                n += 1
        return out


class ServerVlan(Spec):
    """A data-centre VLAN: VLAN, prefix, an L2VPN (VXLAN-EVPN, identifier = VNI) terminated on it, and
    its gateway on ``gateways`` (SVIs .2, .3 …) behind a VRRPv3 group whose virtual IP is .1."""

    name: str
    vid: int
    vni: int
    prefix: str
    site: str
    gateways: list[str]
    vrrp_group: int
    tenant: str
    owner_contact: str
    role: str = "server"
    svi: str = "Vlanif{vid}"
    description: str | None = None

    def expand(self) -> list[Obj]:
        group = f"{self.name}-vrrp"
        svi = self.svi.format(vid=self.vid)
        out: list[Obj] = [
            VLAN(name=self.name, vid=self.vid, site=self.site, role=self.role, tenant=self.tenant,
                 owner_contact=self.owner_contact, description=self.description),
            Prefix(prefix=self.prefix, site=self.site, vlan=self.name, role=self.role, tenant=self.tenant,
                   owner_contact=self.owner_contact, description=self.description),
            L2VPN(name=self.name, slug=self.name, identifier=self.vni, type="vxlan-evpn", tenant=self.tenant,
                  description=f"VNI {self.vni} for VLAN {self.vid}"),
            L2VPNTermination(l2vpn=self.name, vlan=self.name),
            FHRPGroup(name=group, protocol="vrrp3", group_id=self.vrrp_group, description=f"gateway {self.name}"),
            IPAddress(address=nth_address(self.prefix, 1), role="vrrp", fhrp_group=group, tenant=self.tenant,
                      description=f"virtual gateway {self.name}"),
        ]
        for i, gw in enumerate(self.gateways):
            out += [
                Interface(device=gw, name=svi, type="virtual", mode="access", untagged_vlan=self.name,
                          description=f"gateway {self.name}"),
                IPAddress(address=nth_address(self.prefix, 2 + i), device=gw, interface=svi, tenant=self.tenant,
                          description=f"gateway {self.name}"),
                FHRPGroupAssignment(group=group, device=gw, interface=svi, priority=200 if i == 0 else 100),
            ]
        return out


class HostLink(Spec):
    """A host NIC cabled to a switch port that is an access port in ``vlan``; the host address on the NIC."""

    host: str
    host_interface: str = "eth0"
    address: str | None = None
    switch: str
    switch_interface: str
    vlan: str | None = None
    status: str = "connected"
    cable_type: str | None = "cat6a"

    def expand(self) -> list[Obj]:
        out: list[Obj] = [
            Interface(device=self.host, name=self.host_interface,
                      description=f"to {self.switch} {self.switch_interface}"),
            Interface.model_validate({"device": self.switch, "name": self.switch_interface,
                                      "description": f"to {self.host} {self.host_interface}",
                                      **({"mode": "access", "untagged_vlan": self.vlan} if self.vlan else {})}),
            Cable(a=[Termination(device=self.host, interface=self.host_interface)],
                  b=[Termination(device=self.switch, interface=self.switch_interface)], type=self.cable_type,
                  status=self.status),
        ]
        if self.address:
            out.append(IPAddress(address=self.address, device=self.host, interface=self.host_interface))
        return out


CONSTRUCTS: dict[str, type[Spec]] = {
    "rack_rooms": RackRoom,
    "campuses": Campus,
    "core_clusters": CoreCluster,
    "links": Link,
    "fabrics": Fabric,
    "server_vlans": ServerVlan,
    "host_links": HostLink,
}


# ---------------------------------------------------------------------------------- design passes
def _by_kind(objs: Iterable[Obj], cls: type[Obj]) -> list[Obj]:
    return [o for o in objs if isinstance(o, cls)]


def device_type_templates(device_types: Iterable[DeviceType]) -> list[Obj]:
    """Component templates from each device type's nested lists (names may hold ranges)."""
    out: list[Obj] = []
    for dt in device_types:
        for it in dt.interfaces:
            out += [InterfaceTemplate(device_type=dt.slug, name=n, type=it.type, mgmt_only=it.mgmt_only,
                                      description=it.description) for n in expand_range(it.name)]
        for pp in dt.power_ports:
            out += [PowerPortTemplate(device_type=dt.slug, name=n, type=pp.type, maximum_draw=pp.maximum_draw,
                                      allocated_draw=pp.allocated_draw) for n in expand_range(pp.name)]
        for po in dt.power_outlets:
            out += [PowerOutletTemplate(device_type=dt.slug, name=n, type=po.type, power_port=po.power_port,
                                        feed_leg=po.feed_leg) for n in expand_range(po.name)]
        for p in dt.ports:
            for n in expand_range(p.name):
                number = re.sub(r"\D", "", n)
                rear = p.rear.replace("{}", number)
                out.append(RearPortTemplate(device_type=dt.slug, name=rear, type=p.type))
                out.append(FrontPortTemplate(device_type=dt.slug, name=n, type=p.type, rear_port=rear))
    return out


def addressing(objs: Sequence[Obj]) -> list[Obj]:
    """Devices' ``loopback``/``mgmt``: the loopback interface (named per platform) with its /32 and
    ``primary_ip4``; the device type's mgmt-only interface in VRF ``mgmt`` with ``oob_ip``."""
    platforms = {o.slug: o for o in _by_kind(objs, Platform) if isinstance(o, Platform)}
    mgmt_if: dict[str, str] = {}
    for t in _by_kind(objs, InterfaceTemplate):
        assert isinstance(t, InterfaceTemplate)
        if t.mgmt_only:
            mgmt_if.setdefault(t.device_type, t.name)
    out: list[Obj] = []
    for d in _by_kind(objs, Device):
        assert isinstance(d, Device)
        update: dict[str, str] = {}
        if d.loopback:
            lo = platforms[d.platform].loopback_interface if d.platform in platforms else "lo"
            out.append(Interface(device=d.name, name=lo, type="virtual", description="loopback"))
            out.append(IPAddress(address=d.loopback, device=d.name, interface=lo, tenant=d.tenant, role="loopback",
                                 tags=d.tags if "expansion" in d.tags else [], description=f"{d.name} loopback"))
            update["primary_ip4"] = d.primary_ip4 or d.loopback
        if d.mgmt:
            if d.device_type not in mgmt_if:
                raise ValueError(f"device {d.name}: device type {d.device_type} has no mgmt-only interface for mgmt")
            mi = mgmt_if[d.device_type]
            out.append(Interface(device=d.name, name=mi, mgmt_only=True, vrf=MGMT_VRF))
            out.append(IPAddress(address=d.mgmt, vrf=MGMT_VRF, device=d.name, interface=mi, tenant=d.tenant,
                                 description=f"{d.name} management"))
            update["oob_ip"] = d.mgmt
        if update:
            out.append(Device.model_validate(
                {"name": d.name, "device_type": d.device_type, "role": d.role, "site": d.site, **update}))
    return out


def power_cabling(objs: Sequence[Obj], pdu_role: str = "pdu") -> list[Obj]:
    """Cable every racked device's power supplies to the rack's PDUs: the i-th power port to PDU
    ``-a``/``-b`` alternately, next free outlet; devices in (position descending, name) order.
    Ports already cabled in the design are left alone."""
    ports: dict[str, list[str]] = defaultdict(list)
    outlets: dict[str, list[str]] = defaultdict(list)
    for t in objs:
        if isinstance(t, PowerPortTemplate):
            ports[t.device_type].append(t.name)
        elif isinstance(t, PowerOutletTemplate):
            outlets[t.device_type].append(t.name)
    cabled: set[tuple[str, str]] = set()
    for c in _by_kind(objs, Cable):
        assert isinstance(c, Cable)
        for end in [*c.a, *c.b]:
            if end.device and end.power_port:
                cabled.add((end.device, end.power_port))
            if end.device and end.power_outlet:
                cabled.add((end.device, end.power_outlet))
    racks: dict[tuple[str, str], list[Device]] = defaultdict(list)
    pdus: dict[tuple[str, str], list[Device]] = defaultdict(list)
    for d in _by_kind(objs, Device):
        assert isinstance(d, Device)
        if d.rack is None:
            continue
        (pdus if d.role == pdu_role else racks)[(d.site, d.rack)].append(d)
    out: list[Obj] = []
    for rack, devices in sorted(racks.items()):
        feeds = sorted(pdus.get(rack, []), key=lambda d: d.name)
        if not feeds:
            continue
        free = {p.name: [o for o in outlets[p.device_type] if (p.name, o) not in cabled] for p in feeds}
        for d in sorted(devices, key=lambda d: (-(d.position or 0), d.name)):
            for i, port in enumerate(ports[d.device_type]):
                if (d.name, port) in cabled:
                    continue
                pdu = feeds[i % len(feeds)]
                if not free[pdu.name]:
                    raise ValueError(f"rack {rack[1]}: PDU {pdu.name} has no free outlet for {d.name} {port}")
                outlet = free[pdu.name].pop(0)
                planned = "planned" in (d.status, pdu.status)
                out.append(Cable(a=[Termination(device=d.name, power_port=port)],
                                 b=[Termination(device=pdu.name, power_outlet=outlet)], type="power",
                                 status="planned" if planned else "connected",
                                 tags=["expansion"] if "expansion" in d.tags else []))
    return out


def planned_cables(objs: Sequence[Obj]) -> list[Obj]:
    """A cable touching a planned device is planned too, and carries the device's ``expansion`` tag."""
    planned = {d.name: d for d in _by_kind(objs, Device) if isinstance(d, Device) and d.status == "planned"}
    out: list[Obj] = []
    for c in _by_kind(objs, Cable):
        assert isinstance(c, Cable)
        devs = [planned[t.device] for t in [*c.a, *c.b] if t.device in planned]
        if not devs:
            continue
        tags = sorted({*c.tags, *(t for d in devs for t in d.tags if t == "expansion")})
        if c.status != "planned" or tags != sorted(c.tags):
            out.append(c.model_copy(update={"status": "planned", "tags": tags}))
    return out


def ownership(objs: Sequence[Obj]) -> list[Obj]:
    """A contact assignment (role ``owner``) for every object with ``owner_contact`` (kinds that take
    contacts; a VLAN carries its owner in the custom field ``owner_contact`` instead)."""
    out: list[Obj] = []
    for o in objs:
        contact = getattr(o, "owner_contact", None)
        if contact and o.OBJECT_TYPE and o.CONTACTS:
            out.append(ContactAssignment(object_type=o.OBJECT_TYPE, object=o.key(), contact=contact, role="owner"))
    return out

