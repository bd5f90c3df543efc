"""What a change can affect: the devices to render and diff when only a few objects changed.

Two snapshots of one NetBox (main and a branch read incrementally on top of it share every unchanged
object — :mod:`campusnet.sot.incremental` — so most lists compare by identity) give the **changed
devices**: the devices whose own objects differ (the device, its interfaces and ports, its IP addresses,
the cables on it, its virtual chassis). Their **neighbours** are added: what the changed devices are
cabled to (link peers and cable-path far ends, before and after: LAG and routed links, hence OSPF/eBGP
peers), the other members of their virtual chassis, and the devices sharing an FHRP group with them.

A change to anything that is not a device's own (VLANs, prefixes, VRFs, config contexts, circuits, L2VPNs,
tags …) can reach devices that are not cabled to it: then the scope is every device, and the reason says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from campusnet.sot import Snapshot
from campusnet.sot.convert import CONVERTERS
from campusnet.sot.models import Endpoint

#: lists whose objects belong to one device (attribute ``device``)
DEVICE_BOUND = ("interfaces", "front_ports", "rear_ports", "power_ports", "power_outlets")
#: lists whose changes do not reach a rendered configuration beyond what the device lists show
#: (ownership; the rules, which always run on the whole snapshot, judge them)
NO_RENDER = ("contact_assignments", "contacts", "tenants", "tenant_groups")


@dataclass
class Scope:
    devices: set[str] | None  # None: every device
    changed: set[str]
    reason: str


def _differing(before: tuple[Any, ...], after: tuple[Any, ...]) -> list[tuple[Any | None, Any | None]]:
    if before is after:
        return []
    b = {o.id: o for o in before}
    out = []
    for o in after:
        old = b.pop(o.id, None)
        if old is not o and old != o:
            out.append((old, o))
    out += [(o, None) for o in b.values()]
    return out


def _ends(eps: Iterable[Endpoint]) -> set[str]:
    return {e.device for e in eps if e.device}


def changed_devices(before: Snapshot, after: Snapshot) -> tuple[set[str] | None, str]:
    """The devices whose own objects differ; None (and why) when a change is not a device's own."""
    out: set[str] = set()
    for kind in CONVERTERS:
        diff = _differing(getattr(before, kind), getattr(after, kind))
        if not diff:
            continue
        for old, new in diff:
            objs = [o for o in (old, new) if o is not None]
            if kind == "devices" or kind in DEVICE_BOUND:
                out |= {o.name if kind == "devices" else o.device for o in objs}
            elif kind == "ip_addresses" and all(o.device for o in objs):
                out |= {o.device for o in objs}
            elif kind == "cables":
                out |= {d for o in objs for d in _ends((*o.a_terminations, *o.b_terminations))}
            elif kind == "virtual_chassis":
                out |= {m for o in objs for m in o.members}
            elif kind not in NO_RENDER:
                return None, f"{len(diff)} changed object(s) in {kind}: not a device's own, every device is rendered"
    return out, f"{len(out)} changed device(s)"


def neighbours(snap: Snapshot, devices: set[str]) -> set[str]:
    """Cable peers and path ends, virtual-chassis members and FHRP-group peers of ``devices``."""
    out: set[str] = set()
    groups: set[int] = set()
    for d in devices:
        if not snap.has_device(d):
            continue
        for i in snap.interfaces_of(d):
            out |= _ends((*i.link_peers, *i.connected_endpoints))
            groups |= {a.group for a in i.fhrp}
        vc = snap.device(d).virtual_chassis
        if vc:
            out |= {m.name for m in snap.vc_members(vc)}
    if groups:
        out |= {i.device for i in snap.interfaces if any(a.group in groups for a in i.fhrp)}
    return out - devices


def affected(before: Snapshot, after: Snapshot) -> Scope:
    """The devices a change between two snapshots can affect (changed ones and their neighbours)."""
    changed, reason = changed_devices(before, after)
    if changed is None:
        return Scope(None, set(), reason)
    scope = set(changed) | neighbours(before, changed) | neighbours(after, changed)
    return Scope(scope, changed, f"{reason} and {len(scope) - len(changed)} neighbour(s)")
