"""Huawei VRP 8 (CE switches, S series, NE40E): the stock hier_config VRP driver plus idempotent rules."""

from __future__ import annotations

from hier_config import Platform as HierPlatform
from hier_config.models import IdempotentCommandsRule, MatchRule, PerLineSubRule
from hier_config.platforms.driver_base import HConfigDriverBase, HConfigDriverRules
from hier_config.platforms.huawei_vrp.driver import HConfigDriverHuaweiVrp

from campusnet.platforms.base import Capabilities, Platform

# Single-valued commands: a new value replaces the old one, no `undo` of the old line first.
_VRP_IDEMPOTENT = (
    ("sysname ",),
    ("interface ", "description "),
    ("interface ", "ip address "),
    ("interface ", "port link-type "),
    ("interface ", "port default vlan "),
    ("interface ", "port trunk pvid vlan "),
    ("interface ", "mode "),
    ("ospf ", "area "),  # handled per area by the section itself
    ("bgp ", "router-id "),
    ("snmp-agent sys-info location ",),
    ("snmp-agent sys-info contact ",),
)


def idempotent_rules(paths: tuple[tuple[str, ...], ...]) -> list[IdempotentCommandsRule]:
    return [IdempotentCommandsRule(match_rules=tuple(MatchRule(startswith=p) for p in path)) for path in paths]


class HConfigDriverHuaweiVrp8(HConfigDriverHuaweiVrp):
    """Stock VRP driver + single-valued commands + `#` separators and `return` dropped."""

    @staticmethod
    def _instantiate_rules() -> HConfigDriverRules:
        rules = HConfigDriverHuaweiVrp._instantiate_rules()
        rules.idempotent_commands.extend(idempotent_rules(_VRP_IDEMPOTENT))
        rules.per_line_sub.append(PerLineSubRule(search=r"^return$", replace=""))
        rules.per_line_sub.append(PerLineSubRule(search=r"^interface NULL0$", replace=""))  # always exists
        return rules


class HuaweiVrp(Platform):
    def hier_driver(self) -> HConfigDriverBase:
        return HConfigDriverHuaweiVrp8()


HUAWEI_VRP = HuaweiVrp(
    slug="huawei-vrp",
    name="Huawei VRP 8",
    template_subdir="huawei_vrp",
    outputs=(("{host}.cfg", "main.j2"),),
    netutils_name="huawei_vrpv8",  # VRP 8 commits (two-stage); netmiko's huawei_vrpv8
    hier_config_platform=HierPlatform.HUAWEI_VRP,
    capabilities=Capabilities(evpn=True),
    svi_prefix="Vlanif",
    lag_prefix="Eth-Trunk",
    loopback_prefix="LoopBack",
    management_name="MEth0/0/0",
    ethernet_aliases=(("TenGigabitEthernet", "10GE"), ("25GigabitEthernet", "25GE"),
                      ("40GigabitEthernet", "40GE"), ("100GigabitEthernet", "100GE")),
    interface_order=("svi", "management", "lag", "ethernet", "loopback"),
)
