"""The staff VPN in the gateway's intent (typed, from NetBox only), its rendering, deploy's expectations of it,
and the PKI in the state directory."""

from __future__ import annotations

import stat
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import pytest

from campusnet import settings, vpn
from campusnet.deploy.drivers.linux_frr import canonical_vpn, expected_addrs, expected_vpn
from campusnet.deploy.targets import lab_target
from campusnet.intent import DeviceIntent, build_intents, build_intents_collect
from campusnet.pipeline import Pipeline
from campusnet.render import render_device, render_files
from campusnet.sot.models import Snapshot

CAMPUS = Path(__file__).resolve().parent.parent / "fixtures" / "snapshots" / "campus.json"
pytestmark = pytest.mark.skipif(not CAMPUS.exists(), reason="no recorded campus snapshot")


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return Snapshot.load(CAMPUS)


@pytest.fixture(scope="module")
def intents(snap: Snapshot) -> dict[str, DeviceIntent]:
    return build_intents(snap)


@pytest.fixture(scope="module")
def emulations(snap: Snapshot) -> dict[str, DeviceIntent]:
    return Pipeline.build(snap, strict=True).emulations


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(settings, "state_dir", lambda: tmp_path)
    return tmp_path


def test_gateway_vpn_intent(intents: dict[str, DeviceIntent], emulations: dict[str, DeviceIntent]) -> None:
    v = intents["yt-dmz-vpn1"].vpn
    assert v is not None
    assert v.common_name == "yt-dmz-vpn1"
    assert v.listen == IPv4Address("198.51.100.10") and v.dns_name == "vpn.example.edu"  # anycast on lo
    assert (v.port, v.proto, v.device, v.topology) == (1194, "udp", "tun0", "subnet")
    assert v.pool == IPv4Network("10.40.0.0/24")  # role vpn-pool at the gateway's site
    assert v.server_address == IPv4Interface("10.40.0.1/24")
    # the DC server prefixes and the campus user prefixes (roles server, users), collapsed, never the pool
    assert {str(r.network): r.roles for r in v.routes} == {
        "10.10.0.0/16": ("users",), "10.20.0.0/16": ("server", "users"), "10.30.0.0/16": ("server",)}
    assert all(str(r.netmask) == "255.255.0.0" for r in v.routes)
    assert v.key_dir == "/etc/frr/campusnet/vpn"
    emu = emulations["yt-dmz-vpn1"]
    assert emu is not None and emu.vpn == v  # the lab runs the same server


def test_only_the_gateway_has_a_vpn(intents: dict[str, DeviceIntent]) -> None:
    assert [n for n, it in intents.items() if it.vpn is not None] == ["yt-dmz-vpn1"]


def test_rendered_openvpn_conf(intents: dict[str, DeviceIntent], emulations: dict[str, DeviceIntent]) -> None:
    files = render_files(intents["yt-dmz-vpn1"])
    lines = files["openvpn.conf"].splitlines()
    for want in ("local 198.51.100.10", "port 1194", "proto udp4", "dev tun0", "topology subnet",
                 "server 10.40.0.0 255.255.255.0", 'push "route 10.30.0.0 255.255.0.0"',
                 'push "route 10.20.0.0 255.255.0.0"', "ca /etc/frr/campusnet/vpn/ca.crt",
                 "key /etc/frr/campusnet/vpn/cert.key", "tls-crypt /etc/frr/campusnet/vpn/tls-crypt.key",
                 "remote-cert-tls client", "writepid /etc/frr/campusnet/vpn/openvpn.pid"):
        assert want in lines, want
    assert "BEGIN" not in files["openvpn.conf"]  # paths only, never material
    # every other device: no such file at all (the render contract stays {filename: text})
    assert "openvpn.conf" not in render_files(emulations["yt-dc-leaf1"])
    assert "lab/openvpn.conf" in render_device(intents["yt-dmz-vpn1"], secrets=lambda n: "x",
                                               emulation=emulations["yt-dmz-vpn1"])


def test_missing_pool_names_the_field(snap: Snapshot) -> None:
    prefixes = tuple(p for p in snap.prefixes if p.role != "vpn-pool")
    _, errors = build_intents_collect(snap.model_copy(update={"prefixes": prefixes}))
    err = next(e for e in errors if e.device == "yt-dmz-vpn1")
    assert err.field == "prefix (role vpn-pool)" and "yuntang" in str(err)


def test_missing_public_address_names_the_field(snap: Snapshot) -> None:
    ips = tuple(ip for ip in snap.ip_addresses if not (ip.device == "yt-dmz-vpn1" and ip.role == "anycast"))
    _, errors = build_intents_collect(snap.model_copy(update={"ip_addresses": ips}))
    err = next(e for e in errors if e.device == "yt-dmz-vpn1")
    assert "anycast" in (err.field or "")


def test_port_and_proto_from_config_context(snap: Snapshot) -> None:
    devices = tuple(d.model_copy(update={"config_context": {**d.config_context, "vpn": {"port": 443, "proto": "tcp"}}})
                    if d.name == "yt-dmz-vpn1" else d for d in snap.devices)
    it = build_intents(snap.model_copy(update={"devices": devices}))["yt-dmz-vpn1"]
    assert it.vpn is not None and (it.vpn.port, it.vpn.proto) == (443, "tcp")
    assert "proto tcp4-server" in render_files(it)["openvpn.conf"]
    bad = tuple(d.model_copy(update={"config_context": {**d.config_context, "vpn": {"proto": "sctp"}}})
                if d.name == "yt-dmz-vpn1" else d for d in snap.devices)
    _, errors = build_intents_collect(snap.model_copy(update={"devices": bad}))
    assert any(e.device == "yt-dmz-vpn1" and e.field == "config_context.vpn.proto" for e in errors)


def test_egress_redistributes_provider_routes_into_ospf(intents: dict[str, DeviceIntent],
                                                       emulations: dict[str, DeviceIntent]) -> None:
    for name in ("yt-egress-cernet", "yt-egress-isp"):
        for it in (intents[name], emulations[name]):
            assert it is not None and it.ospf is not None and "bgp" in it.ospf.redistribute


# -- deploy's view ----------------------------------------------------------------------------------------------
def test_expected_addrs_hold_the_public_address_and_the_tunnel(emulations: dict[str, DeviceIntent]) -> None:
    emu = emulations["yt-dmz-vpn1"]
    assert emu is not None
    lines = expected_addrs(emu).splitlines()
    assert "lo 198.51.100.10/32" in lines and "lo 10.255.0.30/32" in lines and "tun0 10.40.0.1/24" in lines


def test_lab_target_names_material_by_path_only(emulations: dict[str, DeviceIntent], state: Path) -> None:
    t = lab_target("yt-dmz-vpn1", "10.254.0.30", emulations["yt-dmz-vpn1"])
    assert t.expected.vpn_listen == "198.51.100.10:1194/udp"
    assert t.expected.vpn_address == "tun0 10.40.0.1/24"
    mat = t.expected.vpn_material
    assert set(mat) == set(vpn.MATERIAL_FILES)
    assert all(Path(p).is_relative_to(state / "secrets" / "vpn") for p in mat.values())
    section = t.expected.vpn
    assert "conf local 198.51.100.10" in section and "daemon openvpn running" in section
    assert "material sha256=" in section and "BEGIN" not in section
    assert all("BEGIN" not in text for text in t.files.values())
    leaf = lab_target("yt-dc-leaf1", "10.254.0.21", emulations["yt-dc-leaf1"])
    assert leaf.expected.vpn == "" and not leaf.expected.vpn_material


def test_expected_vpn_is_empty_without_a_vpn(emulations: dict[str, DeviceIntent]) -> None:
    emu = emulations["yt-core-1"]
    assert emu is not None and expected_vpn(emu, render_files(emu)) == ("", {})


def test_canonical_vpn() -> None:
    text = canonical_vpn("# comment\n\nlocal 1.2.3.4\n; also a comment\nport 1194\n", True, "ab")
    assert text == "conf local 1.2.3.4\nconf port 1194\ndaemon openvpn running\nmaterial sha256=ab\n"
    assert canonical_vpn("", False, None) == ""


# -- the PKI -------------------------------------------------------------------------------------------------------
def test_pki_made_on_first_use_private_and_stable(state: Path) -> None:
    server = vpn.material("yt-dmz-vpn1", "server")
    client = vpn.material("vpn-user1", "client")
    d = state / "secrets" / "vpn"
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for p in d.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert server["ca.crt"] == client["ca.crt"] and server["cert.key"] != client["cert.key"]
    digest = vpn.material_digest(server)
    assert vpn.material_digest(vpn.material("yt-dmz-vpn1", "server")) == digest  # not made again
    with pytest.raises(Exception, match="E440"):
        vpn.material("../etc", "client")
