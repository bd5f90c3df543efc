"""BGP and EVPN: eBGP sessions on routed links and provider circuits, what the device announces, and
the VNIs of a VTEP (docs/intent.md, "BGP", "EVPN")."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Literal

from campusnet.intent.build.common import POOL_DEVICE_ROLE, PROVIDER_OUT_PREFIX_LIST
from campusnet.intent.build.view import DeviceView, Link
from campusnet.intent.build.vlans import VlanTable
from campusnet.intent.errors import IntentError
from campusnet.intent.models import (
    Bgp,
    BgpEvpn,
    BgpIpv4,
    BgpNeighbor,
    Evpn,
    Interface,
    LoopbackInterface,
    PrefixList,
    PrefixListEntry,
    StaticRoute,
    SviInterface,
    Vni,
)
from campusnet.sot.models import L2VPN


class BgpBuilder:
    """BGP of one device. ``static_routes`` collects the routes that anchor what it announces (the
    address pools of a VPN gateway, the public blocks of the egress)."""

    def __init__(self, view: DeviceView, interfaces: tuple[Interface, ...], *, has_vnis: bool):
        self.view, self.interfaces, self.has_vnis = view, interfaces, has_vnis
        self.static_routes: list[StaticRoute] = []
        self.connect: int | None = None
        self.advint: int | None = None

    def build(self) -> Bgp | None:
        view, asn = self.view, self.view.dev.bgp_asn
        if view.evpn_on and asn is None:
            raise view.err("missing: EVPN is enabled (config_context.evpn.enabled) but the device has no ASN",
                           "bgp_asn")
        if asn is None:
            return None
        timers, self.connect, self.advint = view.ctx.bgp_lab_timers() if view.emulation else (None, None, None)
        names = {x.netbox_name: x.name for x in self.interfaces}
        neighbors: list[BgpNeighbor] = []
        for link in view.links.values():
            if link.local.key not in view.ospf_local:
                neighbor = self._neighbor(asn, link, names.get(link.local.name))
                if neighbor is not None:
                    neighbors.append(neighbor)
        if not neighbors:
            return None
        if not view.p.capabilities.bgp:
            raise view.err(f"platform {view.p.slug} cannot run BGP", "platform")
        if view.router_id is None:
            raise view.err("missing: BGP needs a router id (the loopback as primary IPv4)", "primary_ip4")
        neighbors.sort(key=lambda n: n.address)
        networks, prefix_lists = self._networks(neighbors)
        redistribute = list(view.ctx.get("bgp.redistribute", ()) or ())
        if view.runs_ospf and any(n.kind == "campus" for n in neighbors):
            redistribute += [r for r in ("connected", "ospf") if r not in redistribute]
        ospf_process = None
        if "ospf" in redistribute:
            if not view.runs_ospf:
                raise view.err("redistributes OSPF into BGP but runs no OSPF", "config_context.bgp.redistribute")
            ospf_process = view.ctx.integer("ospf.process_id", 1) or 1
        evpn_peers = tuple(n.address for n in neighbors if "evpn" in n.address_families)
        if evpn_peers and not view.p.capabilities.evpn:
            raise view.err(f"platform {view.p.slug} cannot do EVPN", "config_context.evpn.enabled")
        return Bgp(
            asn=asn, router_id=view.router_id, neighbors=tuple(neighbors),
            ipv4=BgpIpv4(networks=tuple(sorted(networks)),
                         redistribute=tuple(redistribute), ospf_process_id=ospf_process,
                         neighbors=tuple(n.address for n in neighbors),
                         default_originate=tuple(n.address for n in neighbors if n.default_originate)),
            evpn=BgpEvpn(neighbors=evpn_peers, advertise_all_vni=self.has_vnis, retain_all=not self.has_vnis)
            if evpn_peers else None,
            timers=timers, prefix_lists=tuple(prefix_lists))

    def _neighbor(self, asn: int, link: Link, interface: str | None) -> BgpNeighbor | None:
        """The eBGP session over one routed link: a provider's circuit, or a campus/fabric peer with
        another ASN; None when the link runs no BGP."""
        view, local = self.view, link.local
        if link.circuit is not None and link.peer_device is None:
            provider = view.idx.providers.get(link.circuit.provider)
            if provider is None or not provider.asns:
                raise IntentError("provider has no ASN: cannot peer eBGP over its circuit",
                                  device=view.name, field=f"circuit {link.circuit.key}: provider.asns")
            if link.peer_ip is None:
                raise view.err(f"circuit interface {local.name} needs a /31 or /30 to find the provider's "
                               "address", f"{local.name}.ip_addresses")
            return BgpNeighbor(
                address=link.peer_ip, remote_as=provider.asns[0], kind="provider",
                description=f"{provider.name} {link.circuit.cid}", interface=interface,
                address_families=("ipv4",), prefix_list_out=PROVIDER_OUT_PREFIX_LIST,
                advertisement_interval=self.advint, connect_timer=self.connect)
        if link.peer_device is None:
            return None
        peer_asn = view.asn_of(link.peer_device)
        if peer_asn is None or peer_asn == asn:
            return None
        if link.peer_ip is None:
            raise view.err(f"eBGP link {local.name} to {link.peer_device}: the peer interface has no address "
                           f"in {link.local_ip.network}", f"{local.name}.ip_addresses")
        both_evpn = view.evpn_on and view.evpn_of(link.peer_device)
        afs: tuple[Literal["ipv4", "evpn"], ...] = ("ipv4", "evpn") if both_evpn else ("ipv4",)
        return BgpNeighbor(
            address=link.peer_ip, remote_as=peer_asn, kind="fabric" if both_evpn else "campus",
            description=link.peer_device, interface=interface, address_families=afs,
            # the OSPF/BGP boundary (a core) gives the BGP side its way out
            default_originate=view.runs_ospf and not both_evpn,
            next_hop_unchanged=both_evpn and not self.has_vnis,
            advertisement_interval=self.advint, connect_timer=self.connect)

    def _networks(self, neighbors: list[BgpNeighbor]) -> tuple[set[IPv4Network], list[PrefixList]]:
        """What this device announces, and the prefix list towards providers."""
        view = self.view
        networks: set[IPv4Network] = set(view.ctx.networks("bgp.networks"))
        for x in self.interfaces:
            if isinstance(x, LoopbackInterface):
                networks.update(IPv4Network(f"{a.ip}/32") for a in (x.ipv4, *x.secondary))
            elif isinstance(x, SviInterface) and x.ipv4 is not None and not view.runs_ospf:
                networks.add(x.ipv4.network)  # gateways in the fabric (border leaves)
        if view.dev.role == POOL_DEVICE_ROLE:
            for pool in view.idx.pools_by_site.get(view.dev.site, ()):
                networks.add(pool)
                self.static_routes.append(StaticRoute(prefix=pool, description="address pool"))
        prefix_lists: list[PrefixList] = []
        if any(n.kind == "provider" for n in neighbors):
            public = sorted(set(view.idx.public))
            for net in public:
                networks.add(net)
                self.static_routes.append(StaticRoute(prefix=net, description="campus public block"))
            prefix_lists.append(PrefixList(name=PROVIDER_OUT_PREFIX_LIST, entries=tuple(
                PrefixListEntry(seq=10 * (n + 1), action="permit", prefix=net) for n, net in enumerate(public))))
            # nothing but the public blocks to providers: not even the loopback
            networks = {n for n in networks if not n.subnet_of(IPv4Network("10.0.0.0/8"))} | set(public)
        return networks, prefix_lists


def vnis_by_vid(view: DeviceView, table: VlanTable) -> dict[int, L2VPN]:
    """The VXLAN-EVPN L2VPNs terminated on VLANs this device carries (only when EVPN is enabled)."""
    if not view.evpn_on:
        return {}
    return {vid: view.idx.l2vpn_by_vlan[obj.key] for vid, obj in table.objs.items()
            if obj is not None and obj.key in view.idx.l2vpn_by_vlan}


def build_evpn(view: DeviceView, interfaces: tuple[Interface, ...], vnis: dict[int, L2VPN],
               lo: LoopbackInterface | None) -> Evpn | None:
    """The VTEP: one VNI per carried L2VPN, sourced from loopback ``lo``."""
    if not (view.evpn_on and vnis):
        return None
    if not view.p.capabilities.evpn:
        raise view.err(f"platform {view.p.slug} cannot do EVPN/VXLAN", "config_context.evpn.enabled")
    if lo is None:
        raise view.err("missing: a VTEP needs a loopback address", "interfaces.loopback")
    svi_gw = {x.vlan_id: x.ipv4 for x in interfaces if isinstance(x, SviInterface)}
    return Evpn(vtep_source=lo.ipv4.ip, source_interface=lo.name, vnis=tuple(
        Vni(vni=l2.identifier or 0, vlan_id=vid, name=l2.name, bridge_domain=vid,
            rd=f"{lo.ipv4.ip}:{vid}", route_target=f"{l2.identifier}:1", gateway=svi_gw.get(vid))
        for vid, l2 in sorted(vnis.items())))

