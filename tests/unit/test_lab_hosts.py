"""Test hosts in the lab plan: addresses and the derived default gateway; VPN clients; provider stubs'
test addresses (no root, nothing is built)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from campusnet.errors import CampusnetError
from campusnet.lab import plan_from_snapshot
from campusnet.lab.day0 import frr_conf, host_script, openvpn_client_conf, provider_script
from campusnet.lab.plan import LabRoute, campus_private_prefixes, host_gateway
from campusnet.sot.models import (
    Circuit,
    CircuitTermination,
    Device,
    DeviceType,
    Endpoint,
    FHRPGroup,
    Interface,
    IPAddress,
    Prefix,
    Provider,
    Snapshot,
    SnapshotSource,
)

DT = DeviceType(manufacturer="x", model="x", slug="x")
CAMPUS = Path(__file__).resolve().parent.parent / "fixtures" / "snapshots" / "campus.json"


def dev(name: str, role: str, **kw: Any) -> Device:
    kw.setdefault("tags", ("lab",))
    return Device(id=abs(hash(name)) % 10**6, name=name, role=role, device_type=DT, site="s", status="active", **kw)


def itf(device: str, name: str, *, peer: tuple[str, str] | None = None, type: str = "1000base-t",
        **kw: Any) -> Interface:
    eps = (Endpoint(kind="interface", device=peer[0], name=peer[1]),) if peer else ()
    return Interface(id=abs(hash((device, name))) % 10**6, device=device, name=name, type=type,
                     connected_endpoints=eps, link_peers=eps, cable=1 if peer else None, **kw)


def ip(n: int, address: str, **kw: Any) -> IPAddress:
    return IPAddress(id=n, address=address, status="active", **kw)


def snapshot(*, fhrp: bool = False, svi: bool = True, host_ip: str | None = "10.1.0.100/24",
             vpn_tag: bool = True, anycast: bool = True) -> Snapshot:
    devices = (
        dev("core", "core-switch", oob_ip="10.254.0.1/24", primary_ip4="10.255.0.1/32"),
        dev("gw", "vpn-gateway", oob_ip="10.254.0.2/24", primary_ip4="10.255.0.2/32", bgp_asn=65200),
        dev("edge", "egress-router", oob_ip="10.254.0.3/24", primary_ip4="10.255.0.3/32", bgp_asn=64500),
        dev("pc", "test-host", oob_ip="10.254.0.100/24", tags=("lab", "building-user")),
        dev("remote", "test-host", oob_ip="10.254.0.101/24", primary_ip4="203.0.113.8/31",
            tags=("lab", "vpn-user") if vpn_tag else ("lab",)),
    )
    interfaces = (
        itf("core", "ge1", peer=("pc", "eth0"), mode="access", untagged_vid=10),
        itf("core", "vlan10", type="virtual", untagged_vid=10, ip_addresses=("10.1.0.2/24",) if svi else ()),
        itf("pc", "eth0", peer=("core", "ge1"), ip_addresses=(host_ip,) if host_ip else ()),
        itf("gw", "lo", type="virtual"),
        itf("gw", "eth0"),
        itf("edge", "ge2", ip_addresses=("203.0.113.2/31",)),
        itf("remote", "eth0", ip_addresses=("203.0.113.8/31",)),
    )
    ips = [ip(1, "10.255.0.2/32", device="gw", interface="lo", role="loopback")]
    if anycast:
        ips.append(ip(2, "198.51.100.10/32", device="gw", interface="lo", role="anycast"))
    ips += [ip(3, "203.0.113.202/32", tenant="ct", role="anycast", tags=("provider-test",)),
            ip(4, "203.0.113.201/32", tenant="cernet", role="anycast", tags=("provider-test",)),
            ip(5, "10.1.0.3/24", device="core", interface="vlan10", role="vrrp")]  # not a gateway by itself
    groups = (FHRPGroup(id=1, protocol="vrrp3", group_id=10, vips=("10.1.0.1/24",)),) if fhrp else ()
    circuits = (
        Circuit(id=1, cid="CT-INET", provider="ct", type="internet", status="active", tags=("lab",),
                termination_a=CircuitTermination(id=1, term_side="A", link_peers=(
                    Endpoint(kind="interface", device="edge", name="ge2"),))),
        Circuit(id=2, cid="CT-BB", provider="ct", type="broadband", status="active", tags=("lab",),
                termination_a=CircuitTermination(id=2, term_side="A", link_peers=(
                    Endpoint(kind="interface", device="remote", name="eth0"),))),
    )
    prefixes = (
        Prefix(id=1, prefix="10.1.0.0/16", status="container", role="users"),
        Prefix(id=2, prefix="10.254.0.0/24", vrf="mgmt", status="active", role="management"),
        Prefix(id=3, prefix="198.51.100.0/24", status="active", role="public"),
        Prefix(id=4, prefix="10.255.0.0/24", status="active", role="loopback"),
    )
    return Snapshot(
        source=SnapshotSource(url="http://nb", read_at=datetime(2026, 1, 1, tzinfo=UTC), netbox_version="4.7.3"),
        devices=devices, interfaces=interfaces, ip_addresses=tuple(ips), fhrp_groups=groups, circuits=circuits,
        prefixes=prefixes, providers=(Provider(id=1, slug="ct", name="China Telecom", asns=(64497,)),),
    )


# -- the gateway rule ----------------------------------------------------------------------------------------
def test_host_gets_its_address_and_the_svi_as_gateway() -> None:
    pc = plan_from_snapshot(snapshot()).node("pc")
    assert pc.kind == "host" and [(i.linux, i.address) for i in pc.interfaces] == [("eth0", "10.1.0.100/24")]
    assert (pc.gateway, pc.gateway_iface) == ("10.1.0.2", "eth0")  # the SVI; the vrrp-role IP is not one


def test_fhrp_virtual_ip_wins_over_the_svi() -> None:
    assert plan_from_snapshot(snapshot(fhrp=True)).node("pc").gateway == "10.1.0.1"


def test_host_on_a_circuit_routes_by_the_provider_stub() -> None:
    plan = plan_from_snapshot(snapshot())
    remote = plan.node("remote")
    assert remote.gateway == "203.0.113.9"
    stub = plan.node("ct")
    assert "203.0.113.9/31" in {i.address for i in stub.interfaces}  # the stub holds that address


def test_gateway_helper_directly() -> None:
    snap = snapshot(fhrp=True)
    assert host_gateway(snap, "pc", "eth0", "10.1.0.100/24", on_circuit=False) == "10.1.0.1"
    assert host_gateway(snap, "remote", "eth0", "203.0.113.8/31", on_circuit=True) == "203.0.113.9"
    with pytest.raises(CampusnetError) as exc:
        host_gateway(snap, "remote", "eth0", "203.0.113.8/24", on_circuit=True)
    assert exc.value.code == "E408"


def test_host_without_address_is_e407() -> None:
    with pytest.raises(CampusnetError) as exc:
        plan_from_snapshot(snapshot(host_ip=None))
    assert exc.value.code == "E407" and exc.value.obj == "pc" and exc.value.field == "interfaces.ip_addresses"


def test_host_without_derivable_gateway_is_e408() -> None:
    with pytest.raises(CampusnetError) as exc:
        plan_from_snapshot(snapshot(svi=False))
    assert exc.value.code == "E408" and exc.value.obj == "pc" and "10.1.0.0/24" in exc.value.message


def test_host_day0_script() -> None:
    text = host_script(plan_from_snapshot(snapshot()).node("pc"))
    assert text.splitlines() == ["set -e", "ip link set eth0 up", "ip addr replace 10.1.0.100/24 dev eth0",
                                 "ip route replace default via 10.1.0.2 dev eth0"]


# -- VPN client ------------------------------------------------------------------------------------------------
def test_vpn_user_gets_a_client_towards_the_gateways_public_address(tmp_path: Path) -> None:
    remote = plan_from_snapshot(snapshot()).node("remote")
    c = remote.vpn_client
    assert c is not None and (c.gateway, c.remote, c.port, c.proto, c.device) == (
        "gw", "198.51.100.10", 1194, "udp", "tun0")
    conf = openvpn_client_conf(remote, tmp_path, pid_file=tmp_path / "p", log_file=tmp_path / "l")
    lines = conf.splitlines()
    assert "client" in lines and "remote 198.51.100.10 1194" in lines and "dev tun0" in lines
    assert "verify-x509-name gw name" in lines and "remote-cert-tls server" in lines
    assert any(ln.startswith("connect-retry") for ln in lines)
    assert f"key {tmp_path / 'cert.key'}" in lines  # by path: no key material in the config
    assert "BEGIN" not in conf
    assert plan_from_snapshot(snapshot()).node("pc").vpn_client is None


def test_vpn_user_without_public_gateway_address_is_e409() -> None:
    with pytest.raises(CampusnetError) as exc:
        plan_from_snapshot(snapshot(anycast=False))
    assert exc.value.code == "E409" and exc.value.obj == "gw"


def test_no_vpn_client_without_the_tag() -> None:
    assert plan_from_snapshot(snapshot(vpn_tag=False)).node("remote").vpn_client is None


# -- provider stubs: test addresses, customers, the way back -------------------------------------------------------
def test_provider_stub_carries_and_announces_its_test_addresses() -> None:
    stub = plan_from_snapshot(snapshot()).node("ct")
    assert stub.loopbacks == ("203.0.113.202/32",)  # tenant == provider slug; CERNET's is not ours
    assert stub.announce == ("203.0.113.202/32", "203.0.113.8/31")  # + the broadband customer's subnet
    assert [p.address for p in stub.bgp_peers] == ["203.0.113.2"]
    # no NAT in the lab: the campus's private space goes back to the campus peer (not the mgmt VRF)
    assert stub.routes == (LabRoute(prefix="10.1.0.0/16", via="203.0.113.2"),
                           LabRoute(prefix="10.255.0.0/24", via="203.0.113.2"))
    # ... for replies to the campus only: its customer (the off-campus host) is refused them
    assert stub.customer_ifaces == ("eth1",)
    script = provider_script(stub).splitlines()
    assert "ip rule add iif eth1 to 10.1.0.0/16 prohibit priority 100" in script
    assert "ip rule add iif eth1 to 10.255.0.0/24 prohibit priority 100" in script
    conf = frr_conf(stub)
    assert "interface lo\n ip address 203.0.113.202/32\nexit" in conf
    assert "  network 203.0.113.202/32\n  network 203.0.113.8/31\n" in conf
    assert "ip route 10.1.0.0/16 203.0.113.2" in conf


def test_private_prefixes_are_rfc1918_only() -> None:
    assert campus_private_prefixes(snapshot()) == ["10.1.0.0/16", "10.255.0.0/24"]


# -- the shipped campus ----------------------------------------------------------------------------------------------
@pytest.mark.skipif(not CAMPUS.exists(), reason="no recorded campus snapshot")
def test_campus_hosts() -> None:
    plan = plan_from_snapshot(Snapshot.load(CAMPUS))
    user, srv, vpn = plan.node("jpl-b01-user1"), plan.node("yt-dc-testsrv1"), plan.node("vpn-user1")
    assert (user.gateway, user.interfaces[0].address) == ("10.20.1.1", "10.20.1.100/24")  # core SVI
    assert (srv.gateway, srv.interfaces[0].address) == ("10.30.10.1", "10.30.10.50/24")  # dc-web VRRP VIP
    assert (vpn.gateway, vpn.interfaces[0].address) == ("203.0.113.9", "203.0.113.8/31")  # China Telecom stub
    assert vpn.vpn_client is not None and vpn.vpn_client.remote == "198.51.100.10"
    assert vpn.vpn_client.gateway == "yt-dmz-vpn1"
    assert plan.node("cernet").loopbacks == ("203.0.113.201/32",)
    assert plan.node("china-telecom").loopbacks == ("203.0.113.202/32",)
    assert plan.node("china-unicom").loopbacks == ("203.0.113.203/32",)
