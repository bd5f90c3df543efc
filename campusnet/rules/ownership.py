"""Ownership: every object has an owner, every owner knows what it owns (每一件事情有人负责)."""

from __future__ import annotations

from collections.abc import Iterator

from campusnet.rules.registry import Violation, rule
from campusnet.sot.models import Snapshot

OWNED_TYPES = ("dcim.device", "ipam.prefix", "ipam.vlan", "circuits.circuit")


def _owned(snap: Snapshot) -> Iterator[tuple[str, str, str | None, str | None]]:
    for d in snap.devices:
        yield "dcim.device", d.key, d.tenant, d.owner
    for p in snap.prefixes:
        yield "ipam.prefix", p.key, p.tenant, p.owner
    for v in snap.vlans:
        yield "ipam.vlan", v.key, v.tenant, v.owner_contact or v.owner
    for c in snap.circuits:
        yield "circuits.circuit", c.key, c.tenant, c.owner


@rule("tenant-set", "ownership")
def tenant_set(snap: Snapshot) -> Iterator[Violation]:
    """Every device, prefix, VLAN and circuit has a tenant.

    The tenant says whose the object is (an IT Office section or a partner: China Telecom, the
    mobile-campus integrator, Bank A, Bank B); reports, access rights and charging follow it."""
    for otype, key, tenant, _owner in _owned(snap):
        if not tenant:
            yield Violation(rule="tenant-set", object_type=otype, object_name=key, field="tenant",
                            message="no tenant")
        elif snap.tenant(tenant) is None and snap.tenants:
            yield Violation(rule="tenant-set", object_type=otype, object_name=key, field="tenant",
                            message=f"tenant {tenant!r} is not in the snapshot")


@rule("owner-assigned", "ownership")
def owner_assigned(snap: Snapshot) -> Iterator[Violation]:
    """Every device, prefix and circuit has a contact assignment with role ``owner``; every VLAN an owner
    contact in its custom field ``owner_contact`` (or NetBox's native ``owner``).

    "Every object has an owner and every owner knows what it owns": the owner is the person or
    section called when the object breaks or must change. NetBox 4.7 allows contacts on devices,
    prefixes and circuits but refuses them on VLANs, so the campus records a VLAN's owning contact in the
    object custom field ``owner_contact``; NetBox's native ``owner`` (users.Owner) is accepted too."""
    for otype, key, _tenant, native in _owned(snap):
        if native and otype == "ipam.vlan":
            continue
        if not snap.owners(otype, key):
            roles = sorted({a.role or "-" for a in snap.assignments(otype, key)})
            extra = f" (contacts with roles {', '.join(roles)} only)" if roles else ""
            yield Violation(rule="owner-assigned", object_type=otype, object_name=key, field="contacts",
                            message="no contact with role 'owner'" + extra)
