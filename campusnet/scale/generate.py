"""The reference campus's shape at university scale, deterministic for a seed.

The generator writes no objects of its own kind: it feeds the design's expansion constructs
(:mod:`campusnet.design.expand`) and merges their output with the design's own :func:`~campusnet.design.load.build`
(the same merge, passes — templates, addressing, planned cables, ownership — and reference checks as
``inventory/campus``). What it adds is the *size* and the choices a seed makes (switches per building,
which building has dormitories or campus-card terminals, building names).

Shape for ``devices = N`` (≥ 40):

- two campuses (Yuntang 60 %, Jinpenling 40 % of the access switches), each a two-chassis core cluster
  (a virtual chassis) with buildings (≤ 99 per campus, as the design's ``Building.number`` allows); each
  access switch (48 data ports + a management port) uplinks with a two-member LAG, one member per chassis;
- per building and use a VLAN, a /24, the SVI on the core master and its gateway address;
- the Yuntang data centre: 2 spines, leaves (two border leaves peering eBGP with the core, the last two
  leaves ``planned`` + tag ``expansion``), servers cabled to the leaves, server VLANs as VXLAN-EVPN L2VPNs
  with a VRRP gateway on the border leaves;
- two China Telecom circuits between the cores (OSPF), two egress routers with CERNET / Telecom / Unicom
  circuits (eBGP), a VPN gateway;
- every device, prefix, VLAN and circuit with a tenant and an owner contact; services, OSPF area and EVPN
  through config contexts.

Deviations from the lab-sized campus, forced by the size: management and loopback addresses come from
/16s (10.254.0.0/16 in VRF ``mgmt``, 10.255.0.0/16) instead of /24s; no racks' power feeds or PDUs.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from campusnet.design import expand as ex
from campusnet.design import models as m
from campusnet.design.load import Design, build
from campusnet.errors import DataError

MIN_DEVICES = 40
#: bump when the generated shape changes (the benchmarks reload the scale NetBox when it differs)
SHAPE_VERSION = 2
IT = "it-office"
NOC = "Network Operations Centre"
USC = "User Service Centre"
IMC = "Information Management Centre"
GEN = "General Office"

USES: tuple[str, ...] = ("teaching", "staff", "dormitory", "wireless", "campus-card")
_BUILDING_KINDS = ("Teaching Building", "Laboratory", "Library", "Dormitory", "Administration", "Gymnasium",
                   "Research Centre", "Canteen", "Lecture Hall", "Student Centre")

SERVER_VLANS = 8
SERVERS_PER_LEAF = 8


@dataclass(frozen=True)
class Sizing:
    """How ``devices`` splits into roles (all derived from ``devices``; the seed only shuffles)."""

    devices: int
    leaves: int  # including 2 border leaves and 2 planned (expansion) leaves
    servers: int
    access: dict[str, int]  # site -> access switches

    @classmethod
    def for_devices(cls, devices: int) -> Sizing:
        if devices < MIN_DEVICES:
            raise DataError(f"at least {MIN_DEVICES} devices are needed for the campus shape", obj="scale",
                            field="devices")
        leaves = max(6, round(devices / 150))
        server_leaves = leaves - 2  # border leaves carry no servers
        servers = min(server_leaves * SERVERS_PER_LEAF, max(server_leaves, devices // 25))
        fixed = 4 + 2 + leaves + 2 + 1  # core members, spines, leaves, egress, vpn
        access = devices - fixed - servers
        ytg = math.ceil(access * 0.6)
        return cls(devices, leaves, servers, {"yuntang": ytg, "jinpenling": access - ytg})


# --------------------------------------------------------------------------------------------- catalogue
def catalogue() -> list[m.Obj]:
    """Tags, tenancy, places, platforms, roles, device types, RIRs/ASNs, VRFs, providers, config contexts."""
    out: list[m.Obj] = [
        m.Tag(name="lab", slug="lab", color="2196f3"),
        m.Tag(name="ospf", slug="ospf", color="4caf50"),
        m.Tag(name="expansion", slug="expansion", color="ff9800"),
        m.CustomField(name="bgp_asn", label="BGP ASN", type="object", related_object_type="ipam.asn",
                      object_types=["dcim.device"]),
        m.CustomField(name="owner_contact", label="Owner", type="object", related_object_type="tenancy.contact",
                      object_types=["ipam.vlan"]),
        m.TenantGroup(name="IT Office", slug="it-office"),
        m.TenantGroup(name="Partners", slug="partners"),
        m.Tenant(name="IT Office", slug=IT, group="it-office"),
        m.Tenant(name="China Telecom", slug="china-telecom", group="partners"),
        m.Tenant(name="Mobile Campus Integrator", slug="mobile-integrator", group="partners"),
        m.Tenant(name="Bank A", slug="bank-a", group="partners"),
        m.Tenant(name="Bank B", slug="bank-b", group="partners"),
        m.ContactGroup(name="IT Office", slug="it-office"),
        m.ContactRole(name="Owner", slug="owner"),
        *[m.Contact(name=n, groups=["it-office"]) for n in (GEN, NOC, IMC, USC)],
        m.Region(name="Changsha", slug="changsha"),
        m.Site(name="Yuntang", slug="yuntang", region="changsha", tenant=IT, facility="main campus, data centre"),
        m.Site(name="Jinpenling", slug="jinpenling", region="changsha", tenant=IT, facility="modular machine room"),
        m.Location(site="yuntang", name="Data Centre", slug="dc", tenant=IT, owner_contact=IMC),
        m.Location(site="jinpenling", name="Modular Room", slug="modular-room", tenant=IT, owner_contact=NOC),
        m.RackRole(name="Network", slug="network"),
        m.RackRole(name="Server", slug="server"),
        m.Manufacturer(name="Huawei", slug="huawei"),
        m.Manufacturer(name="H3C", slug="h3c"),
        m.Manufacturer(name="Generic", slug="generic"),
        m.Platform(name="Huawei VRP", slug="huawei-vrp", manufacturer="huawei", loopback_interface="LoopBack0"),
        m.Platform(name="H3C Comware 7", slug="h3c-comware", manufacturer="h3c", loopback_interface="LoopBack0"),
        m.Platform(name="Linux FRR", slug="linux-frr", loopback_interface="lo"),
        *[m.DeviceRole(name=n, slug=s) for n, s in (
            ("Core switch", "core-switch"), ("Access switch", "access-switch"), ("DC spine", "dc-spine"),
            ("DC leaf", "dc-leaf"), ("DC border leaf", "dc-border-leaf"), ("Server", "server"),
            ("Egress router", "egress-router"), ("VPN gateway", "vpn-gateway"), ("Test host", "test-host"))],
        m.DeviceType(manufacturer="h3c", model="S5130S-52S-EI", slug="h3c-s5130", interfaces=[
            m.InterfaceTemplateSpec(name="GigabitEthernet1/0/[1-44]", type="1000base-t"),
            m.InterfaceTemplateSpec(name="Ten-GigabitEthernet1/0/[45-48]", type="10gbase-x-sfpp"),
            m.InterfaceTemplateSpec(name="M-GigabitEthernet0/0/0", type="1000base-t", mgmt_only=True)]),
        m.DeviceType(manufacturer="huawei", model="CE12808", slug="huawei-ce12808", u_height=19, interfaces=[
            m.InterfaceTemplateSpec(name="MEth0/0/0", type="1000base-t", mgmt_only=True)]),
        m.DeviceType(manufacturer="huawei", model="CE8850-64CQ-EI", slug="huawei-ce8850", u_height=2, interfaces=[
            m.InterfaceTemplateSpec(name="100GE1/0/[1-48]", type="100gbase-x-qsfp28"),
            m.InterfaceTemplateSpec(name="MEth0/0/0", type="1000base-t", mgmt_only=True)]),
        m.DeviceType(manufacturer="huawei", model="CE6881-48S6CQ", slug="huawei-ce6881", interfaces=[
            m.InterfaceTemplateSpec(name="25GE1/0/[1-44]", type="25gbase-x-sfp28"),
            m.InterfaceTemplateSpec(name="100GE1/0/[1-4]", type="100gbase-x-qsfp28"),
            m.InterfaceTemplateSpec(name="MEth0/0/0", type="1000base-t", mgmt_only=True)]),
        m.DeviceType(manufacturer="huawei", model="NE40E-X8A", slug="huawei-ne40e", u_height=14, interfaces=[
            m.InterfaceTemplateSpec(name="GE0/1/[0-23]", type="1000base-x-sfp"),
            m.InterfaceTemplateSpec(name="10GE0/2/[0-23]", type="10gbase-x-sfpp"),
            m.InterfaceTemplateSpec(name="GigabitEthernet0/0/0", type="1000base-t", mgmt_only=True)]),
        m.DeviceType(manufacturer="generic", model="2U server", slug="server-2u", u_height=2, interfaces=[
            m.InterfaceTemplateSpec(name="eth[0-3]", type="25gbase-x-sfp28"),
            m.InterfaceTemplateSpec(name="mgmt0", type="1000base-t", mgmt_only=True)]),
        m.RIR(name="Private ASNs", slug="private-asn", is_private=True),
        m.RIR(name="APNIC", slug="apnic"),
        m.ASN(asn=65000, rir="private-asn", tenant=IT, description="campus cores"),
        m.ASN(asn=65100, rir="private-asn", tenant=IT, description="DC spines"),
        m.ASN(asn=4538, rir="apnic", description="CERNET"),
        m.ASN(asn=4134, rir="apnic", description="China Telecom"),
        m.ASN(asn=4837, rir="apnic", description="China Unicom"),
        m.VRF(name="mgmt", rd="65000:254", tenant=IT, description="out-of-band management"),
        *[m.IpamRole(name=u.replace("-", " ").title(), slug=u) for u in (*USES, "server", "loopback", "mgmt",
                                                                           "p2p")],
        m.Provider(name="CERNET", slug="cernet", asns=[4538]),
        m.Provider(name="China Telecom", slug="china-telecom", asns=[4134]),
        m.Provider(name="China Unicom", slug="china-unicom", asns=[4837]),
        m.CircuitType(name="Internet", slug="internet"),
        m.CircuitType(name="Inter-campus", slug="inter-campus"),
        m.Prefix(prefix="10.254.0.0/16", vrf="mgmt", role="mgmt", tenant=IT, owner_contact=NOC,
                 description="management (scale: /16)"),
        m.Prefix(prefix="10.255.0.0/16", role="loopback", tenant=IT, owner_contact=NOC,
                 description="loopbacks (scale: /16)"),
        m.Prefix(prefix="10.250.0.0/16", role="p2p", tenant=IT, owner_contact=NOC, description="point-to-point links"),
        m.ConfigContext(name="services", weight=1000, data={"services": {
            "domain": "campus.example.edu.cn", "dns": ["10.40.0.53", "10.40.0.54"],
            "ntp": {"servers": ["10.40.0.123", "10.40.0.124"]},
            "syslog": {"hosts": ["10.40.0.14"], "level": "informational"},
            "snmp": {"community": {"secret_ref": "snmp_community"}, "location": "Changsha",
                     "contact": NOC, "trap_hosts": ["10.40.0.162"]},
            "aaa": {"servers": ["10.40.0.49"], "key": {"secret_ref": "tacacs_key"}},
            "dhcp_relay": {"servers": ["10.40.0.67", "10.40.0.68"], "vlan_roles": list(USES)},
        }}),
        m.ConfigContext(name="ospf-area-0", weight=1100, roles=["core-switch", "egress-router", "vpn-gateway"],
                        data={"ospf": {"area": 0, "process_id": 1}}),
        m.ConfigContext(name="evpn", weight=1100, roles=["dc-spine", "dc-leaf", "dc-border-leaf"],
                        data={"evpn": {"enabled": True}}),
        m.ConfigContext(name="egress-default", weight=1200, roles=["egress-router"],
                        data={"ospf": {"default_originate": True}}),
    ]
    return out


# ------------------------------------------------------------------------------------------ campuses
@dataclass(frozen=True)
class _CampusPlan:
    site: str
    prefix: str
    supernet: str
    core: str
    members: tuple[str, str]
    loopback_first: str  # the first access switch's; +1 per switch
    mgmt_first: str


_CAMPUSES = (
    _CampusPlan("yuntang", "ytg", "10.32.0.0/15", "ytg-core", ("ytg-core-1", "ytg-core-2"),
                "10.255.16.1/32", "10.254.16.1/16"),
    _CampusPlan("jinpenling", "jpl", "10.34.0.0/15", "jpl-core", ("jpl-core-1", "jpl-core-2"),
                "10.255.48.1/32", "10.254.48.1/16"),
)
#: core ports besides the access uplinks: 100GE{m}/0/[1-8] (DC, egress, circuits, VPN)
_CORE_EXTRA = 8


def _buildings(rng: random.Random, site: str, switches: int) -> list[ex.Building]:
    count = max(1, min(99, math.ceil(switches / 4)))
    per = [1] * count
    for _ in range(switches - count):
        per[rng.randrange(count)] += 1
    out = []
    for n in range(1, count + 1):
        kind = rng.choice(_BUILDING_KINDS)
        uses = ["teaching", "staff"]
        if kind == "Dormitory" or rng.random() < 0.15:
            uses.append("dormitory")
        uses.append("wireless")
        if rng.random() < 0.5:
            uses.append("campus-card")
        out.append(ex.Building(number=n, name=f"{kind} {n}", uses=uses, switches=per[n - 1]))
    return out


def _campus(plan: _CampusPlan, switches: int, rng: random.Random, vc_index: int) -> ex.Campus:
    bank = "bank-a" if plan.site == "yuntang" else "bank-b"
    uses = {
        u: ex.Use(vid_base=100 * (i + 1), octet_base=100 * i, tenant=bank if u == "campus-card" else IT,
                  owner_contact=USC, description=u.replace("-", " "))
        for i, u in enumerate(USES)
    }
    members = [
        ex.CoreMember(name=name, loopback=f"10.255.0.{2 * vc_index + i + 1}/32",
                      mgmt=f"10.254.0.{2 * vc_index + i + 1}/16")
        for i, name in enumerate(plan.members)
    ]
    core = ex.CoreCluster(
        name=plan.core, site=plan.site, location="dc" if plan.site == "yuntang" else "modular-room",
        device_type="huawei-ce12808", platform="huawei-vrp", role="core-switch", tenant=IT, owner_contact=NOC,
        domain=f"{plan.prefix}-core", bgp_asn=65000 if plan.site == "yuntang" else None,
        ports=[ex.PortSpec(name=f"25GE{{m}}/0/[1-{max(switches, 1)}]", type="25gbase-x-sfp28"),
               ex.PortSpec(name=f"100GE{{m}}/0/[1-{_CORE_EXTRA}]", type="100gbase-x-qsfp28")],
        members=members)
    access = ex.AccessLayer(
        device_type="h3c-s5130", platform="h3c-comware", tenant=IT, owner_contact=NOC,
        uplinks=["Ten-GigabitEthernet1/0/47", "Ten-GigabitEthernet1/0/48"], ports_per_use=8,
        loopback_first=plan.loopback_first, mgmt_first=plan.mgmt_first)
    return ex.Campus(site=plan.site, prefix=plan.prefix, supernet=plan.supernet, core=core, access=access,
                     uses=uses, buildings=_buildings(rng, plan.site, switches))


# ------------------------------------------------------------------------------------------- the DC
def _dc(size: Sizing) -> list[Any]:
    """Spines, leaves, servers, server VLANs, border-leaf ↔ core, egress, circuits, VPN (constructs)."""
    site, loc = "yuntang", "dc"
    spines = ["ytg-spine-1", "ytg-spine-2"]
    leaves = [f"ytg-leaf-{i}" for i in range(1, size.leaves + 1)]
    border = leaves[:2]
    planned = set(leaves[-2:])
    out: list[Any] = [m.Rack(site=site, name="DC-R00", location=loc, role="network", tenant=IT, owner_contact=IMC)]
    dev: list[m.Device] = []
    for i, s in enumerate(spines, start=1):
        dev.append(m.Device(name=s, device_type="huawei-ce8850", role="dc-spine", platform="huawei-vrp", site=site,
                            location=loc, rack="DC-R00", tenant=IT, bgp_asn=65100, owner_contact=NOC,
                            loopback=f"10.255.2.{i}/32", mgmt=f"10.254.2.{i}/16"))
    for i, lf in enumerate(leaves, start=1):
        rack = f"DC-R{i:02d}"
        tags = ["expansion"] if lf in planned else []
        status = "planned" if lf in planned else "active"
        out.append(m.Rack(site=site, name=rack, location=loc, role="server", tenant=IT, status=status, tags=tags,
                          owner_contact=IMC))
        asn = 65100 + i
        out.append(m.ASN(asn=asn, rir="private-asn", tenant=IT, description=f"{lf}"))
        dev.append(m.Device(name=lf, device_type="huawei-ce6881", role="dc-border-leaf" if lf in border else "dc-leaf",
                            platform="huawei-vrp", site=site,
                            location=loc, rack=rack, tenant=IT, bgp_asn=asn, owner_contact=NOC, status=status,
                            tags=tags, loopback=f"10.255.3.{i}/32", mgmt=f"10.254.3.{i}/16"))
    out += dev
    out.append(ex.Fabric(spines=spines, leaves=leaves, pool="10.250.0.0/22"))
    # server VLANs (VXLAN-EVPN, VRRP gateway on the border leaves)
    vlans = []
    for v in range(SERVER_VLANS):
        vid = 2001 + v
        name = f"dc-srv-{vid}"
        vlans.append(name)
        out.append(ex.ServerVlan(name=name, vid=vid, vni=10000 + vid, prefix=f"10.40.{v + 1}.0/24", site=site,
                                 gateways=border, vrrp_group=v + 1, tenant=IT, owner_contact=IMC))
    # servers on the non-border leaves, in VLANs round robin
    server_leaves = leaves[2:]
    for n in range(size.servers):
        lf = server_leaves[n % len(server_leaves)]
        slot = n // len(server_leaves) + 1
        name = f"ytg-srv-{n + 1:04d}"
        v = n % SERVER_VLANS
        li = leaves.index(lf) + 1
        status = "planned" if lf in planned else "active"
        out.append(m.Device(name=name, device_type="server-2u", role="server", site=site, location=loc,
                            rack=f"DC-R{li:02d}", tenant=IT, owner_contact=IMC, status=status,
                            tags=["expansion"] if lf in planned else [], loopback=None,
                            mgmt=f"10.254.{4 + n // 250}.{n % 250 + 1}/16"))
        out.append(ex.HostLink(host=name, switch=lf, switch_interface=f"25GE1/0/{slot}", vlan=vlans[v],
                               address=f"10.40.{v + 1}.{10 + n // SERVER_VLANS}/24"))
    # border leaves <-> Yuntang core (eBGP: ASN 65000 vs. the leaves' own)
    core_members = ["ytg-core-1", "ytg-core-2"]
    n = 0
    for bi, bl in enumerate(border):
        for ci, cm in enumerate(core_members):
            out.append(ex.Link(a=ex.End(device=cm, interface=f"100GE{ci + 1}/0/{bi + 1}"),
                               b=ex.End(device=bl, interface=f"100GE1/0/{3 + ci}"),
                               prefix=ex.subnet("10.250.8.0/24", n, 31), cable_type="mmf-om4"))
            n += 1
    # the two campuses: two China Telecom circuits, OSPF
    for i in range(2):
        cid = f"CT-IC-{i + 1:04d}"
        out += [m.Circuit(cid=cid, provider="china-telecom", type="inter-campus", tenant="china-telecom",
                          commit_rate=10_000_000, owner_contact=NOC),
                m.CircuitTermination(circuit=cid, term_side="A", site="yuntang", port_speed=10_000_000),
                m.CircuitTermination(circuit=cid, term_side="Z", site="jinpenling", port_speed=10_000_000),
                ex.Link(a=ex.End(device=f"ytg-core-{i + 1}", interface=f"100GE{i + 1}/0/5"),
                        b=ex.End(device=f"jpl-core-{i + 1}", interface=f"100GE{i + 1}/0/5"), circuit=cid,
                        prefix=ex.subnet("10.250.9.0/24", i, 31), tags=["ospf"], cable_type="smf")]
    # egress routers: OSPF to the core, eBGP to the providers over circuits
    providers = {1: [("cernet", "CERNET")], 2: [("china-telecom", "CT"), ("china-unicom", "CU")]}
    p = 0
    for e in (1, 2):
        name = f"ytg-egress-{e}"
        out.append(m.Device(name=name, device_type="huawei-ne40e", role="egress-router", platform="huawei-vrp",
                            site=site,
                            location=loc, rack="DC-R00", tenant=IT, owner_contact=NOC, loopback=f"10.255.1.{e}/32",
                            mgmt=f"10.254.1.{e}/16"))
        out.append(ex.Link(a=ex.End(device=f"ytg-core-{e}", interface=f"100GE{e}/0/6"),
                           b=ex.End(device=name, interface="10GE0/2/0"), prefix=ex.subnet("10.250.10.0/24", e - 1, 31),
                           tags=["ospf"], cable_type="smf"))
        for j, (prov, short) in enumerate(providers[e]):
            cid = f"{short}-NET-{e}{j + 1:03d}"
            out += [m.Circuit(cid=cid, provider=prov, type="internet", tenant=IT, commit_rate=10_000_000,
                              owner_contact=NOC),
                    m.CircuitTermination(circuit=cid, term_side="A", site="yuntang", port_speed=10_000_000),
                    ex.Link(a=ex.End(device=name, interface=f"10GE0/2/{j + 1}"), circuit=cid,
                            prefix=ex.subnet("203.0.113.0/24", p, 31), cable_type="smf")]
            p += 1
    # the VPN gateway (DMZ): OSPF to the core's second chassis
    out.append(m.Device(name="ytg-vpn-1", device_type="server-2u", role="vpn-gateway", platform="linux-frr",
                        site=site, location=loc, rack="DC-R00", tenant=IT, owner_contact=NOC,
                        loopback="10.255.1.10/32", mgmt="10.254.1.10/16"))
    out.append(ex.Link(a=ex.End(device="ytg-core-2", interface="100GE2/0/7"), b=ex.End(device="ytg-vpn-1",
                       interface="eth0"), prefix=ex.subnet("10.250.10.0/24", 4, 31), tags=["ospf"],
                       cable_type="smf"))
    out.append(m.Prefix(prefix="10.44.0.0/20", site=site, role="staff", tenant=IT, owner_contact=NOC,
                        is_pool=True, description="VPN staff address pool"))
    for net in ("10.250.0.0/22", "10.250.8.0/24", "10.250.9.0/24", "10.250.10.0/24"):
        out.append(m.Prefix(prefix=net, role="p2p", tenant=IT, owner_contact=NOC, description="links"))
    out.append(m.Prefix(prefix="203.0.113.0/24", role="p2p", tenant=IT, owner_contact=NOC,
                        description="provider links (documentation range)"))
    return out


# --------------------------------------------------------------------------------------------- entry
def pieces(devices: int = 2000, seed: int = 1) -> list[tuple[str, m.Obj]]:
    """The expanded pieces (construct output and plain objects), before merging."""
    size = Sizing.for_devices(devices)
    rng = random.Random(seed)  # noqa: S311 - deterministic shape, not a secret
    out: list[tuple[str, m.Obj]] = [("scale: catalogue", o) for o in catalogue()]
    for vc_index, plan in enumerate(_CAMPUSES):
        campus = _campus(plan, size.access[plan.site], rng, vc_index)
        out += [(f"scale: campus {plan.site}", o) for o in campus.expand()]
    for item in _dc(size):
        if isinstance(item, m.Obj):
            out.append(("scale: data centre", item))
        else:
            out += [(f"scale: {type(item).__name__}", o) for o in item.expand()]
    return out


def generate(devices: int = 2000, seed: int = 1) -> Design:
    """The merged, checked design at ``devices`` devices (deterministic for ``seed``)."""
    return build(pieces(devices, seed))


def summary(design: Design) -> dict[str, int]:
    """Object counts per kind, plus interfaces including those NetBox instantiates from templates."""
    counts = dict(design.counts())
    implied_ifaces = sum(1 for kind, _ in design.implied if kind == "dcim.interfaces")
    explicit_only = sum(1 for k in design.objects.get("dcim.interfaces", {})
                        if ("dcim.interfaces", k) not in design.implied)
    counts["interfaces (all)"] = implied_ifaces + explicit_only
    return counts
