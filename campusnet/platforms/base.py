"""A platform is data: template dir, names for other libraries, hier_config driver, capability flags.

Code tests capability flags (``platform.capabilities.evpn``), never vendor names. A platform class
overrides a method only where the data cannot say it (e.g. Linux interface names).
"""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from hier_config import HConfig, get_hconfig, get_hconfig_driver
from hier_config import Platform as HierPlatform
from hier_config.platforms.driver_base import HConfigDriverBase
from netutils.lib_mapper import NAME_TO_LIB_MAPPER
from pydantic import BaseModel, ConfigDict

from campusnet import settings
from campusnet.errors import CampusnetError

InterfaceKind = Literal["ethernet", "lag", "loopback", "management", "svi"]

_NUM = re.compile(r"(\d+)")


@lru_cache(maxsize=65536)
def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ``GE1/0/2`` before ``GE1/0/10`` (digits compare as numbers).

    >>> sorted(["xe1-0-10", "xe1-0-2", "lo"], key=natural_key)
    ['lo', 'xe1-0-2', 'xe1-0-10']
    """
    return tuple((1, int(p)) if p.isdigit() else (0, p) for p in _NUM.split(name) if p)


class Capabilities(BaseModel):
    """What a platform can be asked to do. The intent builder refuses intent a platform cannot carry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ospf: bool = True
    bgp: bool = True
    evpn: bool = False  # BGP EVPN + VXLAN L2VNI
    vrrp: bool = True
    lacp: bool = True
    dhcp_relay: bool = True
    mgmt_vrf: bool = True  # management interface in its own VRF
    per_neighbor_bgp_timers: bool = True
    frr: bool = False  # configuration is an FRR running config (lab emulation)
    ovs: bool = False  # L2 is Open vSwitch
    vpn: bool = False  # remote-access VPN server (OpenVPN)


class Platform(BaseModel):
    """One entry of the platform registry, keyed by NetBox platform slug."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slug: str  # NetBox platform slug
    name: str
    template_subdir: str  # under templates/
    outputs: tuple[tuple[str, str], ...]  # (file name, may hold {host}; template), rendered in order
    optional_outputs: frozenset[str] = frozenset()  # file names left out when they render to nothing
    netutils_name: str  # netutils' normalised name (netmiko's), key of netutils.lib_mapper
    hier_config_platform: HierPlatform | None = None
    capabilities: Capabilities = Capabilities()
    # interface names: prefixes for the names the intent makes up, and NetBox → platform aliases
    svi_prefix: str
    lag_prefix: str
    loopback_prefix: str
    management_name: str
    ethernet_aliases: tuple[tuple[str, str], ...] = ()  # (NetBox prefix, platform prefix)
    interface_order: tuple[InterfaceKind, ...] = ("svi", "management", "lag", "ethernet", "loopback")
    comment: str = "#"  # section separator / comment character of the CLI

    # -- names for other libraries (netutils' one table; never by hand) --------------------------------
    def lib_name(self, library: str) -> str | None:
        """The platform's name in ``library`` (netmiko, napalm, pyats, ansible, scrapli, ...), or None."""
        return NAME_TO_LIB_MAPPER.get(library, {}).get(self.netutils_name)

    @property
    def netmiko(self) -> str | None:
        return self.lib_name("netmiko")

    @property
    def napalm(self) -> str | None:
        return self.lib_name("napalm")

    @property
    def pyats(self) -> str | None:
        return self.lib_name("pyats")

    @property
    def ansible(self) -> str | None:
        return self.lib_name("ansible")

    # -- templates --------------------------------------------------------------------------------------
    @property
    def template_dir(self) -> Path:
        return settings.templates_dir() / self.template_subdir

    # -- hier_config ------------------------------------------------------------------------------------
    def hier_driver(self) -> HConfigDriverBase:
        """The hier_config driver (override to add rules to the closest stock driver)."""
        if self.hier_config_platform is None:
            raise CampusnetError("E301", "no hier_config driver for this platform", obj=self.slug,
                                 field="hier_config_platform")
        return get_hconfig_driver(self.hier_config_platform)

    def normalise_config(self, text: str) -> str:
        """Text as the device prints it → text hier_config parses (override where the CLI needs it)."""
        return text

    def load_config(self, text: str) -> HConfig:
        """A running or intended configuration as a hier_config tree, with this platform's driver."""
        return get_hconfig(self.hier_driver(), self.normalise_config(text))

    # -- interface names --------------------------------------------------------------------------------
    @cached_property
    def _aliases(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(self.ethernet_aliases, key=lambda a: -len(a[0])))

    def ethernet_name(self, netbox_name: str) -> str:
        """A NetBox physical interface name in this platform's spelling."""
        for src, dst in self._aliases:
            if netbox_name.startswith(src) and netbox_name[len(src):len(src) + 1].isdigit():
                return dst + netbox_name[len(src):]
        return netbox_name

    def svi_name(self, vid: int) -> str:
        return f"{self.svi_prefix}{vid}"

    def lag_name(self, lag_id: int) -> str:
        return f"{self.lag_prefix}{lag_id}"

    def loopback_name(self, index: int) -> str:
        return f"{self.loopback_prefix}{index}"

    def interface_sort_key(self, kind: InterfaceKind, name: str) -> tuple[object, ...]:
        """The order the platform prints interfaces in its running configuration."""
        return (self.interface_order.index(kind), natural_key(name))

    # hashable so it can key caches
    def __hash__(self) -> int:
        return hash(self.slug)
