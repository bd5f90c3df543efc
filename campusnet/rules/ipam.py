"""Addressing: unique per VRF, inside a prefix, gateways (FHRP) coherent."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator

from campusnet.rules.registry import Violation, rule
from campusnet.sot.models import IPAddress, Prefix, Snapshot, vrf_key

# roles whose address is shared by design (the same address on several interfaces)
SHARED_ROLES = frozenset({"anycast", "vip", "vrrp", "hsrp", "glbp", "carp"})


@rule("ip-unique-per-vrf", "ipam")
def ip_unique_per_vrf(snap: Snapshot) -> Iterator[Violation]:
    """No host address appears twice in one VRF (the global table counts as one VRF).

    Duplicates are compared by host address, whatever the mask. Addresses with a shared role
    (anycast, VIP, VRRP/HSRP/CARP) and FHRP virtual addresses are exempt: sharing them is the point."""
    seen: dict[tuple[str | None, ipaddress.IPv4Address | ipaddress.IPv6Address], list[IPAddress]] = defaultdict(list)
    for ip in snap.ip_addresses:
        if ip.role in SHARED_ROLES or ip.fhrp_group is not None:
            continue
        seen[(ip.vrf, ip.ip)].append(ip)
    for (vrf, host), ips in seen.items():
        if len(ips) < 2:
            continue
        where = ", ".join(f"{x.device}:{x.interface}" if x.device else f"#{x.id}" for x in ips)
        for ip in ips:
            yield Violation(rule="ip-unique-per-vrf", object_type="ipam.ipaddress", object_name=ip.key,
                            field="address", message=f"{host} appears {len(ips)} times in VRF "
                                                     f"{vrf or 'global'} ({where})")


@rule("ip-in-prefix", "ipam")
def ip_in_prefix(snap: Snapshot) -> Iterator[Violation]:
    """Every IP address lies inside a prefix of its own VRF, with a mask no shorter than that prefix.

    An address outside every prefix was allocated by hand, not from IPAM; one whose mask is wider than
    its prefix (10.0.0.5/16 inside 10.0.0.0/24) will be configured with the wrong subnet. Addresses
    tagged ``provider-test`` (a provider's test address beyond the egress: the provider's space, not the
    campus's address plan) are exempt."""
    by_vrf: dict[str | None, list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = defaultdict(list)
    for p in snap.prefixes:
        by_vrf[p.vrf].append(p.network)
    for ip in snap.ip_addresses:
        if "provider-test" in ip.tags:
            continue
        iface = ip.iface
        containing = [n for n in by_vrf.get(ip.vrf, ()) if n.version == iface.version and iface.ip in n]
        if not containing:
            yield Violation(rule="ip-in-prefix", object_type="ipam.ipaddress", object_name=ip.key, field="address",
                            message=f"not inside any prefix of VRF {ip.vrf or 'global'}")
            continue
        best = max(containing, key=lambda n: n.prefixlen)
        if iface.network.prefixlen < best.prefixlen:
            yield Violation(rule="ip-in-prefix", object_type="ipam.ipaddress", object_name=ip.key, field="address",
                            message=f"mask /{iface.network.prefixlen} is wider than its prefix {best}")


@rule("fhrp-consistent", "ipam")
def fhrp_consistent(snap: Snapshot) -> Iterator[Violation]:
    """Every FHRP group has a virtual IP, at least two member interfaces with distinct priorities, and the
    VIP lies in the subnet of each member's own address.

    A gateway shared by the two chassis of a cluster or two routers is only redundant when both carry
    the group, know their subnet and agree on who is master."""
    members: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for i in snap.interfaces:
        for a in i.fhrp:
            members[a.group].append((i.key, a.priority))
    for g in snap.fhrp_groups:
        name = g.name or f"{g.protocol} {g.group_id} (#{g.id})"
        if not g.vips:
            yield Violation(rule="fhrp-consistent", object_type="ipam.fhrpgroup", object_name=name,
                            field="ip_addresses", message="no virtual IP")
        m = members.get(g.id, [])
        if len(m) < 2:
            yield Violation(rule="fhrp-consistent", object_type="ipam.fhrpgroup", object_name=name, field="assignments",
                            message=f"{len(m)} member interface(s); a redundant gateway needs two")
        prios = [p for _, p in m]
        if len(set(prios)) < len(prios):
            yield Violation(rule="fhrp-consistent", object_type="ipam.fhrpgroup", object_name=name, field="priority",
                            message=f"equal priorities {sorted(prios)} on {', '.join(k for k, _ in m)}")
        for key, _ in m:
            iface = snap.find_interface(key)
            if iface is None:
                continue
            own = [ipaddress.ip_interface(a) for a in iface.ip_addresses]
            for vip in g.vips:
                v = ipaddress.ip_interface(vip)
                if not any(o.version == v.version and v.ip in o.network for o in own):
                    yield Violation(rule="fhrp-consistent", object_type="dcim.interface", object_name=key,
                                    field="ip_addresses",
                                    message=f"VIP {v.ip} of {name} is not in a subnet of this interface "
                                            f"({', '.join(map(str, own)) or 'no address'})")


def _in_use_subnets(snap: Snapshot) -> set[tuple[str | None, ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    """(VRF, network) of every subnet configured on an interface: an interface address's own network."""
    return {(ip.vrf, ip.iface.network) for ip in snap.ip_addresses if ip.interface and ip.fhrp_group is None}


@rule("prefix-no-overlap", "ipam")
def prefix_no_overlap(snap: Snapshot) -> Iterator[Violation]:
    """No prefix appears twice in one VRF, and no prefix lies inside another prefix of that VRF that is a
    subnet in use (the global table counts as one VRF).

    NetBox builds a hierarchy: a parent that groups children is not an overlap. A parent is a grouping one
    when its status is ``container`` (the campus's per-site /16s) or when it is neither bound to a VLAN,
    nor a pool, nor the network of an interface address (an aggregate such as the scale design's p2p /16).
    A prefix inside a subnet in use (a /25 inside a VLAN's /24, a block inside the VPN pool) is a second
    owner for the same addresses: one of the two gateways or pools hands out addresses of the other. An
    exact duplicate is always an error, containers included."""
    in_use = _in_use_subnets(snap)
    by_net: dict[tuple[str | None, ipaddress.IPv4Network | ipaddress.IPv6Network], list[int]] = defaultdict(list)
    by_vrf: dict[tuple[str | None, int], list[Prefix]] = defaultdict(list)
    for p in snap.prefixes:
        by_net[(p.vrf, p.network)].append(p.id)
        by_vrf[(p.vrf, p.network.version)].append(p)
    for (vrf, net), ids in by_net.items():
        if len(ids) > 1:
            yield Violation(rule="prefix-no-overlap", object_type="ipam.prefix", object_name=vrf_key(vrf, str(net)),
                            field="prefix", message=f"{net} appears {len(ids)} times in VRF {vrf or 'global'} "
                                                    f"(ids {', '.join(map(str, sorted(ids)))})")

    def subnet_in_use(p: Prefix) -> bool:
        return p.status != "container" and (p.vlan is not None or p.is_pool or (p.vrf, p.network) in in_use)

    for prefixes in by_vrf.values():
        stack: list[Prefix] = []
        for p in sorted(prefixes, key=lambda x: (x.network.network_address, x.network.prefixlen, x.id)):
            net = p.network
            while stack and not (net.subnet_of(stack[-1].network) and net != stack[-1].network):  # type: ignore[arg-type]
                stack.pop()
            for outer in stack:
                if subnet_in_use(outer):
                    why = ("bound to VLAN " + str(outer.vlan) if outer.vlan else "a pool" if outer.is_pool
                           else "the subnet of an interface address")
                    yield Violation(rule="prefix-no-overlap", object_type="ipam.prefix", object_name=p.key,
                                    field="prefix", message=f"overlaps {outer.key} ({outer.status}, {why}); only a "
                                                            "container may hold other prefixes")
            stack.append(p)


@rule("prefix-role-set", "ipam")
def prefix_role_set(snap: Snapshot) -> Iterator[Violation]:
    """Every prefix the automation selects by role has one: containers, pools and prefixes bound to a VLAN
    (deprecated ones excepted).

    The intent picks prefixes by role, never by number: the VPN gateway serves the pool of role
    ``vpn-pool`` at its site, VPN clients are offered the networks of the roles in ``vpn.route_roles``
    (``server``, ``users``: the campus gives them to the per-site containers), the egress announces role
    ``public``. A container without a role drops its whole block out of the VPN routes, a pool without one
    is served by no gateway, and a VLAN's subnet without one is a network of unknown kind (teaching,
    staff, dormitory, campus card, wireless, server) that the reports and the route roles cannot place.
    Point-to-point and loopback blocks bound to nothing are not selected by role and pass."""
    for p in snap.prefixes:
        if p.role or p.status == "deprecated":
            continue
        why = ("a container" if p.status == "container" else "a pool (the VPN gateway looks for role vpn-pool)"
               if p.is_pool else f"bound to VLAN {p.vlan}" if p.vlan else None)
        if why is not None:
            yield Violation(rule="prefix-role-set", object_type="ipam.prefix", object_name=p.key, field="role",
                            message=f"{p.status} prefix without a role, but {why}")
