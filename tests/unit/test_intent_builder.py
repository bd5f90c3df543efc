"""Derivation rules of the intent builder (docs/intent.md), on the small hand-made snapshot."""

from __future__ import annotations

import os
import stat
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import pytest

from campusnet.errors import CampusnetError
from campusnet.intent import DeviceIntent, IntentErrors, SecretRef, build_intents, build_intents_collect
from campusnet.intent.build import ospf_area, other_host, vlan_ranges
from campusnet.intent.emulation import plumbing
from campusnet.intent.models import EthernetInterface, LagInterface, LoopbackInterface, SviInterface
from campusnet.pipeline import Pipeline
from campusnet.render import render_device, resolve_secret, resolve_secrets, secret_env_name
from campusnet.sot.models import Snapshot

SMALL = Path(__file__).resolve().parent.parent / "fixtures" / "snapshots" / "small.json"


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return Snapshot.load(SMALL)


@pytest.fixture(scope="module")
def intents(snap: Snapshot) -> dict[str, DeviceIntent]:
    return build_intents(snap)


@pytest.fixture(scope="module")
def emulations(snap: Snapshot) -> dict[str, DeviceIntent]:
    return Pipeline.build(snap, strict=True).emulations


def iface(intent: DeviceIntent, name: str) -> object:
    return next(i for i in intent.interfaces if i.name == name)


def with_device(snap: Snapshot, name: str, **update: object) -> Snapshot:
    devices = tuple(d.model_copy(update=update) if d.name == name else d for d in snap.devices)
    return snap.model_copy(update={"devices": devices})


# -- pure helpers ------------------------------------------------------------------------------------------
def test_helpers() -> None:
    assert [(r.start, r.end) for r in vlan_ranges([5, 1, 2, 3, 9])] == [(1, 3), (5, 5), (9, 9)]
    assert other_host(IPv4Interface("10.0.0.1/31")) == IPv4Address("10.0.0.0")
    assert other_host(IPv4Interface("10.0.0.0/24")) is None
    assert ospf_area(0) == "0.0.0.0" and ospf_area("0.0.0.1") == "0.0.0.1"  # noqa: S104 - an area id


# -- which devices, and the virtual chassis -------------------------------------------------------------------
def test_configured_devices(intents: dict[str, DeviceIntent]) -> None:
    # servers (no platform) and the VC's non-master member have no intent
    assert "ytg-srv-1" not in intents
    assert "jpl-core-2" not in intents
    assert set(intents) >= {"jpl-core-1", "jpl-acc-b01", "ytg-core", "ytg-leaf-1", "ytg-vpn-1"}


def test_virtual_chassis_is_one_device(intents: dict[str, DeviceIntent]) -> None:
    core = intents["jpl-core-1"]
    assert core.system.vc_members == ("jpl-core-1", "jpl-core-2")
    lag = iface(core, "Eth-Trunk11")
    assert isinstance(lag, LagInterface)
    assert lag.members == ("10GE1/0/1", "10GE2/0/1")  # one member on each chassis
    member2 = iface(core, "10GE2/0/1")
    assert isinstance(member2, EthernetInterface) and member2.netbox_device == "jpl-core-2"
    assert member2.lag == "Eth-Trunk11" and member2.switchport is None
    # one management interface: the master's
    assert sum(1 for i in core.interfaces if i.kind == "management") == 1


def test_descriptions_from_cable_peers(intents: dict[str, DeviceIntent]) -> None:
    up = iface(intents["jpl-acc-b01"], "GigabitEthernet1/0/49")
    assert isinstance(up, EthernetInterface) and up.description == "jpl-core-1 10GE1/0/1"
    # a NetBox description wins
    assert iface(intents["jpl-acc-b01"], "GigabitEthernet1/0/1").description == "teaching room 101"  # type: ignore[attr-defined]


def test_platform_names(intents: dict[str, DeviceIntent], emulations: dict[str, DeviceIntent]) -> None:
    acc = intents["jpl-acc-b01"]
    assert [i.name for i in acc.interfaces][:2] == ["Bridge-Aggregation1", "Vlan-interface99"]
    emu = emulations["jpl-core-1"]
    assert emu is not None
    names = {i.name for i in emu.interfaces}
    assert {"xe1-0-1", "xe2-0-1", "bond11", "vlan110", "lo", "hu1-0-1"} <= names


# -- L2 ------------------------------------------------------------------------------------------------------
def test_vlans_and_trunks(intents: dict[str, DeviceIntent]) -> None:
    core = intents["jpl-core-1"]
    assert [v.vid for v in core.vlans.vlans] == [99, 110, 111, 300]
    assert [(r.start, r.end) for r in core.vlans.ranges] == [(99, 99), (110, 111), (300, 300)]
    lag = iface(core, "Eth-Trunk12")
    assert isinstance(lag, LagInterface) and lag.switchport is not None
    assert lag.switchport.allowed_vlans == (99, 111, 300) and lag.switchport.allowed_csv == "99,111,300"


def test_svi_vrrp_and_dhcp_relay(intents: dict[str, DeviceIntent]) -> None:
    svi = iface(intents["ytg-leaf-2"], "Vlanif200")
    assert isinstance(svi, SviInterface)
    (vrrp,) = svi.vrrp
    assert (vrrp.vrid, vrrp.virtual_ip, vrrp.priority, vrrp.version) == (200, IPv4Address("10.20.0.1"), 120, 3)
    users = iface(intents["jpl-core-1"], "Vlanif110")
    wifi = iface(intents["jpl-core-1"], "Vlanif300")
    assert isinstance(users, SviInterface) and users.dhcp_relay == (IPv4Address("10.10.0.67"),)
    assert isinstance(wifi, SviInterface) and wifi.dhcp_relay == ()  # vlan_roles: [users]
    assert intents["jpl-core-1"].services.dhcp_relay


# -- routing -------------------------------------------------------------------------------------------------
def test_ospf_where_both_ends_tagged(intents: dict[str, DeviceIntent]) -> None:
    core = intents["ytg-core"]
    assert core.ospf is not None
    link = iface(core, "100GE1/0/1")
    assert isinstance(link, EthernetInterface) and link.ospf is not None and link.ospf.network_type == "p2p"
    to_leaf = iface(core, "100GE1/0/2")  # not tagged: eBGP instead
    assert isinstance(to_leaf, EthernetInterface) and to_leaf.ospf is None
    assert IPv4Network("10.0.0.0/31") in core.ospf.areas[0].networks
    assert "LoopBack0" in core.ospf.passive_interfaces
    assert intents["ytg-spine-1"].ospf is None


def test_ebgp_where_asns_differ(intents: dict[str, DeviceIntent]) -> None:
    leaf = intents["ytg-leaf-2"]
    assert leaf.bgp is not None
    peers = {str(n.address): (n.remote_as, n.address_families, n.kind) for n in leaf.bgp.neighbors}
    assert peers == {"10.1.0.2": (65100, ("ipv4", "evpn"), "fabric"), "10.1.1.0": (65000, ("ipv4",), "campus")}
    # the core speaks both: boundary redistribution and a default towards the fabric
    core = intents["ytg-core"]
    assert core.bgp is not None and core.ospf is not None
    assert "bgp" in core.ospf.redistribute and "ospf" in core.bgp.ipv4.redistribute
    assert core.bgp.ipv4.default_originate == (IPv4Address("10.1.1.1"),)


def test_provider_ebgp_from_circuit(intents: dict[str, DeviceIntent]) -> None:
    egress = intents["ytg-egress-1"]
    assert egress.bgp is not None
    (n,) = egress.bgp.neighbors
    assert (n.kind, n.remote_as, n.address, n.prefix_list_out) == (
        "provider", 4538, IPv4Address("203.0.113.0"), "CN-TO-PROVIDER")
    # only the public block goes to providers, held up by a blackhole route
    assert egress.bgp.ipv4.networks == (IPv4Network("198.51.100.0/24"),)
    assert any(r.prefix == IPv4Network("198.51.100.0/24") and r.next_hop is None for r in egress.static_routes)
    assert egress.ospf is not None and egress.ospf.default_originate == "normal"


def test_evpn_vnis_from_l2vpn(intents: dict[str, DeviceIntent]) -> None:
    leaf = intents["ytg-leaf-1"]
    assert leaf.evpn is not None
    (vni,) = leaf.evpn.vnis
    assert (vni.vni, vni.vlan_id, vni.route_target) == (10200, 200, "10200:1")
    assert leaf.evpn.vtep_source == IPv4Address("10.255.1.11")
    spine = intents["ytg-spine-1"]
    assert spine.evpn is None and spine.bgp is not None and spine.bgp.evpn is not None
    assert spine.bgp.evpn.retain_all and not spine.bgp.evpn.advertise_all_vni


def test_loopback_secondary_addresses(intents: dict[str, DeviceIntent]) -> None:
    lo = iface(intents["ytg-vpn-1"], "lo")
    assert isinstance(lo, LoopbackInterface) and lo.secondary == (IPv4Interface("198.51.100.10/32"),)


# -- the lab emulation ---------------------------------------------------------------------------------------
def test_lab_timers_only_in_emulation(intents: dict[str, DeviceIntent], emulations: dict[str, DeviceIntent]) -> None:
    core = intents["jpl-core-1"]
    assert core.ospf is not None and core.ospf.timers is None
    emu = emulations["jpl-core-1"]
    assert emu is not None and emu.ospf is not None and emu.ospf.timers is not None
    link = iface(emu, "hu1-0-1")
    assert isinstance(link, EthernetInterface) and link.ospf is not None
    assert (link.ospf.hello_interval, link.ospf.dead_interval) == (1, 4)
    leaf = emulations["ytg-leaf-1"]
    assert leaf is not None and leaf.bgp is not None and leaf.bgp.timers is not None
    assert all(n.connect_timer == 1 for n in leaf.bgp.neighbors)


def test_emulation_has_only_lab_facing_ports(emulations: dict[str, DeviceIntent]) -> None:
    emu = emulations["jpl-acc-b01"]
    assert emu is not None
    assert not any(i.name.startswith("ge1-0-1") and i.name != "ge1-0-1" for i in emu.interfaces)  # no unused
    lab = plumbing(emu)
    assert lab.ovs_bridge == "br0"
    bond = next(p for p in lab.ovs_ports if p.bond_members)
    assert bond.bond_members == ("ge1-0-49", "ge1-0-50") and bond.trunks == "99,110,300"


# -- named errors --------------------------------------------------------------------------------------------
def test_leaf_without_asn_is_a_named_error(snap: Snapshot) -> None:
    bad = with_device(snap, "ytg-leaf-1", bgp_asn=None)
    intents, errors = build_intents_collect(bad)
    assert "ytg-leaf-1" not in intents and "ytg-leaf-2" in intents
    (err,) = [e for e in errors if e.device == "ytg-leaf-1"]
    assert err.field == "bgp_asn" and "ytg-leaf-1" in str(err)
    with pytest.raises(IntentErrors, match="ytg-leaf-1 field 'bgp_asn'"):
        build_intents(bad)


def test_ospf_without_area_is_a_named_error(snap: Snapshot) -> None:
    core = snap.device("ytg-core")
    ctx = {k: v for k, v in core.config_context.items() if k != "ospf"}
    _, errors = build_intents_collect(with_device(snap, "ytg-core", config_context=ctx))
    assert any(e.device == "ytg-core" and e.field == "config_context.ospf.area" for e in errors)


def test_literal_secret_is_refused(snap: Snapshot) -> None:
    dev = snap.device("ytg-core")
    ctx = dict(dev.config_context)
    ctx["services"] = {**ctx["services"], "snmp": {"community": "public"}}  # type: ignore[dict-item]
    _, errors = build_intents_collect(with_device(snap, "ytg-core", config_context=ctx))
    assert any(e.device == "ytg-core" and e.field == "config_context.services.snmp.community" for e in errors)


# -- secrets -------------------------------------------------------------------------------------------------
def test_secrets_stay_references_until_render(intents: dict[str, DeviceIntent]) -> None:
    core = intents["ytg-core"]
    assert core.services.snmp is not None and core.services.snmp.community == SecretRef(secret_ref="SNMP_COMMUNITY")
    assert "SNMP_COMMUNITY" not in core.model_dump_json().replace('"secret_ref":"SNMP_COMMUNITY"', "")
    text = render_device(core, secrets=lambda n: f"v-{n}")["ytg-core.cfg"]
    assert "snmp-agent community read cipher v-SNMP_COMMUNITY" in text
    resolved = resolve_secrets(core, lambda n: "x")
    assert resolved.services.snmp is not None and resolved.services.snmp.community == "x"


def test_secret_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    monkeypatch.delenv(secret_env_name("snmp_community"), raising=False)
    with pytest.raises(CampusnetError, match="E304"):
        resolve_secret("snmp_community")
    f = tmp_path / "secrets" / "snmp_community"
    f.parent.mkdir()
    f.write_text("from-file\n")
    os.chmod(f, 0o644)
    with pytest.raises(CampusnetError, match="E305"):
        resolve_secret("snmp_community")
    os.chmod(f, stat.S_IRUSR | stat.S_IWUSR)
    assert resolve_secret("snmp_community") == "from-file"
    monkeypatch.setenv("CAMPUSNET_SECRET_SNMP_COMMUNITY", "from-env")
    assert resolve_secret("snmp_community") == "from-env"


# -- the models are what they claim ----------------------------------------------------------------------------
def test_intents_revalidate(intents: dict[str, DeviceIntent]) -> None:
    for intent in intents.values():
        assert DeviceIntent.model_validate_json(intent.model_dump_json()) == intent


def test_build_is_linear(snap: Snapshot) -> None:
    """A campus ten times larger takes about ten times as long, not a hundred (no quadratic lookups)."""
    import sys
    import time

    sys.path.insert(0, str(SMALL.parent))
    from make_small import make  # type: ignore[import-not-found]

    def timed(n: int) -> float:
        s = make(n_access=n, lab_access=2)
        t = time.process_time()
        build_intents(s)
        return time.process_time() - t

    small, big = timed(20), timed(200)
    assert big < small * 25, (small, big)


def test_bgp_redistributes_the_ospf_process_of_the_config_context(snap: Snapshot) -> None:
    """The OSPF process id comes from the config context, in OSPF and in BGP's import-route alike."""
    core = snap.device("ytg-core")
    ctx = {**core.config_context, "ospf": {**core.config_context["ospf"], "process_id": 7}}
    intents, errors = build_intents_collect(with_device(snap, "ytg-core", config_context=ctx))
    assert not errors
    intent = intents["ytg-core"]
    assert intent.bgp is not None and intent.bgp.ipv4.ospf_process_id == 7
    text = "\n".join(render_device(intent, secrets=lambda name: "x", lab=False).values())
    assert "ospf 7 router-id" in text and "import-route ospf 7" in text and "import-route ospf 1" not in text
