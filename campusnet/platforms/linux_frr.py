"""FRRouting 8.4 on Linux with Open vSwitch: the VPN gateway, and the lab emulation of every lab device.

Linux interface names are at most 15 characters: NetBox names are mapped by :func:`linux_ifname`
(`10GE1/0/1` → `xe1-0-1`, `Ten-GigabitEthernet1/0/49` → `xge1-0-49`). The lab builds its veths with
the same function, so a cable's two veth ends carry the names the rendered files use.
"""

from __future__ import annotations

import re

from campusnet.errors import CampusnetError
from campusnet.platforms.base import Capabilities, InterfaceKind, Platform, natural_key

LINUX_IFNAMSIZ = 15

# NetBox interface-name prefix → short Linux prefix (longest match first)
_LINUX_PREFIXES = (
    ("Ten-GigabitEthernet", "xge"), ("XGigabitEthernet", "xge"), ("TenGigabitEthernet", "xge"),
    ("M-GigabitEthernet", "mge"), ("GigabitEthernet", "ge"), ("FortyGigE", "fge"), ("HundredGigE", "hge"),
    ("100GE", "hu"), ("40GE", "fo"), ("25GE", "tf"), ("10GE", "xe"), ("XGE", "xge"), ("GE", "ge"),
    ("MEth", "meth"), ("Ethernet", "eth"), ("eth", "eth"), ("ens", "ens"), ("enp", "enp"), ("swp", "swp"),
)
_SEP = re.compile(r"[/:]")
_VALID = re.compile(r"^[A-Za-z0-9_.\-]+$")


def linux_ifname(netbox_name: str) -> str:
    """The Linux (veth) name of a NetBox physical interface.

    >>> linux_ifname("10GE1/0/1")
    'xe1-0-1'
    >>> linux_ifname("Ten-GigabitEthernet2/0/49")
    'xge2-0-49'
    >>> linux_ifname("eth0")
    'eth0'
    """
    name = netbox_name
    for src, dst in _LINUX_PREFIXES:
        if netbox_name.startswith(src) and netbox_name[len(src):len(src) + 1].isdigit():
            name = dst + netbox_name[len(src):]
            break
    name = _SEP.sub("-", name)
    if len(name) > LINUX_IFNAMSIZ or not _VALID.match(name):
        raise CampusnetError("E302", f"cannot map to a Linux interface name (≤{LINUX_IFNAMSIZ} chars): {name!r}",
                             obj=netbox_name, field="name")
    return name


class LinuxFrr(Platform):
    def ethernet_name(self, netbox_name: str) -> str:
        return linux_ifname(netbox_name)

    def loopback_name(self, index: int) -> str:
        return "lo"

    def interface_sort_key(self, kind: InterfaceKind, name: str) -> tuple[object, ...]:
        # FRR prints interfaces ordered by name (if_cmp_name_func: digits compare as numbers)
        return (natural_key(name),)


LINUX_FRR = LinuxFrr(
    slug="linux-frr",
    name="FRRouting 8.4 + Open vSwitch on Linux",
    template_subdir="linux_frr",
    outputs=(("frr.conf", "main.j2"), ("ovs.sh", "ovs.sh.j2"), ("net.sh", "net.sh.j2"),
             ("openvpn.conf", "openvpn.conf.j2")),
    optional_outputs=frozenset({"openvpn.conf"}),  # only devices with a VPN (intent.vpn) have one
    netutils_name="linux",
    hier_config_platform=None,  # FRR diffs come from frr-reload.py, not hier_config
    capabilities=Capabilities(evpn=True, dhcp_relay=False, mgmt_vrf=False, frr=True, ovs=True, vpn=True),
    svi_prefix="vlan",
    lag_prefix="bond",
    loopback_prefix="lo",
    management_name="mgmt0",
    comment="!",
)
