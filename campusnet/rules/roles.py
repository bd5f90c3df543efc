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


def would_configure(d: Device) -> bool:
    """A network device the automation configures when its data is right: active or staged, not an end
    device or a patch panel, not a role the lab builds itself (as the intent builder decides, but
    without looking at the platform: a missing platform is what the rules must report)."""
    from campusnet.intent.build import CONFIGURED_STATUSES, UNCONFIGURED_ROLES

    return (d.status in CONFIGURED_STATUSES and d.role not in UNCONFIGURED_ROLES and not is_end(d)
            and d.role not in PASSIVE_ROLES)


#: roles that are cabling or facilities, never configured, whatever their name says
PASSIVE_ROLES = frozenset({"patch-panel", "odf", "cable-management"})
