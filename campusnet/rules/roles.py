"""Which device roles the rules treat as what. The campus conventions (docs/design.md, docs/campus.md)
name roles by slug; a site with other slugs can extend these sets."""

from __future__ import annotations

import re

from campusnet.sot.models import Device

ACCESS_ROLES = frozenset({"access-switch", "access"})
CORE_ROLES = frozenset({"core-switch", "core"})
# Devices that are ends of the network, not part of its switching/routing fabric: a link from an access
# switch to one of these is a downlink, not an uplink.
END_ROLES = frozenset({
    "test-host", "server", "storage", "host", "access-point", "ap", "camera", "phone", "printer", "pdu",
    "ups", "cooling", "in-row-cooling", "patch-panel", "console-server", "firewall-host",
})
_END_ROLE_RE = re.compile(r"(host|server|storage|pdu|ups|cooling|patch|ap$)")


def is_access(d: Device) -> bool:
    return d.role in ACCESS_ROLES


def is_core(d: Device) -> bool:
    return d.role in CORE_ROLES or (d.role.endswith("core") and d.virtual_chassis is not None)


def is_end(d: Device) -> bool:
    return d.role in END_ROLES or bool(_END_ROLE_RE.search(d.role))
