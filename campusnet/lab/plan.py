"""The lab plan: which namespaces, which veths, which daemons — built from NetBox data only.

:func:`plan_from_snapshot` reads a :class:`~campusnet.sot.models.Snapshot`:

* devices tagged ``lab`` → nodes; a virtual chassis is **one** node named after the VC (its members'
  interfaces all live on that node, each member port a separate veth);
* devices with role ``test-host`` (tagged ``lab``) → ``host`` nodes (plain namespace, no FRR);
* a cable (also through patch panels) between interfaces of two lab devices → one veth link;
* a circuit whose two ends are cabled to lab devices → one veth link;
  a circuit with one end on a lab device → a ``provider`` stub node (one per provider, FRR with eBGP
  from the provider's ASN, the other address of the campus end's subnet, and a default route offered);
* the management address of each node is the device's ``oob_ip`` (the VC master's for a VC);
* a test host gets its NetBox addresses on its ports and a default route whose gateway is *derived*
  (:func:`host_gateway`): the FHRP virtual IP in the host's subnet, else the address of the SVI (an
  interface of a non-host device) in it; a host port on a circuit uses the provider stub's address on
  that /31. A host tagged ``vpn-user`` also runs an OpenVPN client towards the lab's VPN gateway
  (server = the gateway's anycast address on its loopback, see :func:`vpn_client`);
* a provider stub carries the IPs tagged ``provider-test`` whose tenant slug is the provider's slug on
  its ``lo`` and announces them (and its customer circuits' subnets) over its eBGP sessions; it routes
  the campus's private prefixes back to its eBGP peers (the lab leaves the egress NAT out), but refuses
  them to traffic from its customers (``ip rule … prohibit``): an off-campus host reaches the campus's
  private space only through the VPN.

Kinds: ``switch`` when the node needs Open vSwitch (802.1Q modes or LAGs on its interfaces), with FRR
when it also routes (an IP on a non-management interface, or a primary IP); ``router`` otherwise.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from campusnet.errors import CampusnetError
from campusnet.lab.names import MGMT_IFNAME, ifname_map, node_slug, ns_name, valid_linux_ifname
from campusnet.vpn import VPN_DEVICE, VPN_PORT, VPN_PROTO, transport

if TYPE_CHECKING:
    from campusnet.sot.models import Circuit, Device, Interface, IPAddress, Snapshot

NodeKind = Literal["router", "switch", "host", "provider"]
FRR_DAEMONS: tuple[str, ...] = ("zebra", "bgpd", "ospfd", "staticd", "vrrpd")
MGMT_PREFIX = "10.254.0.0/24"
MGMT_GATEWAY = "10.254.0.254/24"
LAB_TAG = "lab"
TEST_HOST_ROLE = "test-host"
VPN_USER_TAG = "vpn-user"
PROVIDER_TEST_TAG = "provider-test"
VPN_GATEWAY_ROLE = "vpn-gateway"
#: IP roles of a VPN gateway's public (service) address on its loopback
VPN_PUBLIC_IP_ROLES = frozenset({"anycast", "vip"})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LabInterface(_Model):
    """One physical port of a node (a veth when cabled): its Linux name and the NetBox interface behind it."""

    linux: str
    device: str = ""  # NetBox device (a VC member for a VC node); "" for lab-made interfaces
    netbox: str = ""  # NetBox interface name (for provider stubs: the circuit key)
    address: str | None = None  # configured at day 0: provider stubs (lab-owned) and test hosts (no intent)


class BgpPeer(_Model):
    address: str
    asn: int
    description: str = ""


class LabRoute(_Model):
    """A static route made at day 0 (provider stubs: the way back to the campus)."""

    prefix: str
    via: str


class LabVpnClient(_Model):
    """An OpenVPN client a test host runs from day 0 (it retries until the gateway answers)."""

    gateway: str  # the VPN gateway's NetBox device name (its certificate's CN)
    remote: str  # the gateway's public (anycast) address
    port: int = VPN_PORT
    proto: Literal["udp", "tcp"] = VPN_PROTO
    device: str = VPN_DEVICE


class LabNode(_Model):
    name: str
    kind: NodeKind
    mgmt_ip: str  # "10.254.0.11/24"
    devices: tuple[str, ...] = ()  # the NetBox devices this node stands for
    platform: str | None = None
    frr: bool = True
    ovs: bool = False
    daemons: tuple[str, ...] = FRR_DAEMONS
    interfaces: tuple[LabInterface, ...] = ()
    asn: int | None = None  # provider stubs
    bgp_peers: tuple[BgpPeer, ...] = ()  # provider stubs
    loopbacks: tuple[str, ...] = ()  # provider stubs: addresses on lo ("203.0.113.201/32"), announced
    announce: tuple[str, ...] = ()  # provider stubs: prefixes offered to the eBGP peers (besides the default)
    routes: tuple[LabRoute, ...] = ()  # provider stubs: the campus's private prefixes back to the peers
    customer_ifaces: tuple[str, ...] = ()  # provider stubs: ports to customers (no eBGP): refused those routes
    gateway: str | None = None  # test hosts: the default route's next hop (derived, see host_gateway)
    gateway_iface: str | None = None  # test hosts: the Linux port the default route leaves by
    vpn_client: LabVpnClient | None = None  # test hosts tagged vpn-user

    @property
    def ns(self) -> str:
        return ns_name(self.name)

    @property
    def mgmt_address(self) -> str:
        return str(ipaddress.ip_interface(self.mgmt_ip).ip)

    def linux_name(self, device: str, netbox: str) -> str:
        """NetBox ``device:interface`` → the Linux name on this node."""
        for i in self.interfaces:
            if i.device == device and i.netbox == netbox:
                return i.linux
        raise CampusnetError("E403", f"no interface {device}:{netbox} on this node", obj=self.name)

    def netbox_name(self, linux: str) -> tuple[str, str]:
        """Linux name → ``(device, NetBox interface)``."""
        for i in self.interfaces:
            if i.linux == linux:
                return i.device, i.netbox
        raise CampusnetError("E403", f"no interface {linux!r} on this node", obj=self.name)

    def iface(self, linux: str) -> LabInterface | None:
        return next((i for i in self.interfaces if i.linux == linux), None)


class LinkEnd(_Model):
    node: str
    iface: str  # Linux name


class LabLink(_Model):
    a: LinkEnd
    b: LinkEnd
    cable: int | None = None
    circuit: str | None = None  # circuit key when the link stands for a circuit

    @property
    def key(self) -> str:
        return f"{self.a.node}:{self.a.iface}--{self.b.node}:{self.b.iface}"


class LabPlan(_Model):
    nodes: tuple[LabNode, ...]
    links: tuple[LabLink, ...] = ()
    mgmt_prefix: str = MGMT_PREFIX
    mgmt_gateway: str = MGMT_GATEWAY  # the host side of the management bridge

    @model_validator(mode="after")
    def _check(self) -> LabPlan:
        net = ipaddress.ip_network(self.mgmt_prefix)
        gw = ipaddress.ip_interface(self.mgmt_gateway)
        if gw.ip not in net:
            raise ValueError(f"management gateway {gw} is outside {net}")
        if ipaddress.ip_network("192.0.2.0/24").overlaps(net):
            raise ValueError("192.0.2.0/24 is the host's own network: never use it in the lab")
        names: set[str] = set()
        ips: dict[str, str] = {}
        for n in self.nodes:
            if n.name in names:
                raise ValueError(f"node {n.name}: duplicate node name")
            names.add(n.name)
            ip = ipaddress.ip_interface(n.mgmt_ip)
            if ip.ip not in net or ip.ip == gw.ip:
                raise ValueError(f"node {n.name}: management address {ip} not usable in {net}")
            if str(ip.ip) in ips:
                raise ValueError(f"node {n.name}: management address {ip.ip} also used by {ips[str(ip.ip)]}")
            ips[str(ip.ip)] = n.name
            seen: set[str] = set()
            for i in n.interfaces:
                if not valid_linux_ifname(i.linux):
                    raise ValueError(f"node {n.name}: interface name {i.linux!r} is not a valid Linux name")
                if i.linux in seen:
                    raise ValueError(f"node {n.name}: interface {i.linux} listed twice")
                if i.linux == MGMT_IFNAME:
                    raise ValueError(f"node {n.name}: {MGMT_IFNAME} is reserved for management")
                seen.add(i.linux)
        by_name = {n.name: n for n in self.nodes}
        used: set[tuple[str, str]] = set()
        for link in self.links:
            for end in (link.a, link.b):
                node = by_name.get(end.node)
                if node is None:
                    raise ValueError(f"link {link.key}: no node {end.node}")
                if node.iface(end.iface) is None:
                    raise ValueError(f"link {link.key}: node {end.node} has no interface {end.iface}")
                if (end.node, end.iface) in used:
                    raise ValueError(f"link {link.key}: {end.node}:{end.iface} is on two links")
                used.add((end.node, end.iface))
        return self

    def node(self, name: str) -> LabNode:
        for n in self.nodes:
            if n.name == name:
                return n
        raise CampusnetError("E402", "no such node in the lab plan", obj=name)

    def links_of(self, node: str) -> list[LabLink]:
        return [lk for lk in self.links if node in (lk.a.node, lk.b.node)]


# ----------------------------------------------------------------------------------------------------
# From NetBox
# ----------------------------------------------------------------------------------------------------
_NOT_PHYSICAL = {"virtual", "lag", "bridge"}


def _physical(i: Interface) -> bool:
    """A port that can carry a cable: the lab makes it a veth. LAGs, SVIs, loopbacks belong to the intent."""
    return not i.mgmt_only and i.type not in _NOT_PHYSICAL and not i.name.lower().startswith("loopback")


def _addresses(snap: Snapshot, device: str, name: str) -> list[str]:
    """An interface's addresses: those on the interface record and those assigned to it in IPAM."""
    out = list(snap.interface(device, name).ip_addresses)
    out += [ip.address for ip in snap.ips_of(device, name) if ip.address not in out]
    return out


def _other_host(campus_ip: str) -> str | None:
    """The other address of a point-to-point subnet (/31 or /30)."""
    itf = ipaddress.ip_interface(campus_ip)
    if itf.version != 4 or itf.network.prefixlen not in (30, 31):
        return None
    hosts = [h for h in (itf.network.hosts() if itf.network.prefixlen == 30 else itf.network)]
    others = [h for h in hosts if h != itf.ip]
    return f"{others[0]}/{itf.network.prefixlen}" if others else None


def _host_ip_index(snap: Snapshot) -> list[tuple[str, str, str, str | None]]:
    """``(address, device, interface, ip role)`` of every interface address in NetBox."""
    out: list[tuple[str, str, str, str | None]] = []
    seen: set[tuple[str, str, str]] = set()
    for i in snap.interfaces:
        for a in i.ip_addresses:
            if (a, i.device, i.name) not in seen:
                seen.add((a, i.device, i.name))
                out.append((a, i.device, i.name, None))
    for ip in snap.ip_addresses:
        if ip.device and ip.interface and (ip.address, ip.device, ip.interface) not in seen:
            seen.add((ip.address, ip.device, ip.interface))
            out.append((ip.address, ip.device, ip.interface, ip.role))
    return out


def host_gateway(snap: Snapshot, device: str, iface: str, address: str, *, on_circuit: bool,
                 lab_devices: frozenset[str] = frozenset()) -> str:
    """The default gateway of a test host's port, derived from NetBox (never written down).

    * a port on a circuit (an off-campus host behind a provider): the other address of its /31 (/30),
      which the provider stub holds;
    * else the virtual IP of an FHRP group in the port's subnet;
    * else the address in that subnet of an interface (an SVI) of a device that is not a test host —
      lab devices first, then virtual interfaces (SVIs), then the lowest address.

    ``E408`` (naming the host and the port) when there is none.
    """
    itf = ipaddress.ip_interface(address)
    net = itf.network
    if on_circuit:
        other = _other_host(address)
        if other is None:
            raise CampusnetError("E408", f"port {iface} is on a circuit but {address} is not a /31 or /30: no "
                                 "provider address to route by", obj=device, field=f"{iface}.ip_addresses")
        return str(ipaddress.ip_interface(other).ip)
    vips = sorted({ipaddress.ip_interface(v).ip for g in snap.fhrp_groups for v in g.vips
                   if ipaddress.ip_interface(v).version == itf.version and ipaddress.ip_interface(v).ip in net
                   and ipaddress.ip_interface(v).ip != itf.ip})
    if vips:
        return str(vips[0])
    roles = {d.name: d.role for d in snap.devices}
    types = {(i.device, i.name): i.type for i in snap.interfaces}
    candidates: list[tuple[int, int, ipaddress.IPv4Address | ipaddress.IPv6Address]] = []
    for a, dev, name, ip_role in _host_ip_index(snap):
        cand = ipaddress.ip_interface(a)
        if (dev == device or roles.get(dev, TEST_HOST_ROLE) == TEST_HOST_ROLE or ip_role == "vrrp"
                or cand.version != itf.version or cand.network != net or cand.ip == itf.ip):
            continue
        candidates.append((0 if dev in lab_devices else 1, 0 if types.get((dev, name)) == "virtual" else 1,
                           cand.ip))
    if not candidates:
        raise CampusnetError("E408", f"no gateway derivable for {address}: no FHRP virtual IP and no SVI (an "
                             f"interface of a non-host device) in {net}", obj=device, field=f"{iface}.gateway")
    return str(min(candidates)[2])


def _public_address(snap: Snapshot, gateway: Device) -> str | None:
    """A VPN gateway's public address: an anycast/VIP-role IP on one of its loopbacks."""
    ips: list[IPAddress] = [ip for ip in snap.ip_addresses if ip.device == gateway.name
                            and ip.role in VPN_PUBLIC_IP_ROLES and ipaddress.ip_interface(ip.address).version == 4]
    return str(ipaddress.ip_interface(sorted(ips, key=lambda ip: ip.address)[0].address).ip) if ips else None


def vpn_client(snap: Snapshot, host: Device, lab_devices: list[Device]) -> LabVpnClient:
    """The OpenVPN client of a host tagged ``vpn-user``: towards the lab's VPN gateway (role
    ``vpn-gateway``; the first by name if there are several), server = its public (anycast) address."""
    gateways = sorted((d for d in lab_devices if d.role == VPN_GATEWAY_ROLE), key=lambda d: d.name)
    if not gateways:
        raise CampusnetError("E409", f"tagged {VPN_USER_TAG} but no device of role {VPN_GATEWAY_ROLE} is in the lab",
                             obj=host.name, field="tags")
    gw = gateways[0]
    remote = _public_address(snap, gw)
    if remote is None:
        raise CampusnetError("E409", "VPN gateway has no public address (an anycast IP on its loopback) for "
                             "clients to connect to", obj=gw.name, field="ip_addresses (role anycast)")
    port, proto = transport(gw.config_context)
    return LabVpnClient(gateway=gw.name, remote=remote, port=port, proto=proto, device=VPN_DEVICE)


RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def campus_private_prefixes(snap: Snapshot) -> list[str]:
    """The campus's private (RFC 1918) IPv4 space in NetBox: global-VRF prefixes, collapsed."""
    nets = [n for p in snap.prefixes if p.vrf is None and isinstance(n := p.network, ipaddress.IPv4Network)
            and any(n.subnet_of(r) for r in RFC1918)]
    return [str(n) for n in ipaddress.collapse_addresses(nets)]


def plan_from_snapshot(snap: Snapshot) -> LabPlan:
    """Build the lab plan from NetBox data only (see the module docstring for the mapping)."""
    return _PlanBuilder(snap).build()


LinkKey = tuple[tuple[str, str], tuple[str, str]]


class _PlanBuilder:
    """One pass over the snapshot, a step per part of the mapping (devices, cables, hosts, circuits)."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.lab_devices = [d for d in snap.devices if LAB_TAG in d.tags]
        self.node_of: dict[str, str] = {}  # device name -> node name (a VC collapses onto one node)
        self.members: dict[str, list[Device]] = defaultdict(list)
        self.nodes: dict[str, dict[str, object]] = {}
        self.iface_maps: dict[str, dict[tuple[str, str], str]] = {}
        self.used_ips: set[str] = set()
        self.links: dict[LinkKey, LabLink] = {}
        self.circuit_ends: dict[tuple[str, str], Circuit] = {}
        for c in snap.circuits:
            for t in c.terminations:
                ep = t.interface
                if ep is not None and ep.device and ep.name:
                    self.circuit_ends[(ep.device, ep.name)] = c

    def build(self) -> LabPlan:
        self._group()
        for node, devs in sorted(self.members.items()):
            self.nodes[node] = self._node(node, devs)
        self._cable_links()
        for node, devs in sorted(self.members.items()):
            if self.nodes[node]["kind"] == "host":
                self._host(node, devs[0])
        for slug, circuits in sorted(self._circuit_links().items()):
            self._provider(slug, circuits)
        try:
            return LabPlan(nodes=tuple(LabNode.model_validate(v) for _, v in sorted(self.nodes.items())),
                           links=tuple(sorted(self.links.values(), key=lambda lk: lk.key)))
        except ValueError as exc:  # pydantic ValidationError is a ValueError
            raise CampusnetError("E402", f"lab plan is inconsistent: {exc}") from None

    def _group(self) -> None:
        for d in self.lab_devices:
            if d.virtual_chassis:
                node = node_slug(d.virtual_chassis)
                for m in self.snap.vc_members(d.virtual_chassis):  # every member belongs to the node
                    self.node_of[m.name] = node
                    if m not in self.members[node]:
                        self.members[node].append(m)
            else:
                node = node_slug(d.name)
                if node in self.members and d not in self.members[node]:
                    raise CampusnetError("E402", f"device name collides with another lab node {node!r}", obj=d.name)
                self.node_of[d.name] = node
                self.members[node].append(d)

    def _node(self, node: str, devs: list[Device]) -> dict[str, object]:
        snap = self.snap
        vc = snap.vc(devs[0].virtual_chassis) if devs[0].virtual_chassis else None
        master = next((d for d in devs if vc and d.name == vc.master), None) or next(
            (d for d in devs if d.vc_master), None) or devs[0]
        oob = master.oob_ip or next((d.oob_ip for d in devs if d.oob_ip), None)
        if not oob:
            raise CampusnetError("E402", "lab device has no oob_ip (management address)", obj=master.name,
                                 field="oob_ip")
        oob_ip = ipaddress.ip_interface(oob)
        if oob_ip.ip not in ipaddress.ip_network(MGMT_PREFIX) or oob_ip.ip == ipaddress.ip_interface(MGMT_GATEWAY).ip:
            raise CampusnetError("E402", f"oob_ip {oob} is not a usable address in the lab management network "
                                 f"{MGMT_PREFIX}", obj=master.name, field="oob_ip")
        self.used_ips.add(str(oob_ip.ip))
        all_ifaces = [i for d in devs for i in snap.interfaces_of(d.name) if not i.mgmt_only]
        ifaces = [i for i in all_ifaces if _physical(i)]
        mapping = ifname_map(((i.device, i.name) for i in ifaces), node=node)
        self.iface_maps[node] = mapping
        is_host = master.role == TEST_HOST_ROLE
        needs_ovs = any(i.mode or i.is_lag or i.lag for i in all_ifaces)
        routes = bool(master.primary_ip4) or any(_addresses(snap, i.device, i.name) for i in all_ifaces)
        kind: NodeKind = "host" if is_host else ("switch" if needs_ovs else "router")
        frr = not is_host and (routes or kind == "router")
        return {
            "name": node, "kind": kind, "mgmt_ip": oob, "devices": tuple(d.name for d in devs),
            "platform": master.platform, "frr": frr, "ovs": kind == "switch",
            "daemons": FRR_DAEMONS if frr else (),
            "interfaces": [LabInterface(linux=mapping[(i.device, i.name)], device=i.device, netbox=i.name)
                           for i in sorted(ifaces, key=lambda i: (i.device, i.name))],
        }

    def _add_link(self, a: tuple[str, str], b: tuple[str, str], cable: int | None, circuit: str | None) -> None:
        ea = (self.node_of[a[0]], self.iface_maps[self.node_of[a[0]]][a])
        eb = (self.node_of[b[0]], self.iface_maps[self.node_of[b[0]]][b])
        key = (min(ea, eb), max(ea, eb))
        if key in self.links:
            return
        self.links[key] = LabLink(a=LinkEnd(node=key[0][0], iface=key[0][1]),
                                  b=LinkEnd(node=key[1][0], iface=key[1][1]), cable=cable, circuit=circuit)

    def _in_lab(self, device: str | None, name: str | None) -> bool:
        return bool(device and name and device in self.node_of
                    and (device, name) in self.iface_maps[self.node_of[device]])

    def _cable_links(self) -> None:
        """Cables between two lab interfaces (the path's far end, so patch panels are traversed)."""
        for d_name in sorted(self.node_of):
            for i in self.snap.interfaces_of(d_name):
                if (i.device, i.name) not in self.iface_maps[self.node_of[d_name]]:
                    continue
                peer = i.peer
                if peer is not None and peer.kind == "interface" and self._in_lab(peer.device, peer.name):
                    circ = self.circuit_ends.get((i.device, i.name))
                    self._add_link((i.device, i.name), (peer.device or "", peer.name or ""), i.cable,
                                   circ.key if circ else None)

    def _host(self, node: str, host: Device) -> None:
        """A test host: its NetBox addresses and a derived default gateway (no intent: day 0 is all)."""
        snap, spec = self.snap, self.nodes[node]
        addressed: list[LabInterface] = []
        primary = host.primary_ip4
        for li in list(spec["interfaces"]):  # type: ignore[call-overload]
            v4 = [a for a in _addresses(snap, li.device, li.netbox) if ipaddress.ip_interface(a).version == 4]
            addressed.append(li.model_copy(update={"address": v4[0] if v4 else None}))
        with_addr = [li for li in addressed if li.address]
        if not with_addr:
            raise CampusnetError("E407", "test host has no IPv4 address on any of its ports: nothing to test from",
                                 obj=host.name, field="interfaces.ip_addresses")
        first = next((li for li in with_addr if primary and li.address
                      and ipaddress.ip_interface(li.address).ip == ipaddress.ip_interface(primary).ip), with_addr[0])
        assert first.address is not None
        spec["interfaces"] = addressed
        spec["gateway"] = host_gateway(snap, host.name, first.netbox, first.address,
                                       on_circuit=(first.device, first.netbox) in self.circuit_ends,
                                       lab_devices=frozenset(self.node_of))
        spec["gateway_iface"] = first.linux
        if VPN_USER_TAG in host.tags:
            spec["vpn_client"] = vpn_client(snap, host, self.lab_devices)

    def _circuit_links(self) -> dict[str, list[tuple[Circuit, str, str]]]:
        """Circuits: both ends on lab devices → a link; one end → the provider's stub (returned by provider)."""
        stub_ifaces: dict[str, list[tuple[Circuit, str, str]]] = defaultdict(list)
        for c in sorted(self.snap.circuits, key=lambda c: c.key):
            ends = [t.interface for t in c.terminations]
            lab_ends = [e for e in ends if e is not None and self._in_lab(e.device, e.name)]
            if len(lab_ends) == 2:
                a, b = lab_ends
                self._add_link((a.device or "", a.name or ""), (b.device or "", b.name or ""), None, c.key)
            elif len(lab_ends) == 1:
                e = lab_ends[0]
                stub_ifaces[c.provider].append((c, e.device or "", e.name or ""))
        return stub_ifaces

    def _peer_asn(self, dev: str) -> int | None:
        d = self.snap.device(dev)
        if d.bgp_asn is None and d.virtual_chassis:
            return next((m.bgp_asn for m in self.snap.vc_members(d.virtual_chassis) if m.bgp_asn), None)
        return d.bgp_asn

    def _free_ip(self, name: str) -> str:
        mgmt_net = ipaddress.ip_network(MGMT_PREFIX)
        gw = ipaddress.ip_interface(MGMT_GATEWAY).ip
        for h in reversed(list(mgmt_net.hosts())):
            if str(h) not in self.used_ips and h != gw:
                self.used_ips.add(str(h))
                return f"{h}/{mgmt_net.prefixlen}"
        raise CampusnetError("E402", f"no free management address left in {MGMT_PREFIX}", obj=name)

    def _provider(self, slug: str, circuits: list[tuple[Circuit, str, str]]) -> None:
        """A provider stub: eBGP to its campus peers, its test addresses on lo, its customers' subnets."""
        snap = self.snap
        prov = next((p for p in snap.providers if p.slug == slug), None)
        name = node_slug(f"{slug}")
        if name in self.nodes:
            name = node_slug(f"prov-{slug}")
        mgmt_ip = self._free_ip(name)
        asn = prov.asns[0] if prov and prov.asns else None
        ifs: list[LabInterface] = []
        peers: list[BgpPeer] = []
        customers: list[str] = []
        # the provider's test addresses: tag provider-test, tenant slug == provider slug → the stub's lo
        loopbacks = sorted({ip.address for ip in snap.ip_addresses
                            if PROVIDER_TEST_TAG in ip.tags and ip.tenant == slug}, key=ipaddress.ip_interface)
        announce = [str(ipaddress.ip_interface(a).network) for a in loopbacks]
        for idx, (circ, dev, ifname) in enumerate(circuits, start=1):
            campus_ip = next((ip for ip in _addresses(snap, dev, ifname) if ipaddress.ip_interface(ip).version == 4),
                             None)
            mine = _other_host(campus_ip) if campus_ip else None
            linux = f"eth{idx}"
            ifs.append(LabInterface(linux=linux, device="", netbox=circ.key, address=mine))
            if mine and campus_ip:
                peer_asn = self._peer_asn(dev)
                if asn is not None and peer_asn is not None:
                    peers.append(BgpPeer(address=str(ipaddress.ip_interface(campus_ip).ip), asn=peer_asn,
                                         description=f"{dev} {ifname} ({circ.cid})"))
                else:  # a customer of the provider (e.g. an off-campus test host): its subnet is offered
                    announce.append(str(ipaddress.ip_interface(campus_ip).network))
                    customers.append(linux)
            end_a = (self.node_of[dev], self.iface_maps[self.node_of[dev]][(dev, ifname)])
            self.links[(end_a, (name, linux))] = LabLink(a=LinkEnd(node=end_a[0], iface=end_a[1]),
                                                         b=LinkEnd(node=name, iface=linux), circuit=circ.key)
        private = campus_private_prefixes(snap)
        self.nodes[name] = {
            "name": name, "kind": "provider", "mgmt_ip": mgmt_ip,
            "devices": (), "platform": None, "frr": True, "ovs": False,
            "daemons": ("zebra", "bgpd", "staticd"), "interfaces": ifs, "asn": asn, "bgp_peers": tuple(peers),
            "loopbacks": tuple(loopbacks), "announce": tuple(dict.fromkeys(announce)),
            # no NAT in the lab: the provider routes the campus's private space back to its campus peers
            "routes": tuple(LabRoute(prefix=pfx, via=p.address) for p in peers for pfx in private),
            # ... for replies only: a customer must not reach the campus's private space around the VPN
            "customer_ifaces": tuple(customers) if peers else (),
        }
