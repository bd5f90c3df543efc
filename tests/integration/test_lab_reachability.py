"""What the lab must prove, end to end from the live NetBox: a building user reaches the DC server and every
provider test address beyond the egress; the off-campus VPN user reaches the DC server *through the VPN*
(OpenVPN client on the test host, server deployed on the gateway) and not around it.

Root, the local NetBox and about 2 to 3 minutes: snapshot → ``lab up`` → ``deploy --commit`` → ``verify --check
reachability``. The lab is always torn down at the end.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from campusnet import settings
from campusnet.settings import NetBoxTarget

pytestmark = pytest.mark.lab
CLI = [sys.executable, "-m", "campusnet"]


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False)


def netns(node: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", f"cn-{node}", *argv], capture_output=True, text=True,
                          timeout=30, check=False)


@pytest.fixture(scope="module")
def deployed_lab(netbox: NetBoxTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    snap = tmp_path_factory.mktemp("reach") / "campus.json"
    try:
        r = cli("snapshot", "--out", str(snap))
        assert r.returncode == 0, r.stdout + r.stderr
        r = cli("lab", "up", "--snapshot", str(snap))
        assert r.returncode == 0, r.stdout + r.stderr
        r = cli("deploy", "--snapshot", str(snap), "--commit")
        assert r.returncode == 0, r.stdout + r.stderr
        yield snap
    finally:
        cli("lab", "down")


def test_reachability_through_the_vpn(deployed_lab: Path) -> None:
    r = cli("verify", "--snapshot", str(deployed_lab), "--check", "reachability")
    data = json.loads((settings.state_dir() / "verify" / "latest.json").read_text())
    checks = [c for c in data["checks"] if c["check"] == "reachability"]
    failed = [c["message"] for c in checks if not c["passed"]]
    assert r.returncode == 0 and not failed, failed or r.stdout[-2000:]
    by_src: dict[str, list[str]] = {}
    for c in checks:
        by_src.setdefault(c["device"], []).append(c["subject"])
    # building user → the DC server and the three provider test addresses; VPN user → the DC server
    assert sorted(by_src["jpl-b01-user1"]) == ["10.30.10.50", "203.0.113.201", "203.0.113.202", "203.0.113.203"]
    assert by_src["vpn-user1"] == ["10.30.10.50"]
    vpn = next(c for c in checks if c["device"] == "vpn-user1")
    assert "via vpn (tun0)" in vpn["message"]


def test_the_tunnel_is_the_only_way(deployed_lab: Path) -> None:
    out = json.loads(netns("vpn-user1", "ip", "-j", "addr", "show", "dev", "tun0").stdout or "[]")
    addrs = [a["local"] for x in out for a in x.get("addr_info", []) if a.get("family") == "inet"]
    assert addrs and ipaddress.ip_address(addrs[0]) in ipaddress.ip_network("10.40.0.0/24")  # the NetBox pool
    assert "10.30.0.0/16 via 10.40.0.1 dev tun0" in netns("vpn-user1", "ip", "route").stdout  # pushed route
    around = netns("vpn-user1", "ping", "-n", "-c", "2", "-W", "1", "-I", "eth0", "10.30.10.50")
    assert around.returncode != 0  # the provider does not carry its customer into the campus's private space
    public = netns("vpn-user1", "ping", "-n", "-c", "2", "-W", "1", "-I", "eth0", "198.51.100.10")
    assert public.returncode == 0  # but the VPN's public address is on the Internet
