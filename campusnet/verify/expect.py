"""What the network must look like, derived from the same intent that rendering used.

Nothing here is written per device: every expectation comes from the lab plan (NetBox cables) and the
lab emulation intents (OSPF, BGP, EVPN, LAGs), or from NetBox roles/tags (reachability).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, ip_interface
from typing import TYPE_CHECKING, Literal

from campusnet.intent.emulation import plumbing
from campusnet.platforms import LAB_PLATFORM

if TYPE_CHECKING:
    from collections.abc import Mapping

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


def node_intents(plan: LabPlan, intents: dict[str, DeviceIntent], emulations: Mapping[str, DeviceIntent]
                 ) -> dict[str, DeviceIntent]:
    """Lab node name → the lab emulation intent of the device it stands for (a VC: its master)."""
    out: dict[str, DeviceIntent] = {}
    for node in plan.nodes:
        for dev in node.devices:
            it = intents.get(dev)
            if it is not None:
                out[node.name] = emulations.get(dev) or it
                break
    return out


OSPF_DEAD_DEFAULT = 40  # FRR's defaults, when the intent sets no timers
BGP_HOLD_DEFAULT = 180


@dataclass(frozen=True)
class LabPeer:
    """A routing session the intent implies for a lab node."""

    proto: Literal["ospf", "bgp"]
    peer: str  # OSPF: the neighbour's router id; BGP: the neighbour's address
    node: str | None  # the lab node that holds it (None: a provider outside the lab)
    direct: bool  # on a connected subnet (or over a named interface)
    stub: bool  # the peer is a lab-made node (no intent: a provider stub)
    hold: int  # OSPF dead interval / BGP hold time, seconds


class LabRouting:
    """The OSPF and BGP sessions of every lab node, derived once from the plan and the emulation intents:
    the one derivation behind verify's ``ospf-neighbors``/``bgp-sessions`` and deploy's post-check."""

    def __init__(self, plan: LabPlan, intents: dict[str, DeviceIntent], emulations: Mapping[str, DeviceIntent]):
        self.by_node = node_intents(plan, intents, emulations)
        self.node_of_device = {d: n.name for n in plan.nodes for d in n.devices}
        self.rid_node = {str(x.ospf.router_id): name for name, x in self.by_node.items() if x.ospf}
        self.addr_node: dict[str, str] = {}
        for name, x in self.by_node.items():
            for iface in x.interfaces:
                v4 = getattr(iface, "ipv4", None)
                if v4 is not None:
                    self.addr_node[str(v4.ip)] = name
        for n in plan.nodes:
            for i in n.interfaces:
                if i.address:
                    self.addr_node.setdefault(str(ip_interface(i.address).ip), n.name)

    def peers(self, node: str) -> list[LabPeer]:
        """OSPF: one per neighbour across a non-passive OSPF interface cabled to a lab node that runs OSPF;
        BGP: every neighbour that exists in the lab, and every provider (a stub stands in for it)."""
        it = self.by_node.get(node)
        if it is None:
            return []
        out: list[LabPeer] = []
        if it.ospf:
            for iface in it.interfaces:
                ospf = getattr(iface, "ospf", None)
                peer = getattr(iface, "peer", None)
                if ospf is None or peer is None or ospf.passive or not peer.device:
                    continue
                pnode = self.node_of_device.get(peer.device)
                other = self.by_node.get(pnode or "")
                if pnode and other is not None and other.ospf:
                    rid = str(other.ospf.router_id)
                    if self.rid_node.get(rid) == pnode and not any(o.peer == rid for o in out):
                        out.append(LabPeer("ospf", rid, pnode, direct=True, stub=False,
                                           hold=ospf.dead_interval or OSPF_DEAD_DEFAULT))
        if it.bgp:
            connected = [v4.network for i in it.interfaces if i.kind not in ("loopback", "management")
                         for v4 in [getattr(i, "ipv4", None)] if v4 is not None]
            for nb in it.bgp.neighbors:
                pnode = self.addr_node.get(str(nb.address))
                if nb.kind != "provider" and pnode is None:
                    continue  # not in the lab
                out.append(LabPeer("bgp", str(nb.address), pnode,
                                   direct=nb.interface is not None or any(nb.address in net for net in connected),
                                   stub=pnode is not None and pnode not in self.by_node,
                                   hold=it.bgp.timers.hold if it.bgp.timers else BGP_HOLD_DEFAULT))
        return out


def expectations(snapshot: Snapshot, plan: LabPlan, intents: dict[str, DeviceIntent],
                 emulations: Mapping[str, DeviceIntent]) -> list[Expectation]:
    routing = LabRouting(plan, intents, emulations)
    exps: list[Expectation] = []

    # every cabled link up on both ends
    for link in plan.links:
        for end, other in ((link.a, link.b), (link.b, link.a)):
            exps.append(Expectation("link-up", end.node, end.iface, ("UP",),
                                    {"peer": f"{other.node}:{other.iface}"}))

    for name, it in sorted(routing.by_node.items()):
        # LAG members bundled (OVS bonds with LACP)
        for port in plumbing(it).ovs_ports if it.platform == LAB_PLATFORM.slug else ():
            if port.bond_members:
                exps.append(Expectation("lag-bundled", name, port.name, tuple(sorted(port.bond_members))))
        peers = routing.peers(name)
        # OSPF: exactly the neighbours across ospf-enabled links to lab devices
        if it.ospf:
            exps.append(Expectation("ospf-neighbors", name, "ospf",
                                    tuple(sorted(p.peer for p in peers if p.proto == "ospf"))))
        # BGP: exactly the sessions the data implies (peers that exist in the lab, provider stubs included)
        if it.bgp:
            exps.append(Expectation("bgp-sessions", name, "bgp",
                                    tuple(sorted(p.peer for p in peers if p.proto == "bgp"))))
        # EVPN: every VNI the data assigns is present
        if it.evpn and it.evpn.vnis:
            exps.append(Expectation("evpn-vnis", name, "evpn", tuple(sorted(str(v.vni) for v in it.evpn.vnis))))
        # configuration in sync with NetBox (drift)
        exps.append(Expectation("config-sync", name, "running-config"))

    exps += _reachability(snapshot, plan)
    return exps


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
