"""Names and small pure helpers shared by the area builders."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Interface, ip_interface

from campusnet.intent.models import VlanRange

CONFIGURED_STATUSES = frozenset({"active", "staged"})
#: roles that are not configured network devices (the lab builds test hosts itself)
UNCONFIGURED_ROLES = frozenset({"test-host"})
#: a device of this role announces the ``POOL_PREFIX_ROLE`` prefixes of its site (e.g. the VPN staff pool)
POOL_DEVICE_ROLE = "vpn-gateway"
POOL_PREFIX_ROLE = "vpn-pool"
#: prefixes of this role are what the egress announces to providers (and nothing else)
PUBLIC_PREFIX_ROLE = "public"
#: prefix roles whose prefixes a VPN gateway offers its clients (config context `vpn.route_roles` overrides):
#: the DC server prefixes and the campus user prefixes
VPN_ROUTE_ROLES = ("server", "users")
PROVIDER_OUT_PREFIX_LIST = "CN-TO-PROVIDER"
SECONDARY_IP_ROLES = frozenset({"anycast", "vip"})
#: VLAN roles whose gateways do not relay DHCP unless `services.dhcp_relay.vlan_roles` says otherwise
NO_RELAY_VLAN_ROLES = frozenset({"server", "management"})
CONNECTED_CABLE_STATUSES = frozenset({"connected"})
OSPF_TAG = "ospf"
LAB_TAG = "lab"
L2VPN_VXLAN_TYPES = frozenset({"vxlan-evpn"})
DIGITS = re.compile(r"(\d+)$")
LOOPBACK_NAME = re.compile(r"^(lo|loopback|LoopBack|Loopback)(\d*)$")


def vlan_ranges(vids: Iterable[int]) -> tuple[VlanRange, ...]:
    """Compact VLAN ids into ranges.

    >>> [(r.start, r.end) for r in vlan_ranges([30, 10, 11, 12, 20])]
    [(10, 12), (20, 20), (30, 30)]
    """
    out: list[VlanRange] = []
    start = prev = None
    for vid in sorted(set(vids)):
        if start is None:
            start = prev = vid
        elif prev is not None and vid == prev + 1:
            prev = vid
        else:
            out.append(VlanRange(start=start, end=prev if prev is not None else start))
            start = prev = vid
    if start is not None:
        out.append(VlanRange(start=start, end=prev if prev is not None else start))
    return tuple(out)


def other_host(iface: IPv4Interface) -> IPv4Address | None:
    """The other address of a point-to-point subnet (/31 or /30), or None for larger subnets.

    >>> other_host(IPv4Interface("10.0.0.0/31")), other_host(IPv4Interface("10.0.0.2/30"))
    (IPv4Address('10.0.0.1'), IPv4Address('10.0.0.1'))
    """
    net = iface.network
    if net.prefixlen == 31:
        return net[1] if iface.ip == net[0] else net[0]
    if net.prefixlen == 30:
        return net[2] if iface.ip == net[1] else net[1]
    return None


def ospf_area(value: str | int) -> str:
    """Dotted area id. ``ospf_area(0) == '0.0.0.0'``, ``ospf_area('0.0.0.1') == '0.0.0.1'``."""
    if isinstance(value, int) or str(value).isdigit():
        return str(IPv4Address(int(value)))
    return str(IPv4Address(str(value)))


@lru_cache(maxsize=262144)
def _parse_if(address: str) -> IPv4Interface | None:
    i = ip_interface(address)
    return i if isinstance(i, IPv4Interface) else None


def v4(addresses: Iterable[str]) -> list[IPv4Interface]:
    """The IPv4 interfaces among ``addresses`` (IPv6 is not rendered: the campus is IPv4 today)."""
    out: list[IPv4Interface] = []
    for a in addresses:
        i = _parse_if(a)
        if i is not None:
            out.append(i)
    return out
