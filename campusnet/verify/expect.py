"""What the network must look like, derived from the same intent that rendering used.

Nothing here is written per device: every expectation comes from the lab plan (NetBox cables) and the
lab emulation intents (OSPF, BGP, EVPN, LAGs), or from NetBox roles/tags (reachability).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, ip_interface
from typing import TYPE_CHECKING

from campusnet.intent.emulation import plumbing
from campusnet.platforms import LAB_PLATFORM

if TYPE_CHECKING:
    from campusnet.intent.models import DeviceIntent
    from campusnet.lab.plan import LabPlan
    from campusnet.sot.models import Snapshot

# Test-host roles by NetBox tag (on devices of role test-host): who must reach what.
TAG_BUILDING_USER = "building-user"
TAG_DC_SERVER = "dc-server"
TAG_VPN_USER = "vpn-user"
TAG_PROVIDER_TEST = "provider-test"


@dataclass(frozen=True)
class Expectation:
    check: str  # link-up, lag-bundled, ospf-neighbors, bgp-sessions, evpn-vnis, reachability, config-sync
    node: str  # lab node the check runs on
    subject: str  # what is checked (interface, peer set, destination)
    expected: tuple[str, ...] = ()
    detail: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.check}:{self.node}:{self.subject}"


def node_intents(plan: LabPlan, intents: dict[str, DeviceIntent]) -> dict[str, DeviceIntent]:
    """Lab node name → the lab emulation intent of the device it stands for (a VC: its master)."""
    out: dict[str, DeviceIntent] = {}
    for node in plan.nodes:
        for dev in node.devices:
            it = intents.get(dev)
            if it is not None:
                out[node.name] = it.emulation or it
                break
    return out


def expectations(snapshot: Snapshot, plan: LabPlan, intents: dict[str, DeviceIntent]) -> list[Expectation]:
    by_node = node_intents(plan, intents)
    exps: list[Expectation] = []

    # every cabled link up on both ends
    for link in plan.links:
        for end, other in ((link.a, link.b), (link.b, link.a)):
            exps.append(Expectation("link-up", end.node, end.iface, ("UP",),
                                    {"peer": f"{other.node}:{other.iface}"}))

    router_id_of_device: dict[str, str] = {}
    node_of_device: dict[str, str] = {}
    for node in plan.nodes:
        for dev in node.devices:
            node_of_device[dev] = node.name
    for name, it in by_node.items():
        if it.ospf:
            router_id_of_device[name] = str(it.ospf.router_id)

    for name, it in sorted(by_node.items()):
        # LAG members bundled (OVS bonds with LACP)
        for port in plumbing(it).ovs_ports if it.platform == LAB_PLATFORM.slug else ():
            if port.bond_members:
                exps.append(Expectation("lag-bundled", name, port.name, tuple(sorted(port.bond_members))))
        # OSPF: exactly the neighbours across ospf-enabled links to lab devices
        if it.ospf:
            peers: set[str] = set()
            for iface in it.interfaces:
                ospf = getattr(iface, "ospf", None)
                peer = getattr(iface, "peer", None)
                if ospf is None or peer is None or ospf.passive or not peer.device:
                    continue
                pnode = node_of_device.get(peer.device)
                if pnode and pnode in router_id_of_device:
                    peers.add(router_id_of_device[pnode])
            exps.append(Expectation("ospf-neighbors", name, "ospf", tuple(sorted(peers))))
        # BGP: exactly the sessions the data implies (peers that exist in the lab, provider stubs included)
        if it.bgp:
            lab_addrs = _lab_addresses(plan, by_node)
            want = sorted(str(n.address) for n in it.bgp.neighbors
                          if n.kind == "provider" or str(n.address) in lab_addrs)
            exps.append(Expectation("bgp-sessions", name, "bgp", tuple(want)))
        # EVPN: every VNI the data assigns is present
        if it.evpn and it.evpn.vnis:
            exps.append(Expectation("evpn-vnis", name, "evpn", tuple(sorted(str(v.vni) for v in it.evpn.vnis))))
        # configuration in sync with NetBox (drift)
        exps.append(Expectation("config-sync", name, "running-config"))

    exps += _reachability(snapshot, plan)
    return exps


def _lab_addresses(plan: LabPlan, by_node: dict[str, DeviceIntent]) -> set[str]:
    addrs: set[str] = set()
    for it in by_node.values():
        for iface in it.interfaces:
            v4 = getattr(iface, "ipv4", None)
            if v4 is not None:
                addrs.add(str(v4.ip))
    for node in plan.nodes:
        for i in node.interfaces:
            if i.address:
                addrs.add(str(ip_interface(i.address).ip))
    return addrs


def _reachability(snapshot: Snapshot, plan: LabPlan) -> list[Expectation]:
    """Building users reach DC servers and provider test addresses; VPN users reach DC servers."""
    nodes_by_device = {d: n.name for n in plan.nodes for d in n.devices}
    hosts: dict[str, list[tuple[str, str]]] = {TAG_BUILDING_USER: [], TAG_DC_SERVER: [], TAG_VPN_USER: []}
    for dev in snapshot.devices:
        if dev.name not in nodes_by_device:
            continue
        for tag in hosts:
            if tag in dev.tags:
                addr = _service_address(snapshot, dev.name)
                if addr:
                    hosts[tag].append((nodes_by_device[dev.name], addr))
    provider_tests = sorted(str(ip_interface(ip.address).ip) for ip in snapshot.ip_addresses
                            if TAG_PROVIDER_TEST in ip.tags)
    exps: list[Expectation] = []
    for src, _ in hosts[TAG_BUILDING_USER]:
        for dst_node, dst in hosts[TAG_DC_SERVER]:
            exps.append(Expectation("reachability", src, dst, ("reply",), {"to": dst_node}))
        for dst in provider_tests:
            exps.append(Expectation("reachability", src, dst, ("reply",), {"to": "provider test address"}))
    for src, _ in hosts[TAG_VPN_USER]:
        # through the tunnel: the ping leaves by the VPN client's tun device (`ping -I tun0`), so a path
        # around the VPN cannot pass the check (and the off-campus user has none: providers do not route
        # the campus's private space)
        client = plan.node(src).vpn_client
        via = {"via": "vpn", "dev": client.device} if client is not None else {"via": "vpn"}
        for dst_node, dst in hosts[TAG_DC_SERVER]:
            exps.append(Expectation("reachability", src, dst, ("reply",), {"to": dst_node, **via}))
    return exps


def _service_address(snapshot: Snapshot, device: str) -> str | None:
    """A test host's address: its primary IPv4, else its first non-management address."""
    dev = snapshot.device(device)
    if dev.primary_ip4:
        return str(ip_interface(dev.primary_ip4).ip)
    for ip in snapshot.ip_addresses:
        if ip.device == device and (ip.vrf or "") != "mgmt":
            addr = ip_interface(ip.address).ip
            if isinstance(addr, IPv4Address):
                return str(addr)
    return None
