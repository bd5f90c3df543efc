"""Seed the real local NetBox: create/converge, then no writes, then exactly one update for one edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from campusnet import settings
from campusnet.design.seed import seed
from campusnet.settings import NetBoxTarget

pytestmark = pytest.mark.integration

CAMPUS = settings.inventory_dir() / "campus"


def test_seed_is_idempotent_and_minimal(netbox_writable: NetBoxTarget, tmp_path: Path) -> None:
    netbox_up = netbox_writable  # seeding writes: only where tests may write (tests/conftest.py)
    first = seed(netbox_up, CAMPUS)
    assert not first.errors, first.errors[:5]

    again = seed(netbox_up, CAMPUS)
    assert not again.errors and again.writes == 0, again.changes[:10]
    assert set(again.requests) == {"GET"}  # reads only

    edited = tmp_path / "campus"
    shutil.copytree(CAMPUS, edited)
    f = edited / "organisation.yml"
    text = f.read_text()
    assert 'description: "campus with the modular machine room"' in text
    f.write_text(text.replace('description: "campus with the modular machine room"',
                              'description: "campus with the modular machine room (edited)"'))
    try:
        one = seed(netbox_up, edited)
        assert not one.errors
        assert one.writes == 1 and one.stats["dcim.sites"].updated == 1, one.changes
        assert one.changes == ["update dcim.sites 'jinpenling': description"]
        assert one.requests.get("PATCH") == 1 and "POST" not in one.requests
    finally:
        back = seed(netbox_up, CAMPUS)  # leave NetBox as the shipped design says
    assert back.writes == 1 and not back.errors
