"""Interface-name mapping for the lab: deterministic, ≤ 15 characters, unique per node, reversible."""

from __future__ import annotations

import doctest

import pytest

import campusnet.lab.names as names
from campusnet.errors import CampusnetError
from campusnet.lab.names import ifname_map, linux_ifname, mgmt_peer_name, node_slug, valid_linux_ifname
from campusnet.platforms.linux_frr import linux_ifname as platform_ifname


def test_doctests() -> None:
    assert doctest.testmod(names).failed == 0


@pytest.mark.parametrize(("netbox", "linux"), [
    ("10GE1/0/1", "xe1-0-1"),
    ("10GE2/0/48", "xe2-0-48"),
    ("Ten-GigabitEthernet1/0/49", "xge1-0-49"),
    ("GigabitEthernet1/0/24", "ge1-0-24"),
    ("GE1/0/1", "ge1-0-1"),
    ("100GE1/0/1", "hu1-0-1"),
    ("eth0", "eth0"),
    ("swp12", "swp12"),
])
def test_known_names(netbox: str, linux: str) -> None:
    assert linux_ifname(netbox) == linux


def test_same_as_platform_mapping() -> None:
    """The veths carry exactly the names the linux-frr templates render."""
    for n in ("10GE1/0/1", "Ten-GigabitEthernet2/0/50", "GE1/0/3", "eth7", "40GE1/0/2"):
        assert linux_ifname(n) == platform_ifname(n)


@pytest.mark.parametrize("netbox", ["Ten-GigabitEthernet1001/10/100:4", "HundredGigE1/0/1/3:2/extra",
                                    "Port Channel 10 of building A", "1/0/1"])
def test_unmappable_names_hash_deterministically(netbox: str) -> None:
    a = linux_ifname(netbox, device="sw1")
    assert valid_linux_ifname(a) and len(a) <= 15
    assert linux_ifname(netbox, device="sw1") == a
    assert linux_ifname(netbox, device="sw2") != a  # the device is part of the hash


def test_map_collisions_get_hashed_independent_of_order() -> None:
    pairs = [("core-1", "GE1/0/1"), ("core-2", "GE1/0/1"), ("core-1", "GE1/0/2")]
    m1 = ifname_map(pairs, node="core")
    m2 = ifname_map(list(reversed(pairs)), node="core")
    assert m1 == m2
    assert m1[("core-1", "GE1/0/2")] == "ge1-0-2"
    assert m1[("core-1", "GE1/0/1")] != m1[("core-2", "GE1/0/1")]
    assert all(valid_linux_ifname(v) for v in m1.values())
    assert len(set(m1.values())) == len(m1)


def test_map_vc_members_keep_readable_names() -> None:
    m = ifname_map([("c-1", "10GE1/0/1"), ("c-2", "10GE2/0/1")], node="c")
    assert sorted(m.values()) == ["xe1-0-1", "xe2-0-1"]


def test_map_refuses_impossible_collision(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(names, "_hashed", lambda prefix, key: "same")
    with pytest.raises(CampusnetError) as exc:
        ifname_map([("a", "GE1/0/1"), ("b", "GE1/0/1")], node="n")
    assert exc.value.code == "E403" and "n" in str(exc.value)


def test_host_side_names() -> None:
    p = mgmt_peer_name("jpl-core")
    assert p.startswith("cnm") and len(p) <= 15 and p == mgmt_peer_name("jpl-core")
    assert names.HOST_LINK_RE.match(p)
    assert node_slug("JPL Core/1") == "jpl-core-1"
