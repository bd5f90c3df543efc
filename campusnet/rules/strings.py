"""Strings: names and descriptions that are unsafe to put into a configuration or a shell script."""

from __future__ import annotations

from collections.abc import Iterator

from campusnet.rules.registry import Violation, rule
from campusnet.safety import SECRET_REF, NameKind, name_problem, text_problem, walk_strings
from campusnet.sot.models import Snapshot

RULE = "safe-strings"


def _v(object_type: str, name: str, field: str, why: str, value: str) -> Violation:
    shown = value if len(value) <= 60 else value[:57] + "..."
    return Violation(rule=RULE, object_type=object_type, object_name=name, field=field,
                     message=f"{why}: {shown!r} is unsafe in a configuration or a shell script")


@rule(RULE, "strings")
def safe_strings(snap: Snapshot) -> Iterator[Violation]:
    """Every NetBox string that can reach a rendered configuration, a path or a lab shell script is safe
    there: device, virtual-chassis, interface, VLAN and L2VPN names match their pattern (no newline or
    control character, no ``..``, no ``/`` except in interface names, no whitespace except in VLAN names,
    no quote or shell metacharacter); descriptions, circuit ids, provider names and config-context strings
    are single-line; secret references are ``[A-Za-z0-9_-]+``.

    The intent stage refuses the unsafe names themselves (E220-E225) and the renderer makes descriptions
    safe per platform (control characters become spaces, the platform's length cap applies), so nothing
    escapes either way. This rule reports all of them before rendering, so ``campusnet validate`` and the
    deploy gate name each one (object and field) instead of the push silently changing a description.
    The exact policy per field is in ``campusnet/safety.py`` and docs/reliability.md, section 3."""
    names: list[tuple[str, str, str, str, NameKind]] = []
    texts: list[tuple[str, str, str, str]] = []
    for d in snap.devices:
        names.append(("dcim.device", d.name, "name", d.name, "device"))
        texts.append(("dcim.device", d.name, "description", d.description))
        for path, value in walk_strings(d.config_context or {}):
            texts.append(("dcim.device", d.name, f"config_context.{path}", value))
            if path.endswith("secret_ref") and SECRET_REF.fullmatch(value) is None:
                yield _v("dcim.device", d.name, f"config_context.{path}", "not [A-Za-z0-9_-]+", value)
    for vc in snap.virtual_chassis:
        names.append(("dcim.virtualchassis", vc.name, "name", vc.name, "device"))
    for i in snap.interfaces:
        names.append(("dcim.interface", i.key, "name", i.name, "interface"))
        texts.append(("dcim.interface", i.key, "description", i.description))
    for v in snap.vlans:
        names.append(("ipam.vlan", v.key, "name", v.name, "vlan"))
        texts.append(("ipam.vlan", v.key, "description", v.description))
    for lv in snap.l2vpns:
        names.append(("vpn.l2vpn", lv.key, "name", lv.name, "vlan"))
    for c in snap.circuits:
        texts.append(("circuits.circuit", c.key, "cid", c.cid))
        texts.append(("circuits.circuit", c.key, "description", c.description))
    for p in snap.providers:
        texts.append(("circuits.provider", p.key, "name", p.name))
    for otype, key, field, value, kind in names:
        why = name_problem(value, kind)
        if why:
            yield _v(otype, key, field, why, value)
    for otype, key, field, value in texts:
        why = text_problem(value)
        if why:
            yield _v(otype, key, field, why, value)
