"""Overlay and routing identities: VNIs, ASNs, circuits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from campusnet.rules.registry import Violation, rule
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


@rule("bgp-asn-defined", "overlay")
def bgp_asn_defined(snap: Snapshot) -> Iterator[Violation]:
    """Every device ``bgp_asn`` is an ASN object in NetBox IPAM, and every provider with circuits has an ASN.

    eBGP sessions are derived from device ASNs and provider ASNs (docs/design.md); an ASN missing from
    IPAM has no owner (RIR/tenant) and a provider without one yields no eBGP session."""
    known = {a.asn for a in snap.asns}
    for d in snap.devices:
        if d.bgp_asn is not None and snap.asns and d.bgp_asn not in known:
            yield Violation(rule="bgp-asn-defined", object_type="dcim.device", object_name=d.name,
                            field="custom_fields.bgp_asn", message=f"AS{d.bgp_asn} is not an ASN in IPAM")
    with_circuits = {c.provider for c in snap.circuits}
    for p in snap.providers:
        if p.key in with_circuits and not p.asns:
            yield Violation(rule="bgp-asn-defined", object_type="circuits.provider", object_name=p.key, field="asns",
                            message="provider with circuits has no ASN")


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
