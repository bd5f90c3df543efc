"""Lab and management: what a device needs before the lab (or the automation) can reach it."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from campusnet.rules.registry import Violation, rule
from campusnet.sot.models import Snapshot

MGMT_VRF = "mgmt"
MGMT_PREFIX = ipaddress.ip_network("10.254.0.0/24")
AUTOMATION_HOST = ipaddress.ip_address("10.254.0.254")


@rule("lab-device-complete", "lab")
def lab_device_complete(snap: Snapshot) -> Iterator[Violation]:
    """Every device tagged ``lab`` has a role, a platform, a primary IPv4 address and an out-of-band
    (management) address.

    The lab builds one node per lab device: the platform picks its templates, the primary address is its
    loopback (router-id, BGP/OSPF source), the oob address is where sshd listens and where the automation
    connects."""
    for d in snap.devices_tagged("lab"):
        for field, value in (("role", d.role), ("platform", d.platform), ("primary_ip4", d.primary_ip4),
                             ("oob_ip", d.oob_ip)):
            if not value:
                yield Violation(rule="lab-device-complete", object_type="dcim.device", object_name=d.name,
                                field=field, message=f"lab device has no {field}")


@rule("oob-in-mgmt", "lab")
def oob_in_mgmt(snap: Snapshot) -> Iterator[Violation]:
    """A device's out-of-band address lives in VRF ``mgmt`` inside 10.254.0.0/24, on a management-only
    interface, is unique, and is not 10.254.0.254 (the automation host).

    docs/design.md fixes the management network; a device outside it is unreachable from the automation
    host's management bridge, and one on .254 steals the host's address."""
    by_addr: dict[str, list[str]] = {}
    for d in snap.devices:
        if not d.oob_ip:
            continue
        ip = ipaddress.ip_interface(d.oob_ip)
        by_addr.setdefault(str(ip.ip), []).append(d.name)
        rec = next((x for x in snap.ip_addresses if x.device == d.name and x.address == d.oob_ip), None)
        if rec is not None and rec.vrf != MGMT_VRF:
            yield Violation(rule="oob-in-mgmt", object_type="dcim.device", object_name=d.name, field="oob_ip",
                            message=f"{d.oob_ip} is in VRF {rec.vrf or 'global'}, not {MGMT_VRF}")
        if ip.ip not in MGMT_PREFIX:
            yield Violation(rule="oob-in-mgmt", object_type="dcim.device", object_name=d.name, field="oob_ip",
                            message=f"{d.oob_ip} is outside {MGMT_PREFIX}")
        if ip.ip == AUTOMATION_HOST:
            yield Violation(rule="oob-in-mgmt", object_type="dcim.device", object_name=d.name, field="oob_ip",
                            message=f"{AUTOMATION_HOST} is reserved for the automation host")
        if rec is not None and rec.interface:
            iface = snap.find_interface(f"{d.name}:{rec.interface}")
            if iface is not None and not iface.mgmt_only:
                yield Violation(rule="oob-in-mgmt", object_type="dcim.interface", object_name=iface.key,
                                field="mgmt_only", message="carries the oob address but is not management-only")
    for addr, names in by_addr.items():
        if len(names) > 1:
            for n in names:
                yield Violation(rule="oob-in-mgmt", object_type="dcim.device", object_name=n, field="oob_ip",
                                message=f"oob address {addr} shared with {', '.join(x for x in names if x != n)}")
