"""Lab secrets for the embedded default: generated once, 0600, never overwritten; the environment wins."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from campusnet.render import generate_missing_secrets, resolve_secret


def test_generated_once_private_and_resolvable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    monkeypatch.setenv("CAMPUSNET_SECRET_TACACS_KEY", "from-env")
    made = generate_missing_secrets(["snmp_community", "tacacs_key"])
    assert made == ["snmp_community"]  # the environment's secret is not shadowed by a file
    f = tmp_path / "secrets" / "snmp_community"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    first = resolve_secret("snmp_community")
    assert len(first) >= 20
    assert generate_missing_secrets(["snmp_community"]) == []  # never overwritten
    assert resolve_secret("snmp_community") == first
    assert resolve_secret("tacacs_key") == "from-env"
