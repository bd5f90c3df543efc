"""plan_from_snapshot: NetBox constructs → lab nodes and veth links (no root, nothing is built)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from campusnet.errors import CampusnetError
from campusnet.lab import LabInterface, LabLink, LabNode, LabPlan, LinkEnd, plan_from_snapshot
from campusnet.lab.day0 import daemons_file, frr_conf, render_day0
from campusnet.sot.models import (
    Circuit,
    CircuitTermination,
    Device,
    DeviceType,
    Endpoint,
    Interface,
    Provider,
    Snapshot,
    SnapshotSource,
    VirtualChassis,
)

DT = DeviceType(manufacturer="huawei", model="CE6881", slug="ce6881")


def dev(name: str, role: str = "core", tags: tuple[str, ...] = ("lab",), **kw: Any) -> Device:
    return Device(id=abs(hash(name)) % 10**6, name=name, role=role, device_type=DT, site="ytg", status="active",
                  tags=tags, **kw)


def itf(device: str, name: str, *, peer: tuple[str, str] | None = None, type: str = "10gbase-x-sfpp",
        **kw: Any) -> Interface:
    eps = (Endpoint(kind="interface", device=peer[0], name=peer[1]),) if peer else ()
    return Interface(id=abs(hash((device, name))) % 10**6, device=device, name=name, type=type,
                     connected_endpoints=eps, link_peers=eps, cable=1 if peer else None, **kw)


def snapshot() -> Snapshot:
    devices = (
        dev("core-1", virtual_chassis="core", vc_position=1, vc_master=True, oob_ip="10.254.0.1/24",
            primary_ip4="10.255.0.1/32"),
        dev("core-2", virtual_chassis="core", vc_position=2, oob_ip="10.254.0.2/24"),
        dev("acc-1", role="access", oob_ip="10.254.0.10/24"),
        dev("r1", role="egress", oob_ip="10.254.0.20/24", bgp_asn=65001),
        dev("r2", role="egress", oob_ip="10.254.0.21/24"),
        dev("pc-1", role="test-host", oob_ip="10.254.0.100/24"),
        dev("off-1", role="access", tags=(), oob_ip="10.254.0.99/24"),  # not in the lab
    )
    interfaces = (
        # VC: one member port per chassis to the access switch's LAG
        itf("core-1", "10GE1/0/1", peer=("acc-1", "XGigabitEthernet0/0/1"), mode="tagged", tagged_vids=(110,),
            lag="Eth-Trunk1"),
        itf("core-2", "10GE2/0/1", peer=("acc-1", "XGigabitEthernet0/0/2"), mode="tagged", lag="Eth-Trunk1"),
        itf("core-1", "Eth-Trunk1", type="lag", mode="tagged"),
        itf("core-1", "Vlanif110", type="virtual", ip_addresses=("10.110.0.1/24",)),
        itf("core-1", "MEth0/0/0", type="1000base-t", mgmt_only=True, ip_addresses=("10.254.0.1/24",)),
        itf("core-1", "10GE1/0/2", peer=("r1", "GE0/0/1"), ip_addresses=("10.0.0.0/31",)),
        itf("core-1", "10GE1/0/3", peer=("off-1", "GE0/0/1")),  # to a device outside the lab: no veth
        itf("acc-1", "XGigabitEthernet0/0/1", peer=("core-1", "10GE1/0/1"), lag="Eth-Trunk1", mode="tagged"),
        itf("acc-1", "XGigabitEthernet0/0/2", peer=("core-2", "10GE2/0/1"), lag="Eth-Trunk1", mode="tagged"),
        itf("acc-1", "Eth-Trunk1", type="lag", mode="tagged"),
        itf("acc-1", "GE0/0/5", peer=("pc-1", "eth0"), mode="access", untagged_vid=110),
        itf("pc-1", "eth0", peer=("acc-1", "GE0/0/5"), ip_addresses=("10.110.0.100/24",)),
        itf("r1", "GE0/0/1", peer=("core-1", "10GE1/0/2"), ip_addresses=("10.0.0.1/31",)),
        itf("r1", "GE0/0/2", ip_addresses=("203.0.113.0/31",)),  # circuit to a provider
        itf("r1", "GE0/0/3"),  # circuit to r2 (both ends in the lab), path not traced
        itf("r2", "GE0/0/3"),
        itf("r1", "LoopBack0", type="virtual", ip_addresses=("10.255.0.20/32",)),
        itf("off-1", "GE0/0/1", peer=("core-1", "10GE1/0/3")),
    )
    circuits = (
        Circuit(id=1, cid="CT-1", provider="ct", type="internet", status="active",
                termination_a=CircuitTermination(id=1, term_side="A", link_peers=(
                    Endpoint(kind="interface", device="r1", name="GE0/0/2"),)),
                termination_z=CircuitTermination(id=2, term_side="Z", provider_network="ct/internet")),
        Circuit(id=2, cid="CT-2", provider="ct", type="p2p", status="active",
                termination_a=CircuitTermination(id=3, term_side="A", link_peers=(
                    Endpoint(kind="interface", device="r1", name="GE0/0/3"),)),
                termination_z=CircuitTermination(id=4, term_side="Z", link_peers=(
                    Endpoint(kind="interface", device="r2", name="GE0/0/3"),))),
    )
    return Snapshot(
        source=SnapshotSource(url="http://nb", read_at=datetime(2026, 1, 1, tzinfo=UTC), netbox_version="4.7.3"),
        devices=devices, interfaces=interfaces, circuits=circuits,
        virtual_chassis=(VirtualChassis(id=1, name="core", master="core-1", members=("core-1", "core-2")),),
        providers=(Provider(id=1, slug="ct", name="China Telecom", asns=(4134,)),),
    )


def test_nodes_and_kinds() -> None:
    plan = plan_from_snapshot(snapshot())
    kinds = {n.name: n.kind for n in plan.nodes}
    assert kinds == {"core": "switch", "acc-1": "switch", "r1": "router", "r2": "router", "pc-1": "host",
                     "ct": "provider"}
    core = plan.node("core")
    assert core.devices == ("core-1", "core-2")
    assert core.mgmt_ip == "10.254.0.1/24"  # the VC master's oob
    assert core.ovs and core.frr  # 802.1Q + an SVI with an address
    acc = plan.node("acc-1")
    assert acc.ovs and not acc.frr  # L2 only
    host = plan.node("pc-1")
    assert not host.frr and not host.ovs and host.daemons == ()


def test_vc_is_one_node_with_all_members_ports() -> None:
    core = plan_from_snapshot(snapshot()).node("core")
    linux = {i.linux for i in core.interfaces}
    assert {"xe1-0-1", "xe2-0-1", "xe1-0-2"} <= linux
    # LAGs, SVIs and management are not veths
    assert not any(i.netbox in {"Eth-Trunk1", "Vlanif110", "MEth0/0/0"} for i in core.interfaces)
    assert core.linux_name("core-2", "10GE2/0/1") == "xe2-0-1"
    assert core.netbox_name("xe2-0-1") == ("core-2", "10GE2/0/1")


def test_links() -> None:
    plan = plan_from_snapshot(snapshot())
    pairs = {frozenset({(lk.a.node, lk.a.iface), (lk.b.node, lk.b.iface)}): lk for lk in plan.links}
    assert frozenset({("core", "xe1-0-1"), ("acc-1", "xge0-0-1")}) in pairs
    assert frozenset({("core", "xe2-0-1"), ("acc-1", "xge0-0-2")}) in pairs
    assert frozenset({("core", "xe1-0-2"), ("r1", "ge0-0-1")}) in pairs
    assert frozenset({("acc-1", "ge0-0-5"), ("pc-1", "eth0")}) in pairs
    circ = pairs[frozenset({("r1", "ge0-0-3"), ("r2", "ge0-0-3")})]
    assert circ.circuit == "ct/CT-2"
    # nothing towards off-1 (not tagged lab)
    assert not any("off-1" in (lk.a.node, lk.b.node) for lk in plan.links)
    assert len(plan.links) == 6  # 5 above + the provider stub


def test_provider_stub() -> None:
    plan = plan_from_snapshot(snapshot())
    ct = plan.node("ct")
    assert ct.kind == "provider" and ct.asn == 4134
    assert ct.interfaces == (LabInterface(linux="eth1", netbox="ct/CT-1", address="203.0.113.1/31"),)
    assert [(p.address, p.asn) for p in ct.bgp_peers] == [("203.0.113.0", 65001)]
    assert ct.mgmt_ip == "10.254.0.253/24"  # allocated from the top, below the host's .254
    conf = frr_conf(ct)
    assert "router bgp 4134" in conf and "neighbor 203.0.113.0 remote-as 65001" in conf
    assert "neighbor 203.0.113.0 default-originate" in conf and "ip address 203.0.113.1/31" in conf
    assert any(lk.circuit == "ct/CT-1" and "ct" in (lk.a.node, lk.b.node) for lk in plan.links)


def test_deterministic() -> None:
    assert plan_from_snapshot(snapshot()) == plan_from_snapshot(snapshot())


def test_missing_oob_is_an_error_naming_the_device() -> None:
    snap = snapshot()
    devices = tuple(d.model_copy(update={"oob_ip": None}) if d.name == "r2" else d for d in snap.devices)
    with pytest.raises(CampusnetError) as exc:
        plan_from_snapshot(snap.model_copy(update={"devices": devices}))
    assert exc.value.code == "E402" and exc.value.obj == "r2"


def test_oob_outside_mgmt_prefix_is_refused() -> None:
    snap = snapshot()
    devices = tuple(d.model_copy(update={"oob_ip": "192.0.2.9/24"}) if d.name == "r2" else d for d in snap.devices)
    with pytest.raises(CampusnetError) as exc:
        plan_from_snapshot(snap.model_copy(update={"devices": devices}))
    assert exc.value.obj == "r2" and "oob_ip" in str(exc.value)


def test_plan_validation() -> None:
    n1 = LabNode(name="a", kind="router", mgmt_ip="10.254.0.1/24", interfaces=(LabInterface(linux="eth1"),))
    n2 = LabNode(name="b", kind="router", mgmt_ip="10.254.0.2/24", interfaces=(LabInterface(linux="eth1"),))
    LabPlan(nodes=(n1, n2), links=(LabLink(a=LinkEnd(node="a", iface="eth1"), b=LinkEnd(node="b", iface="eth1")),))
    with pytest.raises(ValueError, match="also used by"):
        LabPlan(nodes=(n1, n2.model_copy(update={"mgmt_ip": "10.254.0.1/24"})))
    with pytest.raises(ValueError, match="no interface"):
        LabPlan(nodes=(n1, n2), links=(LabLink(a=LinkEnd(node="a", iface="eth9"), b=LinkEnd(node="b", iface="eth1")),))
    with pytest.raises(ValueError, match="not usable"):
        LabPlan(nodes=(n1.model_copy(update={"mgmt_ip": "10.254.0.254/24"}),))
    with pytest.raises(ValueError, match=r"192\.0\.2\.0/24"):
        LabPlan(nodes=(n1,), mgmt_prefix="192.0.2.0/24", mgmt_gateway="192.0.2.254/24")
    with pytest.raises(ValueError, match="reserved"):
        LabPlan(nodes=(n1.model_copy(update={"interfaces": (LabInterface(linux="mgmt0"),)}),))


def test_day0(tmp_path: Any) -> None:
    plan = plan_from_snapshot(snapshot())
    render_day0(plan, tmp_path)
    assert (tmp_path / "r1" / "frr.conf").read_text().startswith("frr defaults traditional\nhostname r1\n")
    assert not (tmp_path / "pc-1").exists()  # hosts have no FRR
    d = daemons_file(plan.node("r1"))
    assert "bgpd=yes" in d and "ospfd=yes" in d and "vrrpd=yes" in d and "isisd=no" in d
    assert "hostname r1" in (tmp_path / "r1" / "vtysh.conf").read_text()
