"""Ansible parity: playbooks/deploy.yml reaches the VRP driver — a dry run on jpl-core-1 against its recorded
session (campusnet_replay), through ansible-playbook and the campusnet_deploy module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_ansible_dry_run_on_a_vrp_device_records_the_remediation(tmp_path: Path) -> None:
    env = {**os.environ, "CAMPUSNET_STATE": str(tmp_path), "CAMPUSNET_SECRET_SNMP_COMMUNITY": "campusnet-fixture",
           "CAMPUSNET_SECRET_TACACS_KEY": "campusnet-fixture", "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
           "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    extra = {"campusnet_limit": ["jpl-core-1"], "campusnet_replay": str(ROOT / "tests" / "fixtures" / "vendor"),
             "campusnet_snapshot": str(ROOT / "tests" / "fixtures" / "snapshots" / "campus.json")}
    proc = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/deploy.yml", "--diff", "-e", json.dumps(extra)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "ok: [jpl-core-1 -> localhost]" in proc.stdout
    [summary] = list((tmp_path / "runs").glob("*/summary.json"))
    data = json.loads(summary.read_text())
    diff = (summary.parent / "diffs" / "jpl-core-1.diff").read_text()
    assert "# hier_config remediation (7 commands):" in diff and "    undo interface LoopBack100" in diff
    assert data["devices"]["jpl-core-1"]["status"] == "would-change"
    assert data["devices"]["jpl-core-1"]["driver"] == "huawei-vrp"
