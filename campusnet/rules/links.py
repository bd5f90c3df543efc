"""Both ends of every link agree: VLANs, mode, MTU, addressing, admin state."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from campusnet.rules.registry import Violation, rule
from campusnet.rules.util import lag_of, links, logical, vid_of
from campusnet.sot.models import Interface, Snapshot

L2_MODES = ("access", "tagged", "tagged-all", "q-in-q")


def _link(a: Interface, b: Interface) -> str:
    return f"{a.key} <-> {b.key}"


@rule("trunk-vlans-consistent", "links")
def trunk_vlans_consistent(snap: Snapshot) -> Iterator[Violation]:
    """Both ends of every switched link have the same 802.1Q mode, untagged VLAN and tagged VLAN set.

    For LAG members the LAG's settings count (VLANs live on the LAG). A VLAN allowed on one end only
    is silently dropped on the wire; a mode mismatch (access vs trunk) breaks the link. A host NIC
    without an 802.1Q mode facing an access port is the normal edge and passes (it sends untagged
    frames, the access port tags them); facing a trunk it does not."""
    done: set[tuple[str, str]] = set()
    for a, b in links(snap):
        la, lb = logical(snap, a), logical(snap, b)
        if la.mode is None and lb.mode is None:
            continue
        pair = (la.key, lb.key) if la.key < lb.key else (lb.key, la.key)
        if pair in done:
            continue
        done.add(pair)
        where = _link(la, lb)
        if {la.mode, lb.mode} == {None, "access"}:
            continue  # a host (or routed) NIC on an access port
        if la.mode != lb.mode:
            yield Violation(rule="trunk-vlans-consistent", object_type="dcim.interface", object_name=where,
                            field="mode", message=f"mode {la.mode} on {la.key} but {lb.mode} on {lb.key}")
            continue
        if la.untagged_vid != lb.untagged_vid:
            yield Violation(rule="trunk-vlans-consistent", object_type="dcim.interface", object_name=where,
                            field="untagged_vlan",
                            message=f"untagged VLAN {la.untagged_vid} on {la.key} but {lb.untagged_vid} on {lb.key}")
        if la.mode == "tagged" and set(la.tagged_vids) != set(lb.tagged_vids):
            only_a = sorted(set(la.tagged_vids) - set(lb.tagged_vids))
            only_b = sorted(set(lb.tagged_vids) - set(la.tagged_vids))
            parts = []
            if only_a:
                parts.append(f"only on {la.key}: {only_a}")
            if only_b:
                parts.append(f"only on {lb.key}: {only_b}")
            yield Violation(rule="trunk-vlans-consistent", object_type="dcim.interface", object_name=where,
                            field="tagged_vlans", message="tagged VLANs differ; " + "; ".join(parts))


@rule("mtu-consistent", "links")
def mtu_consistent(snap: Snapshot) -> Iterator[Violation]:
    """Both ends of every link have the same MTU (and a LAG member the same MTU as its LAG).

    An MTU mismatch passes pings and breaks large packets (OSPF adjacencies stuck in ExStart, VXLAN
    frames dropped). An MTU set on one end only counts as a mismatch: the other end falls back to the
    platform default."""
    for a, b in links(snap):
        if a.mtu != b.mtu:
            yield Violation(rule="mtu-consistent", object_type="dcim.interface", object_name=_link(a, b),
                            field="mtu", message=f"MTU {a.mtu or 'unset'} on {a.key} but {b.mtu or 'unset'} on {b.key}")
    for i in snap.interfaces:
        lag = lag_of(snap, i)
        if lag is not None and lag.mtu is not None and i.mtu is not None and lag.mtu != i.mtu:
            yield Violation(rule="mtu-consistent", object_type="dcim.interface", object_name=i.key, field="mtu",
                            message=f"member MTU {i.mtu} differs from its LAG {lag.key} MTU {lag.mtu}")


def _v4(i: Interface) -> list[ipaddress.IPv4Interface]:
    out = []
    for a in i.ip_addresses:
        ip = ipaddress.ip_interface(a)
        if isinstance(ip, ipaddress.IPv4Interface):
            out.append(ip)
    return out


@rule("routed-link-subnet", "links")
def routed_link_subnet(snap: Snapshot) -> Iterator[Violation]:
    """Both ends of every routed link carry addresses of one subnet (a /31 or /30), different hosts.

    docs/design.md: a routed link is a cable between two interfaces with IPs of one /31; OSPF/eBGP
    sessions are derived from it. An address on one end only, or ends in different subnets, means the
    session the data implies can never come up."""
    for a, b in links(snap):
        la, lb = logical(snap, a), logical(snap, b)
        ia, ib = _v4(la), _v4(lb)
        if not ia and not ib:
            continue
        where = _link(la, lb)
        if not ia or not ib:
            has, lacks = (la, lb) if ia else (lb, la)
            if lacks.mode is None and not lacks.mgmt_only and not has.mgmt_only:
                yield Violation(rule="routed-link-subnet", object_type="dcim.interface", object_name=where,
                                field="ip_addresses",
                                message=f"{has.key} has an address, {lacks.key} has none")
            continue
        same = [(x, y) for x in ia for y in ib if x.network == y.network]
        if not same:
            yield Violation(rule="routed-link-subnet", object_type="dcim.interface", object_name=where,
                            field="ip_addresses",
                            message=f"no common subnet: {la.key} {[str(x) for x in ia]}, "
                                    f"{lb.key} {[str(y) for y in ib]}")
        elif any(x.ip == y.ip for x, y in same):
            yield Violation(rule="routed-link-subnet", object_type="dcim.interface", object_name=where,
                            field="ip_addresses", message="both ends carry the same address")
        elif any(x.network.prefixlen < 30 for x, _ in same) and not la.fhrp and not lb.fhrp:
            yield Violation(rule="routed-link-subnet", object_type="dcim.interface", object_name=where,
                            field="ip_addresses",
                            message=f"point-to-point link in a /{same[0][0].network.prefixlen}: use a /31")


@rule("cabled-interfaces-enabled", "links")
def cabled_interfaces_enabled(snap: Snapshot) -> Iterator[Violation]:
    """Both ends of every connected cable are enabled (or both disabled, on purpose, with the cable planned).

    The lab and verification expect every cabled link up on both ends; an interface disabled in NetBox
    on a connected cable is either stale data or an outage nobody recorded."""
    for a, b in links(snap):
        cable = snap.cable(a.cable) if a.cable is not None else None
        if cable is not None and cable.status != "connected":
            continue
        for i in (a, b):
            if not i.enabled:
                yield Violation(rule="cabled-interfaces-enabled", object_type="dcim.interface", object_name=i.key,
                                field="enabled", message=f"disabled, but cabled to {(b if i is a else a).key}")


@rule("lag-mtu-consistent", "links")
def lag_mtu_consistent(snap: Snapshot) -> Iterator[Violation]:
    """Both ends of every LAG link have the same LAG-level MTU, and no member sets an MTU its LAG lacks.

    The MTU of a bundle is configured on the LAG (Eth-Trunk, Bridge-Aggregation, bond); the members
    inherit it. ``mtu-consistent`` compares the members, which are usually left unset: two unset members
    under LAGs of 9000 and 1500 pass it, and jumbo frames die on the bundle. A member MTU under a LAG
    without one is ignored or refused by the platform."""
    done: set[tuple[str, str]] = set()
    for a, b in links(snap):
        la, lb = logical(snap, a), logical(snap, b)
        if la is a and lb is b:
            continue  # no LAG on either end
        pair = (la.key, lb.key) if la.key < lb.key else (lb.key, la.key)
        if pair in done:
            continue
        done.add(pair)
        if la.mtu != lb.mtu:
            yield Violation(rule="lag-mtu-consistent", object_type="dcim.interface", object_name=_link(la, lb),
                            field="mtu", message=f"LAG-level MTU {la.mtu or 'unset'} on {la.key} but "
                                                 f"{lb.mtu or 'unset'} on {lb.key}")
    for i in snap.interfaces:
        lag = lag_of(snap, i)
        if lag is not None and lag.mtu is None and i.mtu is not None:
            yield Violation(rule="lag-mtu-consistent", object_type="dcim.interface", object_name=i.key, field="mtu",
                            message=f"member MTU {i.mtu} but its LAG {lag.key} has no MTU (set it on the LAG)")


def _by_vid(snap: Snapshot, keys: tuple[str, ...]) -> dict[int, str]:
    out: dict[int, str] = {}
    for k in keys:
        vid = vid_of(snap, k)
        if vid is not None:
            out[vid] = k
    return out


@rule("trunk-vlan-identity", "links")
def trunk_vlan_identity(snap: Snapshot) -> Iterator[Violation]:
    """Both ends of every switched link carry the same VLAN objects, not only the same VLAN numbers.

    ``trunk-vlans-consistent`` compares VIDs. VLAN 110 of Jinpenling and VLAN 110 of Yuntang (or a global
    VLAN 110) are different networks with different prefixes, gateways and owners that happen to share a
    number: a trunk carrying one at each end joins two broadcast domains. The VLAN's identity is its key
    (VLAN group, else site, else global, and VID); VLANs of one VLAN group are one VLAN per VID."""
    done: set[tuple[str, str]] = set()
    for a, b in links(snap):
        la, lb = logical(snap, a), logical(snap, b)
        if la.mode is None or lb.mode is None:
            continue
        pair = (la.key, lb.key) if la.key < lb.key else (lb.key, la.key)
        if pair in done:
            continue
        done.add(pair)
        where = _link(la, lb)
        if (la.untagged_vid is not None and la.untagged_vid == lb.untagged_vid and la.untagged_vlan
                and lb.untagged_vlan and la.untagged_vlan != lb.untagged_vlan):
            yield Violation(rule="trunk-vlan-identity", object_type="dcim.interface", object_name=where,
                            field="untagged_vlan",
                            message=f"VID {la.untagged_vid} is VLAN {la.untagged_vlan} on {la.key} but "
                                    f"{lb.untagged_vlan} on {lb.key}")
        va, vb = _by_vid(snap, la.tagged_vlans), _by_vid(snap, lb.tagged_vlans)
        differ = sorted(vid for vid in set(va) & set(vb) if va[vid] != vb[vid])
        if differ:
            yield Violation(rule="trunk-vlan-identity", object_type="dcim.interface", object_name=where,
                            field="tagged_vlans",
                            message="same VID, different VLAN: " + "; ".join(
                                f"{va[v]} on {la.key} vs {vb[v]} on {lb.key}" for v in differ))


@rule("no-self-cable", "links")
def no_self_cable(snap: Snapshot) -> Iterator[Violation]:
    """No interface is cabled to itself, and no cable joins two interfaces of one device.

    A cable (or a cable path through patch panels) from a port back to the same port is a data-entry
    slip that makes the port look connected; one between two ports of one device is a loop the design
    never has (a virtual chassis's members are separate devices, and their links pass). Both give the
    lab a veth pair inside one node and the link rules a peer that is itself."""
    reported: set[str] = set()
    for c in snap.cables:
        a_ifs = [e for e in c.a_terminations if e.kind == "interface" and e.device]
        b_ifs = [e for e in c.b_terminations if e.kind == "interface" and e.device]
        same = sorted({e.key for e in a_ifs} & {e.key for e in b_ifs})
        for key in same:
            reported.add(key)
            yield Violation(rule="no-self-cable", object_type="dcim.interface", object_name=key, field="cable",
                            message=f"cable {c.id} connects this interface to itself")
        if same or not a_ifs or not b_ifs:
            continue
        devices = {e.device for e in (*a_ifs, *b_ifs)}
        if len(devices) == 1:
            ends = f"{' + '.join(sorted(e.key for e in a_ifs))} <-> {' + '.join(sorted(e.key for e in b_ifs))}"
            reported.update(e.key for e in (*a_ifs, *b_ifs))
            yield Violation(rule="no-self-cable", object_type="dcim.interface", object_name=ends, field="cable",
                            message=f"cable {c.id} joins two interfaces of device {devices.pop()}")
    for i in snap.interfaces:  # through patch panels: the path's far end is the interface itself
        if i.key in reported:
            continue
        ep = i.peer
        if ep is not None and ep.kind == "interface" and ep.device == i.device:
            reported.update((i.key, ep.key))
            what = "itself" if ep.key == i.key else f"{ep.key}, an interface of the same device"
            yield Violation(rule="no-self-cable", object_type="dcim.interface", object_name=i.key, field="cable",
                            message=f"the cable path leads back to {what}")
