"""Shared helpers for rules: links (interface pairs joined by a cable path), LAG parents."""

from __future__ import annotations

from collections.abc import Iterator

from campusnet.sot.models import Interface, Snapshot


def links(snap: Snapshot) -> Iterator[tuple[Interface, Interface]]:
    """Each interface-to-interface cable path once, as (a, b) with a.key < b.key.

    The path is NetBox's ``connected_endpoints`` (through patch panels and circuits); ends whose far
    device is not in the snapshot (a ``--limit`` cut) are skipped."""
    seen: set[tuple[str, str]] = set()
    for a in snap.interfaces:
        ep = a.peer
        if ep is None or ep.kind != "interface" or ep.device is None or ep.name is None:
            continue
        b = snap.find_interface(ep.key)
        if b is None:
            continue
        pair = (a.key, b.key) if a.key < b.key else (b.key, a.key)
        if pair in seen:
            continue
        seen.add(pair)
        yield (a, b) if a.key < b.key else (b, a)


def lag_of(snap: Snapshot, i: Interface) -> Interface | None:
    """The LAG interface ``i`` is a member of (on its device, or on its virtual chassis master)."""
    if i.lag is None:
        return None
    found = snap.find_interface(f"{i.device}:{i.lag}")
    if found is not None:
        return found
    dev = snap.device(i.device)
    if dev.virtual_chassis:
        for m in snap.vc_members(dev.virtual_chassis):
            found = snap.find_interface(f"{m.name}:{i.lag}")
            if found is not None:
                return found
    return None


def logical(snap: Snapshot, i: Interface) -> Interface:
    """The interface that carries L2/L3 settings: the LAG for a member, else itself."""
    return lag_of(snap, i) or i


def logical_device(snap: Snapshot, name: str) -> str:
    """The device that carries the configuration: the master of its virtual chassis, else itself (as the
    intent builder treats a chassis cluster: one device)."""
    if not snap.has_device(name):
        return name
    dev = snap.device(name)
    if not dev.virtual_chassis:
        return name
    vc = snap.vc(dev.virtual_chassis)
    if vc is not None and vc.master:
        return vc.master
    members = snap.vc_members(dev.virtual_chassis)
    master = next((m.name for m in members if m.vc_master), None)
    return master or (members[0].name if members else name)


def vid_of(snap: Snapshot, vlan_key: str) -> int | None:
    """The VID of a VLAN key (``group|site|global:vid``), from the VLAN object when the snapshot has it."""
    v = snap.vlan(vlan_key)
    if v is not None:
        return v.vid
    tail = vlan_key.rpartition(":")[2]
    return int(tail) if tail.isdigit() else None
