"""The lab engine on this machine: real namespaces, veths, FRR, Open vSwitch and sshd (needs root).

A small hand-made plan: two FRR routers with OSPF over one veth, two OVS switches with an LACP bond of
two veths carrying a VLAN trunk, sshd on each. Configuration is pushed the way deploy does it (SSH as
root to mgmt0, `vtysh`, `ovs-vsctl`). `lab_down` must leave nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from campusnet import settings
from campusnet.lab import LabInterface, LabLink, LabNode, LabPlan, LinkEnd, lab_down, lab_status, lab_up
from campusnet.lab.engine import ssh_dir
from campusnet.procs import pid_alive

pytestmark = pytest.mark.lab

if os.geteuid() != 0 or not shutil.which("vtysh") or not shutil.which("ovs-vswitchd"):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise RuntimeError("the lab tests need root, FRR and Open vSwitch on CI")
    pytest.skip("needs root, FRR and Open vSwitch", allow_module_level=True)


def small_plan() -> LabPlan:
    def li(n: str) -> LabInterface:
        return LabInterface(linux=n, netbox=n)

    return LabPlan(nodes=(
        LabNode(name="t-r1", kind="router", mgmt_ip="10.254.0.241/24", interfaces=(li("eth1"),)),
        LabNode(name="t-r2", kind="router", mgmt_ip="10.254.0.242/24", interfaces=(li("eth1"),)),
        LabNode(name="t-s1", kind="switch", mgmt_ip="10.254.0.243/24", ovs=True, frr=False, daemons=(),
                interfaces=(li("xe1-0-1"), li("xe1-0-2"))),
        LabNode(name="t-s2", kind="switch", mgmt_ip="10.254.0.244/24", ovs=True, frr=False, daemons=(),
                interfaces=(li("xe1-0-1"), li("xe1-0-2"))),
    ), links=(
        LabLink(a=LinkEnd(node="t-r1", iface="eth1"), b=LinkEnd(node="t-r2", iface="eth1")),
        LabLink(a=LinkEnd(node="t-s1", iface="xe1-0-1"), b=LinkEnd(node="t-s2", iface="xe1-0-1")),
        LabLink(a=LinkEnd(node="t-s1", iface="xe1-0-2"), b=LinkEnd(node="t-s2", iface="xe1-0-2")),
    ))


def ssh(node: str, command: str, timeout: float = 20) -> str:
    cfg = ssh_dir() / "config"
    proc = subprocess.run(["ssh", "-F", str(cfg), "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", node, command],
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"ssh {node} {command!r}: {proc.stderr}"
    return proc.stdout


def netns(node: str, *argv: str) -> str:
    return subprocess.run(["ip", "netns", "exec", f"cn-{node}", *argv], capture_output=True, text=True,
                          check=True, timeout=30).stdout


def wait(pred, timeout: float, what, detail=None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s: {what}" + (f"\n{detail()}" if detail else ""))


@pytest.fixture(scope="module")
def lab() -> Iterator[dict[str, object]]:
    # a state directory of its own (under the checkout: sshd's StrictModes refuses world-writable /tmp)
    state = settings.state_dir() / "pytest-lab"
    old = os.environ.get("CAMPUSNET_STATE")
    os.environ["CAMPUSNET_STATE"] = str(state)
    try:
        lab_down()  # leftovers of an interrupted run
        t0 = time.monotonic()
        res = lab_up(small_plan())
        info: dict[str, object] = {"up_s": time.monotonic() - t0, "result": res}
        print(f"\n[lab] small plan up in {info['up_s']:.2f} s: {res.seconds}")
        yield info
    finally:
        try:
            lab_down()
        finally:
            if old is None:
                os.environ.pop("CAMPUSNET_STATE", None)
            else:
                os.environ["CAMPUSNET_STATE"] = old
            shutil.rmtree(state, ignore_errors=True)


def test_up_is_idempotent(lab: dict[str, object]) -> None:
    res = lab_up(small_plan())
    assert res.started == [] and sorted(res.kept) == ["t-r1", "t-r2", "t-s1", "t-s2"]


def test_status_all_healthy(lab: dict[str, object]) -> None:
    st = lab_status()
    assert all(n.healthy for n in st.nodes), [n for n in st.nodes if not n.healthy]
    assert len(st.links) == 3 and all(lk.up for lk in st.links)
    print(f"\n[lab] small plan: RSS {st.rss_mib} MiB, PSS {st.pss_mib} MiB for {len(st.nodes)} nodes")


def test_ssh_with_generated_key_lands_in_the_node(lab: dict[str, object]) -> None:
    assert ssh("t-r1", "hostname").strip() == "t-r1"
    assert "FRRouting" in ssh("t-r1", "vtysh -c 'show version'")
    # the session sees the node's own OVS without any setup
    assert ssh("t-s1", "ovs-vsctl show").strip()
    key = ssh_dir() / "id_ed25519"
    assert key.stat().st_mode & 0o777 == 0o600
    assert not Path(settings.REPO_ROOT, "id_ed25519").exists()


def test_ospf_over_veth(lab: dict[str, object]) -> None:
    for n, (addr, lo) in {1: ("10.9.0.0/31", "10.255.9.1"), 2: ("10.9.0.1/31", "10.255.9.2")}.items():
        ssh(f"t-r{n}", "vtysh -c 'conf t' -c 'interface lo' -c 'ip address {lo}/32' -c 'interface eth1' "
            f"-c 'ip address {addr}' -c 'ip ospf network point-to-point' -c 'ip ospf hello-interval 1' "
            f"-c 'ip ospf dead-interval 4' -c 'router ospf' -c 'ospf router-id {lo}' "
            f"-c 'timers throttle spf 0 50 500' -c 'network 10.9.0.0/31 area 0' -c 'network {lo}/32 area 0'"
            .format(lo=lo, addr=addr))

    def full() -> bool:
        out = json.loads(netns("t-r1", "vtysh", "-c", "show ip ospf neighbor json"))
        nbrs = out.get("neighbors", {}).get("10.255.9.2", [])
        return any(str(x.get("nbrState", x.get("state", ""))).startswith("Full") for x in nbrs)

    t0 = time.monotonic()
    wait(full, 20, "OSPF neighbour Full on t-r1")
    print(f"\n[lab] OSPF Full {time.monotonic() - t0:.2f} s after configuration")

    def routed() -> bool:
        routes = json.loads(netns("t-r1", "vtysh", "-c", "show ip route 10.255.9.2/32 json"))
        return bool(routes.get("10.255.9.2/32", [{}])[0].get("protocol") == "ospf")

    wait(routed, 15, "t-r2's loopback learnt by OSPF on t-r1",
         lambda: netns("t-r1", "vtysh", "-c", "show ip route") + netns("t-r1", "vtysh", "-c", "show ip ospf database"))


def test_lacp_bond_and_vlan_trunk(lab: dict[str, object]) -> None:
    for n in (1, 2):
        ssh(f"t-s{n}", "ovs-vsctl --may-exist add-br br0 -- set bridge br0 datapath_type=netdev "
            "-- --may-exist add-bond br0 ag1 xe1-0-1 xe1-0-2 bond_mode=balance-tcp lacp=active "
            "other_config:lacp-time=fast trunks=10,20 "
            "-- --may-exist add-port br0 vlan10 tag=10 -- set interface vlan10 type=internal "
            f"&& ip addr replace 10.10.0.{n}/24 dev vlan10 && ip link set vlan10 up")

    def bundled() -> bool:
        out = ssh("t-s1", "ovs-appctl bond/show ag1")
        return "lacp_status: negotiated" in out and out.count(": enabled") == 2

    t0 = time.monotonic()
    wait(bundled, 20, "LACP bundle ag1 negotiated with both members enabled")
    print(f"\n[lab] LACP negotiated {time.monotonic() - t0:.2f} s after configuration")
    lacp = ssh("t-s2", "ovs-appctl lacp/show ag1")
    assert "xe1-0-1" in lacp and "xe1-0-2" in lacp
    # VLAN 10 across the bond: a TCP connection from t-s1's SVI to a listener on t-s2's SVI
    server = subprocess.Popen(["ip", "netns", "exec", "cn-t-s2", sys.executable, "-c",
                               "import socket;s=socket.create_server(('10.10.0.2',7777));s.settimeout(20);"
                               "c,_=s.accept();c.sendall(b'vlan10-ok')"])
    try:
        code = ("import socket,time\nfor i in range(100):\n    try:\n"
                "        c=socket.create_connection(('10.10.0.2',7777),timeout=1);print(c.recv(20).decode());break\n"
                "    except OSError: time.sleep(0.2)\n")
        assert netns("t-s1", sys.executable, "-c", code).strip() == "vlan10-ok"
    finally:
        server.wait(timeout=25)


def test_vtysh_via_ip_netns_exec_sees_the_node(lab: dict[str, object]) -> None:
    out = netns("t-r2", "vtysh", "-c", "show running-config")
    assert "hostname t-r2" in out


def test_down_leaves_nothing(lab: dict[str, object]) -> None:
    recorded: list[int] = []
    st = lab_status()
    for n in st.nodes:
        recorded += [p for p in n.pids.values() if p] + ([n.holder] if n.holder else [])
    assert recorded
    lab_down()
    nss = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert not [x for x in nss.split() if x.startswith("cn-t-")]
    links = json.loads(subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True,
                                      check=True).stdout)
    mine = [lk["ifname"] for lk in links if lk["ifname"].startswith("cnm") and lk["ifname"] != "cnmgmt"]
    assert not mine
    time.sleep(0.2)
    assert not [p for p in recorded if pid_alive(p)]
    assert not lab_status().running
