"""Branches on the real NetBox: create, write inside, see the diff, merge; main unchanged until the merge."""

from __future__ import annotations

import uuid

import httpx
import pytest

from campusnet.branching import branch_changes, create_branch, delete_branch, get_branch, merge_branch
from campusnet.settings import NetBoxTarget

pytestmark = pytest.mark.integration


def test_branch_isolates_then_merges(netbox_writable: NetBoxTarget) -> None:
    netbox_up = netbox_writable  # creates, writes and merges a branch
    name = f"cn-test-{uuid.uuid4().hex[:6]}"
    slug = f"cn-branch-tag-{uuid.uuid4().hex[:6]}"
    b = create_branch(netbox_up, name, "campusnet test")
    try:
        assert b.status == "ready"
        inb = netbox_up.with_branch(b.schema_id)
        with httpx.Client(base_url=inb.url, headers=inb.headers(), timeout=30) as c:
            assert c.post("/api/extras/tags/", json={"name": slug, "slug": slug}).status_code == 201
        with httpx.Client(base_url=netbox_up.url, headers=netbox_up.headers(), timeout=30) as c:
            assert c.get("/api/extras/tags/", params={"slug": slug}).json()["count"] == 0  # main untouched
        changes = branch_changes(netbox_up, b)
        assert any(ch.get("object_repr") == slug or slug in str(ch) for ch in changes)
        merge_branch(netbox_up, b)
        with httpx.Client(base_url=netbox_up.url, headers=netbox_up.headers(), timeout=30) as c:
            found = c.get("/api/extras/tags/", params={"slug": slug}).json()["results"]
            assert len(found) == 1
            c.delete(f"/api/extras/tags/{found[0]['id']}/")
        merged = get_branch(netbox_up, name)
        assert merged is not None and merged.status == "merged"
    finally:
        cur = get_branch(netbox_up, name)
        if cur:
            delete_branch(netbox_up, cur)
