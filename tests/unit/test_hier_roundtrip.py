"""hier_config round trip for VRP and Comware 7 (hier_config's tests/circular idea):

baseline (a factory-ish running config) + intended (rendered) → remediation; the baseline with the
remediation applied (hier_config's ``future``) is exactly the intended config, and the rollback brings it
back to the baseline. Also: intended vs itself needs no remediation.
"""

from __future__ import annotations

import pytest
from hier_config import HConfig, WorkflowRemediation

from campusnet.intent import DeviceIntent
from campusnet.platforms import get_platform
from campusnet.render import render_device

VRP_FACTORY = """\
!Software Version V200R005C10SPC607B607
!Last configuration was updated at 2026-01-01 00:00:00+08:00
#
sysname HUAWEI
#
vlan batch 10
#
info-center loghost 192.0.2.99
#
aaa
 local-user admin password irreversible-cipher $1c$xyz$
 local-user admin service-type terminal ssh
 domain default_admin
#
interface Vlanif10
 ip address 192.168.10.1 255.255.255.0
#
interface MEth0/0/0
 ip address 192.168.1.253 255.255.255.0
#
interface 10GE1/0/1
 description old uplink
 port link-type trunk
 port trunk allow-pass vlan 10
#
interface 10GE1/0/2
#
interface NULL0
#
interface LoopBack0
 ip address 192.0.2.1 255.255.255.255
#
ospf 1 router-id 192.0.2.1
 area 0.0.0.0
  network 192.168.10.0 0.0.0.255
#
snmp-agent
snmp-agent sys-info version v3
#
return
"""

COMWARE_FACTORY = """\
#
 version 7.1.070, Release 6328P03
#
 sysname H3C
#
 lldp global enable
#
 info-center loghost 192.0.2.99
#
vlan 1
#
vlan 10
#
interface NULL0
#
interface Vlan-interface1
 ip address dhcp-alloc
#
interface GigabitEthernet1/0/1
 port link-mode bridge
 port access vlan 10
#
interface GigabitEthernet1/0/49
 port link-mode bridge
 description uplink
 port link-type trunk
 port trunk permit vlan all
#
interface M-GigabitEthernet0/0/0
 ip address 192.168.0.1 255.255.255.0
#
 snmp-agent
 snmp-agent sys-info version v3
#
line class console
 user-role network-admin
#
return
"""

CASES = [("jpl-core-1", VRP_FACTORY), ("ytg-leaf-2", VRP_FACTORY), ("ytg-egress-1", VRP_FACTORY),
         ("jpl-acc-b01", COMWARE_FACTORY)]


def lines(config: HConfig) -> list[str]:
    return [c.cisco_style_text() for c in config.all_children_sorted()]


def same(a: HConfig, b: HConfig) -> list[str]:
    """Lines in one tree and not in the other (empty when equal)."""
    return [f"- {x}" for x in lines(a.difference(b))] + [f"+ {x}" for x in lines(b.difference(a))]


def intended_text(intent: DeviceIntent) -> str:
    return render_device(intent, secrets=lambda n: f"FAKE-{n}", lab=False)[f"{intent.hostname}.cfg"]


@pytest.mark.parametrize(("host", "factory"), CASES, ids=[c[0] for c in CASES])
def test_round_trip(small_intents: dict[str, DeviceIntent], host: str, factory: str) -> None:
    intent = small_intents[host]
    platform = get_platform(intent.platform)
    running = platform.load_config(factory)
    intended = platform.load_config(intended_text(intent))
    assert len(lines(intended)) > 20

    flow = WorkflowRemediation(running, intended)
    remediation = flow.remediation_config
    assert lines(remediation)
    applied = running.future(remediation)
    assert not same(applied, intended), "remediation applied to the baseline is not the intended config"

    rolled_back = applied.future(flow.rollback_config)
    assert not same(rolled_back, running), "rollback does not return to the baseline"


@pytest.mark.parametrize("host", ["jpl-core-1", "jpl-acc-b01"])
def test_intended_is_a_fixed_point(small_intents: dict[str, DeviceIntent], host: str) -> None:
    intent = small_intents[host]
    platform = get_platform(intent.platform)
    intended = platform.load_config(intended_text(intent))
    assert lines(WorkflowRemediation(intended, platform.load_config(intended_text(intent))).remediation_config) == []


def test_single_valued_commands_replace(small_intents: dict[str, DeviceIntent]) -> None:
    """sysname / description change in place (idempotent rules), no `undo` of the old value first."""
    intent = small_intents["jpl-acc-b01"]
    platform = get_platform(intent.platform)
    rem = WorkflowRemediation(platform.load_config(COMWARE_FACTORY),
                              platform.load_config(intended_text(intent))).remediation_config
    text = lines(rem)
    assert "sysname jpl-acc-b01" in text and "undo sysname H3C" not in text
    assert not any(x.startswith("undo version") or x in ("undo vlan 1", "undo interface NULL0") for x in text)
    assert "undo vlan 10" in text


def test_comware_globals_are_top_level(small_intents: dict[str, DeviceIntent]) -> None:
    platform = get_platform("h3c-comware")
    tree = platform.load_config(COMWARE_FACTORY)
    top = [c.text for c in tree.children]
    assert "sysname H3C" in top and "snmp-agent" in top and "interface GigabitEthernet1/0/1" in top
