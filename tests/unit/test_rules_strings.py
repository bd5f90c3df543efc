"""Rule "safe-strings": unsafe names and descriptions are reported by `campusnet validate` (and so by the deploy
gate) before anything is rendered, each naming the object and the field."""

from __future__ import annotations

from pathlib import Path

from campusnet.rules import Violation, run_rules
from campusnet.sot.models import Snapshot

SMALL = Path(__file__).resolve().parent.parent / "fixtures" / "snapshots" / "small.json"
CAMPUS = SMALL.parent / "campus.json"


def fired(snap: Snapshot) -> list[Violation]:
    return run_rules(snap, ["safe-strings"])


def test_reference_data_is_clean() -> None:
    assert fired(Snapshot.load(SMALL)) == []
    assert fired(Snapshot.load(CAMPUS)) == []


def test_every_kind_of_hostile_string_is_reported() -> None:
    s = Snapshot.load(SMALL)
    devices = tuple(d.model_copy(update={"description": "core\nsysname x"}) if d.name == "ytg-core" else d
                    for d in s.devices)
    devices = tuple(d.model_copy(update={"config_context": {**d.config_context, "services": {
        **d.config_context["services"], "snmp": {**d.config_context["services"]["snmp"],
                                                 "community": {"secret_ref": "../../etc/shadow"}}}}})
                    if d.name == "ytg-leaf-1" else d for d in devices)
    devices = tuple(d.model_copy(update={"name": "ytg/srv 1"}) if d.name == "ytg-srv-1" else d for d in devices)
    interfaces = tuple(i.model_copy(update={"name": "GE1/0/1;reboot", "description": "`reboot`\r"})
                       if i.key == "jpl-acc-b01:GE1/0/1" else i for i in s.interfaces)
    vlans = tuple(v.model_copy(update={"name": "$(reboot)", "description": "a\x00b"})
                  if v.key == "jinpenling-users:110" else v for v in s.vlans)
    circuits = tuple(c.model_copy(update={"cid": "CT-1\nshutdown"}) for c in s.circuits)
    l2vpns = tuple(x.model_copy(update={"name": "../vni"}) for x in s.l2vpns[:1]) + s.l2vpns[1:]
    bad = s.model_copy(update={"devices": devices, "interfaces": interfaces, "vlans": vlans, "circuits": circuits,
                               "l2vpns": l2vpns})
    got = {(v.object_type, v.object_name, v.field) for v in fired(bad)}
    assert got == {
        ("dcim.device", "ytg-core", "description"),
        ("dcim.device", "ytg-leaf-1", "config_context.services.snmp.community.secret_ref"),
        ("dcim.device", "ytg/srv 1", "name"),
        ("dcim.interface", "jpl-acc-b01:GE1/0/1;reboot", "name"),
        ("dcim.interface", "jpl-acc-b01:GE1/0/1;reboot", "description"),
        ("ipam.vlan", "jinpenling-users:110", "name"),
        ("ipam.vlan", "jinpenling-users:110", "description"),
        ("circuits.circuit", "cernet/CT-1\nshutdown", "cid"),
        ("vpn.l2vpn", s.l2vpns[0].key, "name"),
    }
    assert all(v.rule == "safe-strings" and "unsafe" in v.message for v in fired(bad))
