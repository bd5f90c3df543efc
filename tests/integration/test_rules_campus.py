"""The shipped reference campus, seeded into the real NetBox, passes every rule; the read is bulk."""

from __future__ import annotations

import pytest

from campusnet.rules import run_rules
from campusnet.settings import NetBoxTarget
from campusnet.sot.reader import ENDPOINTS, read_snapshot

pytestmark = pytest.mark.integration


def test_shipped_campus_validates_clean(netbox: NetBoxTarget) -> None:
    snap = read_snapshot(netbox)
    assert len(snap.devices) >= 15, "the reference campus is not seeded"
    violations = [v for v in run_rules(snap) if not v.object_name.startswith("rdr-")]
    assert violations == [], "\n".join(f"{v.rule} {v.object_type} {v.object_name} {v.field}: {v.message}"
                                       for v in violations)


def test_read_is_bulk(netbox: NetBoxTarget) -> None:
    """Requests depend on the number of object types and pages, never on the number of devices."""
    snap = read_snapshot(netbox)
    biggest = max(len(snap.interfaces), len(snap.ip_addresses), len(snap.cables), len(snap.devices))
    assert snap.source.requests <= len(ENDPOINTS) + 1 + len(ENDPOINTS) * (biggest // 50 + 1)
    assert snap.source.requests < len(snap.devices) or len(snap.devices) < len(ENDPOINTS)
