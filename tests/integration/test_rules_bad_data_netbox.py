"""The bad-data rules against the real NetBox: the reference campus, broken inside a **NetBox branch**.

The session's NetBox holds the seeded campus in main. A branch is made from it, each new rule's bad data is
written there through REST (main is never touched; the branch is deleted at the end), the branch is read
back with the reader, and each rule must name the object it is about. Where NetBox itself refuses the bad
data (a cable from an interface to itself), the test proves the refusal and the rule guards data that
arrives around the API (as tests/integration/test_reader_netbox.py does for rack units).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from test_reader_netbox import NB

from campusnet.branching import create_branch, delete_branch, get_branch
from campusnet.rules import run_rules
from campusnet.settings import NetBoxTarget
from campusnet.sot.models import Endpoint, Snapshot
from campusnet.sot.reader import read_snapshot

pytestmark = pytest.mark.integration

IF = "dcim.interface"


class Campus:
    """The branch, a REST writer in it, and the ids of campus objects by natural key."""

    def __init__(self, target: NetBoxTarget, base: Snapshot):
        self.target = target
        self.nb = NB(target)
        self.base = base

    def id(self, path: str, **lookup: Any) -> int:
        found = self.nb.first(path, **lookup)
        assert found is not None, f"{path} {lookup} not in the campus"
        return int(found["id"])

    def device(self, name: str) -> int:
        return self.id("dcim/devices", name=name)

    def iface(self, key: str) -> int:
        device, _, name = key.partition(":")
        return self.id("dcim/interfaces", device=device, name=name)


@pytest.fixture(scope="module")
def campus(netbox: NetBoxTarget) -> Iterator[Campus]:
    name = f"cn-bad-{uuid.uuid4().hex[:6]}"
    b = create_branch(netbox, name, "campusnet bad-data rules test (deleted afterwards)")
    try:
        target = netbox.with_branch(b.schema_id)
        c = Campus(target, read_snapshot(target))
        assert len(c.base.devices) >= 15, "the reference campus is not seeded"
        yield c
        c.nb.c.close()
    finally:
        cur = get_branch(netbox, name)
        if cur:
            delete_branch(netbox, cur)


def free_ports(snap: Snapshot, device: str, n: int) -> list[str]:
    """``n`` uncabled physical interfaces of a device (for cables the tests add)."""
    out = [i.key for i in snap.interfaces_of(device) if i.cable is None and not i.mgmt_only and i.type not in (
        "lag", "virtual") and not i.ip_addresses and i.mode is None and i.lag is None]
    assert len(out) >= n, f"{device} has fewer than {n} free ports"
    return out[:n]


@pytest.fixture(scope="module")
def broken(campus: Campus) -> tuple[Snapshot, dict[str, Any]]:
    """Every corruption at once (they touch different objects), read back once."""
    c, nb, notes = campus, campus.nb, {}
    # overlapping prefixes: a /25 inside a VLAN's /24; a duplicate (where NetBox enforces global
    # uniqueness it refuses it in the global table: a VRF that does not enforce it is the hole)
    nb.post("ipam/prefixes", prefix="10.10.1.128/25", status="active", role=c.id("ipam/roles", slug="teaching"))
    r = nb.c.post("/api/ipam/prefixes/", json={"prefix": "10.10.2.0/24", "status": "active",
                                               "role": c.id("ipam/roles", slug="teaching")})
    if r.status_code == 201:
        notes["dup_prefix"] = "global:10.10.2.0/24"
    else:
        assert r.status_code == 400, r.text
        lax = nb.post("ipam/vrfs", name="bad-lax", enforce_unique=False)
        for _ in range(2):
            nb.post("ipam/prefixes", prefix="10.99.77.0/24", status="active", vrf=lax["id"])
        notes["dup_prefix"] = "bad-lax:10.99.77.0/24"
    # a prefix without a role: the Yuntang users container
    nb.patch("ipam/prefixes", c.id("ipam/prefixes", prefix="10.10.0.0/16"), role=None)
    # eBGP ASN collision: leaf3 given its spines' ASN
    # (bgp_asn is an object custom field pointing at an ASN object)
    nb.patch("dcim/devices", c.device("yt-dc-leaf3"), custom_fields={"bgp_asn": c.id("ipam/asns", asn=65100)})
    # a platform outside the registry, and a network device without a platform
    plat = nb.post("dcim/platforms", name="Cisco IOS (bad)", slug="cisco-ios")
    nb.patch("dcim/devices", c.device("jpl-b03-as1"), platform=plat["id"])
    nb.patch("dcim/devices", c.device("yt-b02-as1"), platform=None)
    # LAG MTU on one end only (the members stay unset)
    nb.patch("dcim/interfaces", c.iface("jpl-core-1:Eth-Trunk1"), mtu=9000)
    # trunk VLAN identity: same VID 401, a different VLAN object (a global VLAN 401) on the core's end
    v401 = nb.post("ipam/vlans", vid=401, name="bad-global-401", status="active")
    trunk = c.base.interface("jpl-core-1:Eth-Trunk1")
    vids = [c.id("ipam/vlans", site="jinpenling", vid=v) for v in trunk.tagged_vids if v != 401]
    nb.patch("dcim/interfaces", c.iface("jpl-b01-as1:Bridge-Aggregation1"), tagged_vlans=[*vids, v401["id"]])
    # one L2VPN terminated on two VIDs: dc-web (VLAN 2010) also on Yuntang's VLAN 101
    nb.post("vpn/l2vpn-terminations", l2vpn=c.id("vpn/l2vpns", slug="dc-web"), assigned_object_type="ipam.vlan",
            assigned_object_id=c.id("ipam/vlans", site="yuntang", vid=101))
    # a cable between two ports of one device
    p1, p2 = free_ports(c.base, "yt-dc-leaf4", 2)
    nb.cable((IF, c.iface(p1)), (IF, c.iface(p2)))
    notes["loop"] = f"{p1} <-> {p2}" if p1 < p2 else f"{p2} <-> {p1}"
    # an interface cabled to itself
    (p3,) = free_ports(c.base, "yt-dc-leaf3", 1)
    r = nb.c.post("/api/dcim/cables/", json={"a_terminations": [{"object_type": IF, "object_id": c.iface(p3)}],
                                             "b_terminations": [{"object_type": IF, "object_id": c.iface(p3)}],
                                             "status": "connected"})
    notes["self_refused"] = r.status_code == 400
    notes["self"] = p3
    notes["before_asn_delete"] = read_snapshot(c.target)
    # no ASN objects at all
    for a in nb.c.get("/api/ipam/asns/", params={"limit": 0}).json()["results"]:
        assert nb.c.delete(f"/api/ipam/asns/{a['id']}/").status_code == 204
    snap = read_snapshot(c.target)
    if notes["self_refused"]:
        # NetBox refuses it through REST: the rule guards data that arrives around the API
        me = (Endpoint(kind="interface", device=p3.partition(":")[0], name=p3.partition(":")[2]),)
        snap = snap.model_copy(update={"interfaces": tuple(
            i.model_copy(update={"connected_endpoints": me, "link_peers": me}) if i.key == p3 else i
            for i in snap.interfaces)})
    return snap, notes


def hits(snap: Snapshot, rule: str) -> set[tuple[str, str, str]]:
    return {(v.object_type, v.object_name, v.field) for v in run_rules(snap, [rule])}


def test_branch_starts_clean(campus: Campus) -> None:
    vs = run_rules(campus.base)
    assert vs == [], "\n".join(f"{v.rule} {v.object_name} {v.field}: {v.message}" for v in vs)


def test_prefix_overlap_and_duplicate(broken: tuple[Snapshot, dict[str, Any]]) -> None:
    snap, notes = broken
    got = hits(snap, "prefix-no-overlap")
    assert ("ipam.prefix", "global:10.10.1.128/25", "prefix") in got
    assert ("ipam.prefix", notes["dup_prefix"], "prefix") in got


def test_prefix_role(broken: tuple[Snapshot, dict[str, Any]]) -> None:
    assert hits(broken[0], "prefix-role-set") == {("ipam.prefix", "global:10.10.0.0/16", "role")}


def test_ebgp_asn_collision(broken: tuple[Snapshot, dict[str, Any]]) -> None:
    assert hits(broken[1]["before_asn_delete"], "ebgp-asn-distinct") == {
        (IF, "yt-dc-leaf3:100GE1/0/1 <-> yt-dc-spine1:100GE1/0/3", "custom_fields.bgp_asn"),
        (IF, "yt-dc-leaf3:100GE1/0/2 <-> yt-dc-spine2:100GE1/0/3", "custom_fields.bgp_asn")}


def test_no_asn_objects_fails(broken: tuple[Snapshot, dict[str, Any]]) -> None:
    """Deleting every ASN object empties the object custom field ``bgp_asn`` on every device (NetBox
    clears references to deleted objects): BGP would disappear from the fabric silently. Both rules fail."""
    snap = broken[0]
    assert snap.asns == () and not any(d.bgp_asn for d in snap.devices)
    got = hits(snap, "bgp-asn-defined")
    assert {("dcim.device", d, "custom_fields.bgp_asn") for d in ("yt-dc-spine1", "yt-dc-leaf3", "yt-core-1")} <= got
    links = hits(snap, "ebgp-asn-distinct")
    assert (IF, "yt-dc-leaf4:100GE1/0/1 <-> yt-dc-spine1:100GE1/0/4", "custom_fields.bgp_asn") in links


def test_platform_supported(broken: tuple[Snapshot, dict[str, Any]]) -> None:
    assert hits(broken[0], "platform-supported") == {("dcim.device", "jpl-b03-as1", "platform"),
                                                      ("dcim.device", "yt-b02-as1", "platform")}


def test_lag_mtu(broken: tuple[Snapshot, dict[str, Any]]) -> None:
    assert hits(broken[0], "lag-mtu-consistent") == {
        (IF, "jpl-b01-as1:Bridge-Aggregation1 <-> jpl-core-1:Eth-Trunk1", "mtu")}


def test_trunk_vlan_identity(broken: tuple[Snapshot, dict[str, Any]]) -> None:
    snap = broken[0]
    assert hits(snap, "trunk-vlan-identity") == {
        (IF, "jpl-b01-as1:Bridge-Aggregation1 <-> jpl-core-1:Eth-Trunk1", "tagged_vlans")}
    assert hits(snap, "trunk-vlans-consistent") == set()  # the VIDs agree: only the identity differs


def test_l2vpn_two_vids(broken: tuple[Snapshot, dict[str, Any]]) -> None:
    assert hits(broken[0], "l2vpn-one-vlan") == {("vpn.l2vpn", "dc-web", "terminations")}


def test_self_cables(broken: tuple[Snapshot, dict[str, Any]]) -> None:
    snap, notes = broken
    got = hits(snap, "no-self-cable")
    assert (IF, notes["loop"], "cable") in got
    assert (IF, notes["self"], "cable") in got


def test_duplicate_device_name_across_sites(campus: Campus) -> None:
    c, nb = campus, campus.nb
    orig = nb.first("dcim/devices", name="jpl-b04-as1")
    assert orig is not None
    twin = nb.post("dcim/devices", name="jpl-b04-as1", site=c.id("dcim/sites", slug="yuntang"),
                   device_type=orig["device_type"]["id"], role=orig["role"]["id"], status="planned",
                   tenant=orig["tenant"]["id"] if orig["tenant"] else None)
    try:
        snap = read_snapshot(c.target)
        vs = run_rules(snap, ["device-name-unique"])
        assert {(v.object_type, v.object_name, v.field) for v in vs} == {("dcim.device", "jpl-b04-as1", "name")}
        assert len(vs) == 2 and any("site yuntang" in v.message for v in vs)
    finally:
        nb.c.delete(f"/api/dcim/devices/{twin['id']}/")
