"""H3C Comware 7 (building access switches).

hier_config 3.7.1 has no Comware 7 driver; the closest is HP_COMWARE5 (`undo` negation). Comware 7
additionally closes sections with `quit`, separates them with `#`, and has single-valued commands.
"""

from __future__ import annotations

from hier_config import Platform as HierPlatform
from hier_config.child import HConfigChild
from hier_config.models import PerLineSubRule
from hier_config.platforms.driver_base import HConfigDriverBase, HConfigDriverRules
from hier_config.platforms.hp_comware5.driver import HConfigDriverHPComware5

from campusnet.platforms.base import Capabilities, Platform
from campusnet.platforms.huawei_vrp import idempotent_rules

_COMWARE_IDEMPOTENT = (
    ("sysname ",),
    ("interface ", "description "),
    ("interface ", "ip address "),
    ("interface ", "port link-type "),
    ("interface ", "port access vlan "),
    ("interface ", "port trunk pvid vlan "),
    ("interface ", "link-aggregation mode "),
    ("interface ", "port link-aggregation group "),
    ("vlan ", "name "),
    ("snmp-agent sys-info location ",),
    ("snmp-agent sys-info contact ",),
)


class HConfigDriverComware7(HConfigDriverHPComware5):
    """Comware 5 driver + Comware 7 habits (`quit`, `#` separators, single-valued commands)."""

    def sectional_exit(self, config: HConfigChild) -> str | None:
        result = super().sectional_exit(config)
        return "quit" if result == "exit" else result

    def swap_negation(self, child: HConfigChild) -> HConfigChild:
        # `undo description`, not `undo description <text>` (as VRP)
        if not child.text.startswith(self.negation_prefix) and child.text.startswith("description "):
            child.text = f"{self.negation_prefix}description"
            return child
        return super().swap_negation(child)

    @staticmethod
    def _instantiate_rules() -> HConfigDriverRules:
        return HConfigDriverRules(
            idempotent_commands=idempotent_rules(_COMWARE_IDEMPOTENT),
            per_line_sub=[
                PerLineSubRule(search=r"^\s*[#].*", replace=""),
                PerLineSubRule(search=r"^return$", replace=""),
                # not configuration: the software version banner; objects that always exist
                PerLineSubRule(search=r"^\s*version \d.*", replace=""),
                PerLineSubRule(search=r"^(vlan 1|interface NULL0)$", replace=""),
            ],
        )


class H3cComware(Platform):
    def hier_driver(self) -> HConfigDriverBase:
        return HConfigDriverComware7()

    def normalise_config(self, text: str) -> str:
        """Comware prints global commands indented by one space between `#` lines (` sysname X`); a
        section starts at column 0 (`interface X`). Dedent the global blocks so hier_config sees the tree."""
        out: list[str] = []
        in_section = False
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                in_section = False
                out.append(line)
            elif not line.startswith(" "):
                in_section = True
                out.append(line)
            else:
                out.append(line if in_section else line[1:])
        return "\n".join(out) + "\n"


H3C_COMWARE = H3cComware(
    slug="h3c-comware",
    name="H3C Comware 7",
    template_subdir="h3c_comware",
    outputs=(("{host}.cfg", "main.j2"),),
    netutils_name="hp_comware",  # netmiko/ntc-templates name for HP/H3C Comware
    hier_config_platform=HierPlatform.HP_COMWARE5,
    capabilities=Capabilities(evpn=False),
    svi_prefix="Vlan-interface",
    lag_prefix="Bridge-Aggregation",
    loopback_prefix="LoopBack",
    management_name="M-GigabitEthernet0/0/0",
    ethernet_aliases=(("GE", "GigabitEthernet"), ("XGE", "Ten-GigabitEthernet"),
                      ("TenGigabitEthernet", "Ten-GigabitEthernet"), ("FGE", "FortyGigE"),
                      ("HGE", "HundredGigE")),
    interface_order=("lag", "loopback", "svi", "ethernet", "management"),
)
