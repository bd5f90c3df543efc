"""The Snapshot models: a small hand-built campus (also used by the rule tests), lookups, JSON round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from campusnet.errors import DataError
from campusnet.sot import load_or_read
from campusnet.sot.limit import Limit, apply_limit
from campusnet.sot.models import (
    ASN,
    L2VPN,
    VLAN,
    VRF,
    Cable,
    Circuit,
    CircuitTermination,
    Contact,
    ContactAssignment,
    Device,
    DeviceType,
    Endpoint,
    FhrpAssignment,
    FHRPGroup,
    Interface,
    IPAddress,
    L2VPNTermination,
    PowerFeed,
    PowerOutlet,
    PowerPort,
    Prefix,
    Provider,
    Rack,
    Site,
    Snapshot,
    SnapshotSource,
    Tenant,
    VirtualChassis,
)

_ids = iter(range(1, 100000))

SWITCH = DeviceType(manufacturer="huawei", model="CE6881", slug="ce6881", u_height=1)
ACCESS = DeviceType(manufacturer="h3c", model="S5130", slug="s5130", u_height=1)
PDU = DeviceType(manufacturer="apc", model="AP8959", slug="ap8959", u_height=0, is_full_depth=False)
SERVER = DeviceType(manufacturer="dell", model="R750", slug="r750", u_height=2)


def dev(name: str, role: str, dt: DeviceType = SWITCH, **kw: Any) -> Device:
    base: dict[str, Any] = dict(id=next(_ids), name=name, role=role, device_type=dt, site="yuntang",
                                status="active", tenant="it-noc", platform="huawei-vrp")
    return Device(**(base | kw))


def itf(device: str, name: str, **kw: Any) -> Interface:
    return Interface(**({"id": next(_ids), "device": device, "name": name, "type": "10gbase-x-sfpp"} | kw))


def ep(device: str, name: str) -> tuple[Endpoint, ...]:
    return (Endpoint(kind="interface", device=device, name=name),)


def cabled(a: Interface, b: Interface, cable: int) -> tuple[Interface, Interface]:
    return (a.model_copy(update={"cable": cable, "link_peers": ep(b.device, b.name),
                                 "connected_endpoints": ep(b.device, b.name), "connected_reachable": True}),
            b.model_copy(update={"cable": cable, "link_peers": ep(a.device, a.name),
                                 "connected_endpoints": ep(a.device, a.name), "connected_reachable": True}))


def owner(otype: str, key: str) -> ContactAssignment:
    return ContactAssignment(id=next(_ids), object_type=otype, object_id=0, object_key=key, contact="NOC",
                             role="owner")


def mini() -> Snapshot:
    """Yuntang: a 2-chassis core, one access switch (LAG over both chassis), two routers on a /31, an FHRP
    gateway, a rack with A/B feeds and a PDU, a circuit, a VXLAN L2VPN. Validates clean."""
    core1 = dev("yt-core-1", "core-switch", virtual_chassis="yt-core", vc_position=1, vc_master=True,
                rack="yuntang/R01", position=40, face="front")
    core2 = dev("yt-core-2", "core-switch", virtual_chassis="yt-core", vc_position=2,
                rack="yuntang/R01", position=39, face="front")
    acc = dev("yt-b01-acc-1", "access-switch", ACCESS, platform="h3c-comware", tags=("lab",),
              primary_ip4="10.255.0.11/32", oob_ip="10.254.0.11/24")
    r1 = dev("yt-egress-1", "egress-router", rack="yuntang/R01", position=30, bgp_asn=65001)
    r2 = dev("yt-border-1", "border-leaf", rack="yuntang/R01", position=31, bgp_asn=65011)
    pdu = dev("yt-r01-pdu-a", "pdu", PDU, rack="yuntang/R01", platform=None)
    srv = dev("yt-srv-1", "server", SERVER, rack="yuntang/R01", position=10, face="front", platform="linux-frr")

    # access uplinks: LAG on the access switch, one member to each chassis, LAG on the core
    a1, c1 = cabled(itf(acc.name, "XGE1/0/49", lag="BAGG1", mtu=9000), itf(core1.name, "10GE1/0/1", lag="Eth-Trunk11",
                                                                          mtu=9000), 1)
    a2, c2 = cabled(itf(acc.name, "XGE1/0/50", lag="BAGG1", mtu=9000), itf(core2.name, "10GE2/0/1", lag="Eth-Trunk11",
                                                                          mtu=9000), 2)
    trunk = dict(type="lag", mode="tagged", untagged_vid=1, tagged_vids=(110, 120), mtu=9000)
    acc_lag = itf(acc.name, "BAGG1", **trunk)
    core_lag = itf(core1.name, "Eth-Trunk11", **trunk)
    acc_mgmt = itf(acc.name, "mgmt0", type="1000base-t", mgmt_only=True, ip_addresses=("10.254.0.11/24",),
                   vrf="mgmt")
    acc_lo = itf(acc.name, "LoopBack0", type="virtual", ip_addresses=("10.255.0.11/32",))
    acc_down = itf(acc.name, "GE1/0/1", type="1000base-t", mode="access", untagged_vid=110)
    srv_nic = itf(srv.name, "eth0", type="1000base-t", mode="access", untagged_vid=110)
    acc_down, srv_nic = cabled(acc_down, srv_nic, 3)
    # routed /31 between egress and border leaf
    p1, p2 = cabled(itf(r1.name, "100GE1/0/1", ip_addresses=("10.0.0.0/31",), tags=("ospf",)),
                    itf(r2.name, "100GE1/0/1", ip_addresses=("10.0.0.1/31",), tags=("ospf",)), 4)
    # FHRP gateway on the two core chassis
    svi1 = itf(core1.name, "Vlanif110", type="virtual", untagged_vid=110, ip_addresses=("10.10.110.2/24",),
               fhrp=(FhrpAssignment(group=900, protocol="vrrp3", group_id=1, priority=200),))
    svi2 = itf(core2.name, "Vlanif110", type="virtual", untagged_vid=110, ip_addresses=("10.10.110.3/24",),
               fhrp=(FhrpAssignment(group=900, protocol="vrrp3", group_id=1, priority=100),))
    ct_if = itf(r1.name, "100GE1/0/2", ip_addresses=("203.0.113.1/31",))
    interfaces = (a1, a2, c1, c2, acc_lag, core_lag, acc_mgmt, acc_lo, acc_down, srv_nic, p1, p2, svi1, svi2, ct_if)

    def ip(addr: str, device: str | None, iface: str | None, vrf: str | None = None, **kw: Any) -> IPAddress:
        return IPAddress(id=next(_ids), address=addr, vrf=vrf, status="active", device=device, interface=iface,
                         assigned_type="dcim.interface" if device else kw.pop("assigned_type", None), **kw)

    ips = (
        ip("10.254.0.11/24", acc.name, "mgmt0", "mgmt"),
        ip("10.255.0.11/32", acc.name, "LoopBack0", role="loopback"),
        ip("10.0.0.0/31", r1.name, "100GE1/0/1"), ip("10.0.0.1/31", r2.name, "100GE1/0/1"),
        ip("10.10.110.2/24", core1.name, "Vlanif110"), ip("10.10.110.3/24", core2.name, "Vlanif110"),
        ip("10.10.110.1/24", None, None, role="vrrp", fhrp_group=900, assigned_type="ipam.fhrpgroup"),
        ip("203.0.113.1/31", r1.name, "100GE1/0/2"),
    )
    prefixes = tuple(Prefix(id=next(_ids), prefix=p, vrf=v, status="active", tenant="it-noc", scope_type="dcim.site",
                            scope="yuntang", site="yuntang")
                     for p, v in (("10.254.0.0/24", "mgmt"), ("10.255.0.0/24", None), ("10.0.0.0/24", None),
                                  ("10.10.110.0/24", None), ("203.0.113.0/24", None)))
    vlans = tuple(VLAN(id=next(_ids), vid=v, name=f"v{v}", group="yuntang-users", status="active", tenant="it-noc")
                  for v in (110, 120))
    devices = (core1, core2, acc, r1, r2, pdu, srv)
    ct = Circuit(id=next(_ids), cid="CT-0001", provider="china-telecom", type="internet", status="active",
                 tenant="china-telecom",
                 termination_a=CircuitTermination(id=next(_ids), term_side="A", site="yuntang", cable=5,
                                                  link_peers=ep(r1.name, "100GE1/0/2"),
                                                  connected_endpoints=ep(r1.name, "100GE1/0/2")),
                 termination_z=CircuitTermination(id=next(_ids), term_side="Z", provider_network="china-telecom/inet"))
    feeds = tuple(PowerFeed(id=next(_ids), name=f"R01-{s}", power_panel=f"PP-{s}", site="yuntang", rack="yuntang/R01",
                            status="active", type=t, supply="ac", phase="single-phase", voltage=230, amperage=16,
                            max_utilization=80, cable=10 + i)
                  for i, (s, t) in enumerate((("A", "primary"), ("B", "redundant"))))
    power_ports = (
        PowerPort(id=next(_ids), device=pdu.name, name="PSU", feed="PP-A/R01-A", link_peer="PP-A/R01-A", cable=10),
        PowerPort(id=next(_ids), device=srv.name, name="PSU1", allocated_draw=600, maximum_draw=750, cable=12,
                  link_peer="yt-r01-pdu-a:OUT1"),
        PowerPort(id=next(_ids), device=core1.name, name="PSU1", allocated_draw=300, cable=13,
                  link_peer="yt-r01-pdu-a:OUT2"),
    )
    outlets = (PowerOutlet(id=next(_ids), device=pdu.name, name="OUT1", power_port="PSU", link_peer="yt-srv-1:PSU1"),
               PowerOutlet(id=next(_ids), device=pdu.name, name="OUT2", power_port="PSU",
                           link_peer="yt-core-1:PSU1"))
    assignments = tuple(owner("dcim.device", d.name) for d in devices) + tuple(
        owner("ipam.prefix", p.key) for p in prefixes) + tuple(owner("ipam.vlan", v.key) for v in vlans) + (
        owner("circuits.circuit", ct.key),)
    return Snapshot(
        source=SnapshotSource(url="http://127.0.0.1:8470", read_at=datetime(2026, 1, 1, tzinfo=UTC),
                              netbox_version="4.7.3"),
        tenants=(Tenant(id=1, slug="it-noc", name="Network Operations Centre", group="it-office"),
                 Tenant(id=2, slug="china-telecom", name="China Telecom", group="partners")),
        contacts=(Contact(id=1, name="NOC", groups=("IT Office",)),),
        contact_assignments=assignments,
        sites=(Site(id=1, slug="yuntang", name="Yuntang", status="active"),),
        racks=(Rack(id=1, name="R01", site="yuntang", status="active", u_height=42, tenant="it-noc"),),
        power_feeds=feeds, power_ports=power_ports, power_outlets=outlets,
        virtual_chassis=(VirtualChassis(id=1, name="yt-core", master=core1.name, members=(core1.name, core2.name)),),
        devices=devices, interfaces=interfaces,
        cables=tuple(Cable(id=n, status="connected") for n in (1, 2, 3, 4, 5)),
        vlans=vlans, vrfs=(VRF(id=1, name="mgmt"),), prefixes=prefixes, ip_addresses=ips,
        fhrp_groups=(FHRPGroup(id=900, protocol="vrrp3", group_id=1, vips=("10.10.110.1/24",)),),
        asns=(ASN(id=1, asn=65001), ASN(id=2, asn=65011), ASN(id=3, asn=4134)),
        providers=(Provider(id=1, slug="china-telecom", name="China Telecom", asns=(4134,)),),
        circuits=(ct,),
        l2vpns=(L2VPN(id=1, slug="vni-10110", name="vni-10110", type="vxlan-evpn", identifier=10110,
                      terminations=(L2VPNTermination(id=1, kind="vlan", vlan="yuntang-users:110", vid=110),)),),
    )


def patch(snap: Snapshot, collection: str, key: str | int, **changes: Any) -> Snapshot:
    """A copy of ``snap`` with one object (by natural key) changed."""
    items = getattr(snap, collection)
    found = [o for o in items if o.key == key]
    assert found, f"no {collection} {key}"
    return snap.model_copy(update={collection: tuple(o.model_copy(update=changes) if o.key == key else o
                                                     for o in items)})


# --------------------------------------------------------------------------------------------------------
def test_models_are_frozen_and_strict() -> None:
    d = dev("x", "core-switch")
    with pytest.raises(ValidationError):
        d.name = "y"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Device(**(d.model_dump() | {"napalm_driver": "ios"}))


def test_lookups() -> None:
    s = mini()
    assert s.device("yt-core-1").vc_master
    assert [i.name for i in s.interfaces_of("yt-b01-acc-1")][:2] == ["XGE1/0/49", "XGE1/0/50"]
    assert s.interface("yt-core-1:10GE1/0/1").lag == "Eth-Trunk11"
    assert s.interface("yt-core-1", "10GE1/0/1").peer == Endpoint(kind="interface", device="yt-b01-acc-1",
                                                                  name="XGE1/0/49")
    assert [d.name for d in s.vc_members("yt-core")] == ["yt-core-1", "yt-core-2"]
    assert {i.key for i in s.lag_members("yt-core-1", "Eth-Trunk11")} == {"yt-core-1:10GE1/0/1",
                                                                           "yt-core-2:10GE2/0/1"}
    assert s.owners("dcim.device", "yt-core-1") == ["NOC"]
    assert [ip.address for ip in s.ips_of("yt-egress-1", "100GE1/0/1")] == ["10.0.0.0/31"]
    assert s.circuits[0].termination_a is not None
    assert s.circuits[0].termination_a.interface == Endpoint(kind="interface", device="yt-egress-1",
                                                             name="100GE1/0/2")
    assert s.devices_tagged("lab")[0].name == "yt-b01-acc-1"
    assert s.vlans[0].key == "yuntang-users:110"
    assert s.prefixes[0].key == "mgmt:10.254.0.0/24"
    assert s.device("yt-srv-1").units == (10, 10.5, 11, 11.5)
    with pytest.raises(DataError, match="nope"):
        s.device("nope")


def test_feed_capacity() -> None:
    f = mini().power_feeds[0]
    assert f.capacity_w == pytest.approx(230 * 16 * 0.8)
    assert f.model_copy(update={"phase": "three-phase"}).capacity_w == pytest.approx(230 * 16 * 0.8 * 1.732)


def test_json_round_trip(tmp_path: Path) -> None:
    s = mini()
    p = s.save(tmp_path / "snap.json")
    assert Snapshot.load(p) == s
    assert load_or_read(p) == s


def test_load_refuses_bad_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        Snapshot.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(DataError, match="not a readable JSON"):
        Snapshot.load(tmp_path / "bad.json")
    raw = mini().model_dump(mode="json")
    (tmp_path / "old.json").write_text(__import__("json").dumps(raw | {"schema_version": 0}))
    with pytest.raises(DataError, match="schema_version"):
        Snapshot.load(tmp_path / "old.json")
    raw["devices"][0]["status"] = None
    (tmp_path / "wrong.json").write_text(__import__("json").dumps(raw))
    with pytest.raises(DataError) as exc:
        Snapshot.load(tmp_path / "wrong.json")
    assert exc.value.field == "devices.0.status"


def test_limit() -> None:
    s = mini()
    lim = Limit.parse(["role=access-switch"])
    assert lim is not None and str(lim) == "role=access-switch"
    cut = apply_limit(s, lim)
    assert [d.name for d in cut.devices] == ["yt-b01-acc-1"]
    assert {i.device for i in cut.interfaces} == {"yt-b01-acc-1"}
    assert cut.source.limit == "role=access-switch"
    # one member of a virtual chassis brings the whole cluster
    assert {d.name for d in apply_limit(s, Limit.parse("name=yt-core-2")).devices} == {"yt-core-1", "yt-core-2"}
    assert {d.name for d in apply_limit(s, Limit.parse("yt-egress-*,site=yuntang")).devices} == {"yt-egress-1"}
    assert {d.name for d in apply_limit(s, Limit.parse("tag=lab")).devices} == {"yt-b01-acc-1"}
    assert {d.name for d in apply_limit(s, Limit.parse("role=server|pdu")).devices} == {"yt-srv-1", "yt-r01-pdu-a"}
    assert Limit.parse(None) is None
    with pytest.raises(DataError, match="unknown limit key"):
        Limit.parse("rack=R01")


def test_model_copy_rebuilds_indexes() -> None:
    s = mini()
    assert s.cable(3) is not None and s.cable(3).status == "connected"  # index built
    s2 = patch(s, "cables", "3", status="planned")
    assert s2.cable(3) is not None and s2.cable(3).status == "planned"
    cut = apply_limit(s, Limit.parse("role=server"))
    assert not cut.has_device("yt-core-1") and s.has_device("yt-core-1")
