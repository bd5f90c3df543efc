"""Each intent area builder on its own (campusnet/intent/build/), over the recorded snapshots: the areas
read one shared DeviceView, so each can be run, and can fail, without building the whole device."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import pytest

from campusnet.intent import build_intents
from campusnet.intent.build import DeviceView, SnapshotIndex, build_device, configured_devices
from campusnet.intent.build.bgp import BgpBuilder, build_evpn, vnis_by_vid
from campusnet.intent.build.fhrp import vrrp_groups
from campusnet.intent.build.interfaces import InterfaceBuilder
from campusnet.intent.build.ospf import OspfBuilder
from campusnet.intent.build.services import DhcpRelay, build_services
from campusnet.intent.build.system import build_system
from campusnet.intent.build.view import Link
from campusnet.intent.build.vlans import SviBuilder, VlanTable
from campusnet.intent.build.vpn import build_vpn
from campusnet.intent.errors import IntentError
from campusnet.intent.models import DeviceIntent, Interface, SviInterface
from campusnet.sot.models import Snapshot

SNAPSHOTS = Path(__file__).resolve().parent.parent / "fixtures" / "snapshots"


@pytest.fixture(scope="module")
def small() -> Snapshot:
    return Snapshot.load(SNAPSHOTS / "small.json")


@pytest.fixture(scope="module")
def campus() -> Snapshot:
    return Snapshot.load(SNAPSHOTS / "campus.json")


@pytest.fixture(scope="module")
def campus_intents(campus: Snapshot) -> dict[str, DeviceIntent]:
    return build_intents(campus)


def with_device(snap: Snapshot, name: str, **update: Any) -> Snapshot:
    return snap.model_copy(update={"devices": tuple(
        d.model_copy(update=update) if d.name == name else d for d in snap.devices)})


def with_context(snap: Snapshot, name: str, key: str, value: Any) -> Snapshot:
    ctx = {k: v for k, v in snap.device(name).config_context.items() if k != key}
    if value is not None:
        ctx[key] = value
    return with_device(snap, name, config_context=ctx)


def with_iface(snap: Snapshot, device: str, iface: str, **update: Any) -> Snapshot:
    hit = [i for i in snap.interfaces if i.device == device and i.name == iface]
    assert hit, f"{device} {iface} not in the snapshot"
    return snap.model_copy(update={"interfaces": tuple(
        i.model_copy(update=update) if i in hit else i for i in snap.interfaces)})


def interfaces_of(view: DeviceView) -> tuple[Interface, ...]:
    """The interface areas alone (no BGP, OSPF process, services, VPN)."""
    ospf = OspfBuilder(view)
    table = VlanTable(view.idx)
    ifb = InterfaceBuilder(view, table, ospf)
    out: list[Interface] = [*ifb.management(), *ifb.loopbacks(), *ifb.ethernet(), *ifb.lags()]
    svis = SviBuilder(view, table, ospf, DhcpRelay(view))
    svis.note_vlans()
    out += svis.build()
    return tuple(out)


def fails(call: Any, field: str, match: str) -> IntentError:
    with pytest.raises(IntentError, match=match) as info:
        call()
    assert info.value.field == field and info.value.code == "E210"
    return info.value


# -- the shared view ------------------------------------------------------------------------------------------
def test_view_links_and_ospf_adjacencies(small: Snapshot) -> None:
    egress = DeviceView.of(small, "ytg-egress-1")
    links = {link.local.name: link for link in egress.links.values()}
    assert isinstance(links["GE0/0/1"], Link) and links["GE0/0/1"].peer_device == "ytg-core"
    provider = links["GE0/0/2"]  # a circuit with one campus end: the provider is the other host
    assert provider.peer_device is None and provider.peer_ip == IPv4Address("203.0.113.0")
    assert egress.ospf_local == {"ytg-egress-1:GE0/0/1"} and egress.runs_ospf
    assert not DeviceView.of(small, "ytg-leaf-1").runs_ospf


def test_view_emulation_keeps_only_lab_facing_ports(small: Snapshot) -> None:
    real = DeviceView.of(small, "jpl-acc-b01")
    emu = DeviceView.of(small, "jpl-acc-b01", emulation=True)
    assert emu.p.slug == "linux-frr"
    assert len(emu.by_kind["ethernet"]) < len(real.by_kind["ethernet"])


# -- system ------------------------------------------------------------------------------------------------
def test_system_of_a_virtual_chassis(small: Snapshot) -> None:
    system = build_system(DeviceView.of(small, "jpl-core-1"))
    assert system.hostname == "jpl-core-1" and system.vc_members == ("jpl-core-1", "jpl-core-2")
    assert system.platform == "huawei-vrp" and system.lab and system.router_id is not None
    vc = small.device("jpl-core-1").virtual_chassis
    assert vc and build_system(DeviceView.of(small, "jpl-core-1", emulation=True)).hostname == vc


def test_system_without_primary_ip_has_no_router_id(small: Snapshot) -> None:
    view = DeviceView.of(with_device(small, "ytg-leaf-1", primary_ip4=None), "ytg-leaf-1")
    assert build_system(view).router_id is None


# -- interfaces and switchports --------------------------------------------------------------------------------
def test_interfaces_lag_members_and_switchports(small: Snapshot) -> None:
    view = DeviceView.of(small, "jpl-acc-b01")
    table = VlanTable(view.idx)
    ifb = InterfaceBuilder(view, table, OspfBuilder(view))
    assert [m.name for m in ifb.management()] == ["M-GigabitEthernet0/0/0"]
    lags = ifb.lags()
    assert [x.name for x in lags] == ["Bridge-Aggregation1"] and len(lags[0].members) == 2
    assert lags[0].switchport is not None and lags[0].switchport.mode == "trunk"
    ports = {x.netbox_name: x for x in ifb.ethernet()}
    assert ports["GE1/0/49"].lag == "Bridge-Aggregation1" and ports["GE1/0/49"].switchport is None
    assert ports["GE1/0/1"].switchport is not None and ports["GE1/0/1"].switchport.mode == "access"
    assert set(table.objs) >= {110}  # the switchports noted their VLANs


def test_interfaces_member_of_a_missing_lag_is_named(small: Snapshot) -> None:
    view = DeviceView.of(with_iface(small, "jpl-acc-b01", "GE1/0/49", lag="Bridge-Aggregation9"), "jpl-acc-b01")
    ifb = InterfaceBuilder(view, VlanTable(view.idx), OspfBuilder(view))
    fails(ifb.ethernet, "GE1/0/49.lag", "not an interface of this device")


def test_interfaces_access_port_without_vlan_is_named(small: Snapshot) -> None:
    view = DeviceView.of(with_iface(small, "jpl-acc-b01", "GE1/0/1", untagged_vid=None, untagged_vlan=None),
                         "jpl-acc-b01")
    ifb = InterfaceBuilder(view, VlanTable(view.idx), OspfBuilder(view))
    fails(ifb.ethernet, "GE1/0/1.untagged_vlan", "access port GE1/0/1 has no untagged VLAN")


# -- VLANs and SVIs ------------------------------------------------------------------------------------------
def test_vlans_named_from_netbox(small: Snapshot) -> None:
    view = DeviceView.of(small, "jpl-acc-b01")
    table = VlanTable(view.idx)
    table.note(110, next(v.key for v in small.vlans if v.vid == 110))
    table.note(4000, None)
    vlans = table.model()
    assert [(v.vid, v.name) for v in vlans.vlans] == [(110, "b01-teaching"), (4000, "VLAN4000")]
    assert vlans.vids_csv == "110,4000"


def test_svis_relay_by_vlan_role(small: Snapshot) -> None:
    view = DeviceView.of(small, "jpl-core-1")
    svis = SviBuilder(view, VlanTable(view.idx), OspfBuilder(view), DhcpRelay(view))
    by_vid = {x.vlan_id: x for x in svis.build()}
    assert by_vid[110].dhcp_relay == (IPv4Address("10.10.0.67"),)  # users
    assert by_vid[300].dhcp_relay == () and by_vid[99].dhcp_relay == ()  # wireless, management
    assert by_vid[110].ospf is not None and by_vid[110].ospf.passive


def test_svi_without_vlan_is_named(small: Snapshot) -> None:
    snap = with_iface(small, "ytg-leaf-1", "Vlanif200", name="Vlanif", untagged_vid=None, untagged_vlan=None)
    view = DeviceView.of(snap, "ytg-leaf-1")
    fails(lambda: SviBuilder(view, VlanTable(view.idx), OspfBuilder(view), DhcpRelay(view)),
          "Vlanif.untagged_vlan", "SVI without untagged VLAN")


# -- OSPF ------------------------------------------------------------------------------------------------------
def test_ospf_interface_and_process(small: Snapshot) -> None:
    view = DeviceView.of(small, "jpl-core-1")
    ospf = OspfBuilder(view)
    assert ospf.area == "0.0.0.0"  # noqa: S104 - an area id
    p2p = ospf.interface(passive=False, p2p=True)
    assert p2p.network_type == "p2p" and not p2p.passive and p2p.hello_interval is None
    process = ospf.process(interfaces_of(view), None)
    assert process is not None and process.router_id == view.router_id
    assert IPv4Network("10.101.10.0/24") in process.areas[0].networks
    assert "bgp" not in process.redistribute  # no BGP peers: not a boundary
    assert OspfBuilder(DeviceView.of(small, "ytg-leaf-1")).process((), None) is None


def test_ospf_lab_timers_only_in_emulation(small: Snapshot) -> None:
    emu = OspfBuilder(DeviceView.of(small, "jpl-core-1", emulation=True))
    assert emu.interface(passive=False, p2p=True).hello_interval is not None
    assert emu.interface(passive=True, p2p=False).hello_interval is None


def test_ospf_area_missing_or_bad_is_named(small: Snapshot) -> None:
    view = DeviceView.of(with_context(small, "jpl-core-1", "ospf", None), "jpl-core-1")
    fails(lambda: OspfBuilder(view).area, "config_context.ospf.area", "no area is set")
    view = DeviceView.of(with_context(small, "jpl-core-1", "ospf", {"area": "backbone"}), "jpl-core-1")
    fails(lambda: OspfBuilder(view).interface(passive=True, p2p=False), "config_context.ospf.area",
          "not an OSPF area: 'backbone'")


# -- BGP and EVPN ------------------------------------------------------------------------------------------------
def test_bgp_fabric_session_and_evpn(small: Snapshot) -> None:
    view = DeviceView.of(small, "ytg-leaf-1")
    interfaces = interfaces_of(view)
    table = VlanTable(view.idx)
    table.note(200, next(v.key for v in small.vlans if v.vid == 200))
    vnis = vnis_by_vid(view, table)
    assert list(vnis) == [200]
    bgp = BgpBuilder(view, interfaces, has_vnis=True).build()
    assert bgp is not None and bgp.asn == 65101
    assert [(n.kind, n.remote_as, n.address_families) for n in bgp.neighbors] == [
        ("fabric", 65100, ("ipv4", "evpn"))]
    lo = next(x for x in interfaces if x.kind == "loopback")
    evpn = build_evpn(view, interfaces, vnis, lo)  # type: ignore[arg-type]
    assert evpn is not None and [(v.vni, v.vlan_id) for v in evpn.vnis] == [(10200, 200)]


def test_bgp_egress_announces_only_public_blocks(small: Snapshot) -> None:
    view = DeviceView.of(small, "ytg-egress-1")
    builder = BgpBuilder(view, interfaces_of(view), has_vnis=False)
    bgp = builder.build()
    assert bgp is not None and [n.kind for n in bgp.neighbors] == ["provider"]
    assert bgp.ipv4.networks == (IPv4Network("198.51.100.0/24"),)
    assert [r.description for r in builder.static_routes] == ["campus public block"]


def test_bgp_failures_are_named(small: Snapshot) -> None:
    view = DeviceView.of(with_device(small, "ytg-leaf-1", bgp_asn=None), "ytg-leaf-1")
    fails(BgpBuilder(view, (), has_vnis=False).build, "bgp_asn", "EVPN is enabled")
    snap = small.model_copy(update={"providers": tuple(p.model_copy(update={"asns": ()}) for p in small.providers)})
    view = DeviceView.of(snap, "ytg-egress-1")
    circuit = next(iter(small.circuits))
    err = fails(BgpBuilder(view, (), has_vnis=False).build, f"circuit {circuit.key}: provider.asns",
                "provider has no ASN")
    assert err.device == "ytg-egress-1"


def test_evpn_vtep_without_loopback_is_named(small: Snapshot) -> None:
    view = DeviceView.of(small, "ytg-leaf-1")
    table = VlanTable(view.idx)
    table.note(200, next(v.key for v in small.vlans if v.vid == 200))
    fails(lambda: build_evpn(view, (), vnis_by_vid(view, table), None), "interfaces.loopback",
          "a VTEP needs a loopback")


# -- FHRP ----------------------------------------------------------------------------------------------------------
def test_fhrp_vrrp_group(small: Snapshot) -> None:
    view = DeviceView.of(small, "ytg-leaf-1")
    svi = view.by_kind["svi"][0]
    (vrrp,) = vrrp_groups(view, svi, 200)
    assert vrrp.vrid == 200 and vrrp.version == 3 and vrrp.virtual_ip == IPv4Address("10.20.0.1")
    assert vrrp.virtual_mac == "00:00:5e:00:01:c8" and vrrp.macvlan == "vrrp200-200"


def test_fhrp_group_without_virtual_ip_is_named(small: Snapshot) -> None:
    snap = small.model_copy(update={"fhrp_groups": tuple(
        g.model_copy(update={"vips": ()}) for g in small.fhrp_groups)})
    view = DeviceView.of(snap, "ytg-leaf-1")
    fails(lambda: vrrp_groups(view, view.by_kind["svi"][0], 200), "Vlanif200.fhrp", "has no virtual IP")


# -- services --------------------------------------------------------------------------------------------------------
def test_services_from_context_and_relay(small: Snapshot) -> None:
    view = DeviceView.of(small, "jpl-core-1")
    relaying = (SviInterface(name="Vlanif110", netbox_name="Vlanif110", netbox_device="jpl-core-1", vlan_id=110,
                             dhcp_relay=(IPv4Address("10.10.0.67"),)),)
    services = build_services(view, "LoopBack0", relaying)
    assert services.dhcp_relay is True
    assert build_services(view, "LoopBack0", ()).dhcp_relay is False
    assert build_services(view, "LoopBack0", ()) is build_services(view, "LoopBack0", ())  # parsed once


def test_services_bad_relay_server_is_named(small: Snapshot) -> None:
    services = {**small.device("jpl-core-1").config_context["services"],
                "dhcp_relay": {"servers": ["not-an-address"]}}
    view = DeviceView.of(with_context(small, "jpl-core-1", "services", services), "jpl-core-1")
    with pytest.raises(IntentError) as info:
        DhcpRelay(view)
    assert info.value.device == "jpl-core-1"
    assert (info.value.field or "").startswith("config_context.services.dhcp_relay")


# -- VPN ---------------------------------------------------------------------------------------------------------------
def test_vpn_server_of_the_gateway(small: Snapshot) -> None:
    view = DeviceView.of(small, "ytg-vpn-1")
    vpn = build_vpn(view, interfaces_of(view))
    assert vpn is not None and vpn.pool == IPv4Network("10.40.0.0/24")
    assert str(vpn.server_address) == "10.40.0.1/24" and vpn.listen == IPv4Address("198.51.100.10")
    assert build_vpn(DeviceView.of(small, "ytg-core"), ()) is None  # not a gateway


def test_vpn_without_pool_or_public_address_is_named(small: Snapshot) -> None:
    snap = small.model_copy(update={"prefixes": tuple(p for p in small.prefixes if p.role != "vpn-pool")})
    view = DeviceView.of(snap, "ytg-vpn-1")
    fails(lambda: build_vpn(view, interfaces_of(view)), "prefix (role vpn-pool)", "needs a prefix of role vpn-pool")
    view = DeviceView.of(small, "ytg-vpn-1")
    fails(lambda: build_vpn(view, ()), "interfaces.loopback.ip_addresses (role anycast)", "listens on a public")


# -- the campus: the areas compose to the intent, and agree with each other across devices ---------------------
def test_campus_areas_compose_to_the_intent(campus: Snapshot, campus_intents: dict[str, DeviceIntent]) -> None:
    idx = SnapshotIndex.build(campus)
    devices = configured_devices(campus, idx)
    assert len(devices) == len(campus_intents) > 40
    for dev in devices:
        view = DeviceView(idx, dev, DeviceView.of(idx, dev.name).p, emulation=False)
        intent = campus_intents[dev.name]
        assert build_device(view) == intent.model_copy(update={"emulation": None}), dev.name
        assert build_system(view) == intent.system


def test_campus_bgp_sessions_are_symmetric(campus: Snapshot) -> None:
    idx = SnapshotIndex.build(campus)
    sessions: set[tuple[int, int]] = set()
    for dev in configured_devices(campus, idx):
        view = DeviceView.of(idx, dev.name)
        bgp = BgpBuilder(view, interfaces_of(view), has_vnis=False).build()
        for n in bgp.neighbors if bgp else ():
            if n.kind != "provider":
                sessions.add((bgp.asn, n.remote_as))  # type: ignore[union-attr]
    assert sessions and all((b, a) in sessions for a, b in sessions)


def test_campus_vrrp_groups_have_two_gateways(campus: Snapshot) -> None:
    idx = SnapshotIndex.build(campus)
    members: dict[tuple[str | None, int, IPv4Address], int] = {}
    for dev in configured_devices(campus, idx):
        view = DeviceView.of(idx, dev.name)
        for i in view.by_kind["svi"]:
            for v in vrrp_groups(view, i, i.untagged_vid or 0):
                key = (dev.site, v.vrid, v.virtual_ip)
                members[key] = members.get(key, 0) + 1
    assert members and set(members.values()) == {2}
