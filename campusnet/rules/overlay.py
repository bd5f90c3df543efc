"""Overlay and routing identities: VNIs, ASNs, circuits."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator

from campusnet.rules.registry import Violation, rule
from campusnet.rules.roles import would_configure
from campusnet.rules.util import links, logical, logical_device, vid_of
from campusnet.sot.models import Snapshot


@rule("vni-unique", "overlay")
def vni_unique(snap: Snapshot) -> Iterator[Violation]:
    """Every VXLAN L2VPN has an identifier (the VNI), no two share one, and no VLAN maps to two VNIs.

    A VNI is the network's name on the EVPN fabric: two segments with one VNI are silently bridged,
    a VLAN with two VNIs is split."""
    by_vni: dict[int, list[str]] = defaultdict(list)
    by_vlan: dict[str, list[str]] = defaultdict(list)
    for l2 in snap.l2vpns:
        if not l2.type.startswith("vxlan"):
            continue
        if l2.identifier is None:
            yield Violation(rule="vni-unique", object_type="vpn.l2vpn", object_name=l2.key, field="identifier",
                            message="VXLAN L2VPN without a VNI")
            continue
        by_vni[l2.identifier].append(l2.key)
        for t in l2.terminations:
            if t.kind == "vlan" and t.vlan:
                by_vlan[t.vlan].append(l2.key)
    for vni, names in by_vni.items():
        if len(names) > 1:
            for n in names:
                yield Violation(rule="vni-unique", object_type="vpn.l2vpn", object_name=n, field="identifier",
                                message=f"VNI {vni} also used by {', '.join(x for x in names if x != n)}")
    for vlan, names in by_vlan.items():
        if len(names) > 1:
            yield Violation(rule="vni-unique", object_type="ipam.vlan", object_name=vlan, field="l2vpn_termination",
                            message=f"VLAN mapped to several VNIs: {', '.join(sorted(names))}")


@rule("circuit-terminated", "overlay")
def circuit_terminated(snap: Snapshot) -> Iterator[Violation]:
    """Every active circuit has an A end, and every end at a campus site is cabled (directly or through
    patch panels) to a device interface.

    Provider eBGP sessions and the inter-campus OSPF links come from the interface behind a circuit
    termination; an uncabled end yields no config. A Z end is optional (an Internet circuit's far end
    is the provider's network, which the campus need not model)."""
    for c in snap.circuits:
        if c.status != "active":
            continue
        if c.termination_a is None:
            yield Violation(rule="circuit-terminated", object_type="circuits.circuit", object_name=c.key,
                            field="termination_a", message="no A termination")
        for t in c.terminations:
            if t.site is not None and t.interface is None:
                yield Violation(rule="circuit-terminated", object_type="circuits.circuit", object_name=c.key,
                                field=f"termination_{t.term_side.lower()}",
                                message=f"{t.term_side} end at site {t.site} is not cabled to a device interface")


def _v4(addresses: tuple[str, ...]) -> list[ipaddress.IPv4Interface]:
    out = []
    for a in addresses:
        ip = ipaddress.ip_interface(a)
        if isinstance(ip, ipaddress.IPv4Interface):
            out.append(ip)
    return out


OSPF_TAG = "ospf"  # as the intent builder: OSPF on a routed link when both ends carry this tag


def bgp_links(snap: Snapshot) -> Iterator[tuple[str, str, str]]:
    """The routed links on which the design wants eBGP, as (link name, device a, device b).

    A routed link: a cable path between interfaces of two configured network devices whose (logical)
    interfaces hold IPv4 addresses of one subnet; not OSPF (tag ``ospf`` on both ends). A virtual chassis
    is one device (its master); links inside one chassis are not routed links."""
    done: set[tuple[str, str]] = set()
    for a, b in links(snap):
        la, lb = logical(snap, a), logical(snap, b)
        pair = (la.key, lb.key) if la.key < lb.key else (lb.key, la.key)
        if pair in done:
            continue
        done.add(pair)
        da, db = logical_device(snap, la.device), logical_device(snap, lb.device)
        if da == db or not snap.has_device(da) or not snap.has_device(db):
            continue
        if not (would_configure(snap.device(da)) and would_configure(snap.device(db))):
            continue
        ia, ib = _v4(la.ip_addresses), _v4(lb.ip_addresses)
        if not any(x.network == y.network for x in ia for y in ib):
            continue
        if OSPF_TAG in la.tags and OSPF_TAG in lb.tags:
            continue
        name = f"{pair[0]} <-> {pair[1]}"
        yield (name, da, db) if la.key == pair[0] else (name, db, da)


def _evpn(snap: Snapshot, name: str) -> bool:
    ev = snap.device(name).config_context.get("evpn")
    return isinstance(ev, dict) and ev.get("enabled") is True


@rule("ebgp-asn-distinct", "overlay")
def ebgp_asn_distinct(snap: Snapshot) -> Iterator[Violation]:
    """Both ends of every routed link that is not OSPF carry an ASN, and different ones.

    The intent builder (docs/intent.md) derives an eBGP session for every routed link (both ends hold
    IPv4 addresses of one subnet) that is not OSPF (tag ``ospf`` on both ends) when both devices have a
    ``bgp_asn`` and they differ; otherwise it derives nothing, silently. With the same ASN on both ends (a
    leaf given its spine's ASN) or an ASN missing on one end (its ``bgp_asn`` emptied, or the ASN object
    deleted: NetBox then clears the custom field) the link runs no routing protocol: the underlay loses
    the link and EVPN its path. The design has no iBGP, so equal ASNs on a link are always a data error.
    A virtual chassis counts as one device (its master's ASN)."""
    for name, da, db in bgp_links(snap):
        asn_a, asn_b = snap.device(da).bgp_asn, snap.device(db).bgp_asn
        if asn_a is not None and asn_a == asn_b:
            yield Violation(rule="ebgp-asn-distinct", object_type="dcim.interface", object_name=name,
                            field="custom_fields.bgp_asn",
                            message=f"both ends are AS{asn_a} ({da}, {db}): the eBGP session this routed link "
                                    "implies is never built")
        elif asn_a is None or asn_b is None:
            lacking = [d for d, asn in ((da, asn_a), (db, asn_b)) if asn is None]
            yield Violation(rule="ebgp-asn-distinct", object_type="dcim.interface", object_name=name,
                            field="custom_fields.bgp_asn",
                            message=f"routed link without OSPF (tag {OSPF_TAG} on both ends) and {lacking} has no "
                                    "bgp_asn: it runs no routing protocol")


@rule("bgp-asn-defined", "overlay")
def bgp_asn_defined(snap: Snapshot) -> Iterator[Violation]:
    """Every device ``bgp_asn`` is an ASN object in NetBox IPAM, and every provider with circuits has an ASN.

    eBGP sessions are derived from device ASNs and provider ASNs (docs/design.md); an ASN missing from
    IPAM has no owner (RIR/tenant) and a provider without one yields no eBGP session. A NetBox with no ASN
    objects at all does not switch the rule off: every device with a ``bgp_asn`` is then reported, and so is
    every device that needs an ASN (an end of a routed link without OSPF, or EVPN enabled in its config
    context) when there is none to give it (with ``bgp_asn`` an object custom field, deleting the ASN
    objects empties it on every device: BGP would silently disappear from the whole fabric)."""
    known = {a.asn for a in snap.asns}
    empty = "" if snap.asns else " (NetBox holds no ASN objects at all)"
    for d in snap.devices:
        if d.bgp_asn is not None and d.bgp_asn not in known:
            yield Violation(rule="bgp-asn-defined", object_type="dcim.device", object_name=d.name,
                            field="custom_fields.bgp_asn", message=f"AS{d.bgp_asn} is not an ASN in IPAM{empty}")
    if not snap.asns:
        need: dict[str, str] = {}
        for link, da, db in bgp_links(snap):
            for end in (da, db):
                need.setdefault(end, f"eBGP on {link}")
        for dev in snap.devices:
            if would_configure(dev) and _evpn(snap, dev.name):
                need.setdefault(dev.name, "EVPN (config_context.evpn.enabled)")
        for name, why in sorted(need.items()):
            if snap.device(name).bgp_asn is None:
                yield Violation(rule="bgp-asn-defined", object_type="dcim.device", object_name=name,
                                field="custom_fields.bgp_asn",
                                message=f"needs an ASN for {why}, but NetBox holds no ASN objects at all")
    with_circuits = {c.provider for c in snap.circuits}
    for p in snap.providers:
        if p.key in with_circuits and not p.asns:
            yield Violation(rule="bgp-asn-defined", object_type="circuits.provider", object_name=p.key, field="asns",
                            message="provider with circuits has no ASN")


@rule("l2vpn-one-vlan", "overlay")
def l2vpn_one_vlan(snap: Snapshot) -> Iterator[Violation]:
    """Every L2VPN is terminated on VLANs of one VID only.

    The builder maps a VNI to the VLAN it is terminated on, per device. One L2VPN on VLAN 2010 at one
    place and VLAN 2020 at another makes the VNI mean two different VLAN IDs: a leaf carrying both maps
    the VNI twice, and traffic of one segment leaks into the other. (The same VID in several sites or
    groups is a stretched segment and passes.)"""
    for l2 in snap.l2vpns:
        vids: dict[int, list[str]] = defaultdict(list)
        for t in l2.terminations:
            if t.kind != "vlan" or not t.vlan:
                continue
            vid = t.vid if t.vid is not None else vid_of(snap, t.vlan)
            if vid is not None:
                vids[vid].append(t.vlan)
        if len(vids) > 1:
            where = "; ".join(f"VID {vid}: {', '.join(sorted(keys))}" for vid, keys in sorted(vids.items()))
            yield Violation(rule="l2vpn-one-vlan", object_type="vpn.l2vpn", object_name=l2.key,
                            field="terminations", message=f"terminated on VLANs of {len(vids)} VIDs ({where})")
