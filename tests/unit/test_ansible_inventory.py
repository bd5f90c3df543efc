"""The Ansible side on a recorded snapshot: campusnet's inventory plugin agrees with the Nornir inventory,
and the playbooks pass ansible-lint (offline)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from campusnet.nornir_inventory import build_inventory
from campusnet.sot import Snapshot

REPO = Path(__file__).resolve().parent.parent.parent
SNAPSHOTS = REPO / "tests" / "fixtures" / "snapshots"
BIN = Path(sys.executable).parent


def _snapshot_file() -> Path:
    campus = SNAPSHOTS / "campus.json"
    return campus if campus.exists() else SNAPSHOTS / "small.json"


def ansible_env(**extra: str) -> dict[str, str]:
    """The environment for Ansible commands: the venv first on PATH, the repo's ansible.cfg."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    env.update(extra)
    return env


def ansible_inventory_list(inventory: str, **env: str) -> dict[str, Any]:
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", inventory, "--list"], cwd=REPO,
                          env=ansible_env(**env), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data: dict[str, Any] = plain(json.loads(proc.stdout))
    return data


def plain(value: Any) -> Any:
    """JSON from ``ansible-inventory --list`` without Ansible's ``{"__ansible_unsafe": x}`` trust wrappers."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def groups_of(data: dict[str, Any]) -> dict[str, set[str]]:
    """host → the groups that list it directly."""
    out: dict[str, set[str]] = {}
    for group, body in data.items():
        if group == "_meta" or not isinstance(body, dict):
            continue
        for host in body.get("hosts", ()):
            out.setdefault(host, set()).add(group)
    return out


@pytest.fixture(scope="module")
def listed() -> dict[str, Any]:
    return ansible_inventory_list("inventory/campusnet.yml", CAMPUSNET_SNAPSHOT=str(_snapshot_file()))


def test_campusnet_plugin_matches_the_nornir_inventory(listed: dict[str, Any]) -> None:
    nornir = build_inventory(Snapshot.load(_snapshot_file()))
    hostvars = listed["_meta"]["hostvars"]
    assert set(hostvars) == set(nornir.hosts)
    groups = groups_of(listed)
    for name, host in nornir.hosts.items():
        hv = hostvars[name]
        assert hv.get("ansible_host") == host.hostname
        assert hv["campusnet"]["site"] == host["site"]
        assert hv["campusnet"]["platform"] == host["platform"]
        assert hv["campusnet_netmiko_platform"] == host.connection_options["netmiko"].platform
        assert {g.name for g in host.groups} <= groups[name]


def test_campusnet_plugin_limit(listed: dict[str, Any]) -> None:
    snap = Snapshot.load(_snapshot_file())
    site = snap.device(next(iter(listed["_meta"]["hostvars"]))).site
    limited = ansible_inventory_list("inventory/campusnet.yml", CAMPUSNET_SNAPSHOT=str(_snapshot_file()),
                                     CAMPUSNET_LIMIT=f"site={site}")
    assert set(limited["_meta"]["hostvars"]) == {
        h for h, hv in listed["_meta"]["hostvars"].items() if hv["campusnet"]["site"] == site}


def test_campusnet_plugin_names_a_bad_snapshot(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{}")
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", "inventory/campusnet.yml", "--list"], cwd=REPO,
                          env=ansible_env(CAMPUSNET_SNAPSHOT=str(bad)), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode != 0
    assert "E202" in proc.stderr and "broken.json" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(shutil.which("ansible-lint", path=str(BIN)) is None, reason="ansible-lint not installed")
def test_playbooks_pass_ansible_lint() -> None:
    proc = subprocess.run([str(BIN / "ansible-lint"), "--offline", "playbooks"], cwd=REPO, env=ansible_env(),
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
