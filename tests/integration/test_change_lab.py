"""check-change --lab-proof on the expansion branch: the lab grows to the after-state (leaves 5/6 as nodes),
the after-state deploys and verifies, and the lab is restored to main's state afterwards (and says so).

Needs root and the lab tools (marker ``lab``); runs the CLI in a subprocess (verification drives its own
pytest session). Exclusive use of the lab is assumed while it runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from campusnet.branching import delete_branch, get_branch
from campusnet.change.demo_branches import make_demo
from campusnet.settings import NetBoxTarget

pytestmark = [pytest.mark.integration, pytest.mark.lab, pytest.mark.slow]


def _lab_nodes() -> set[str]:
    from campusnet.lab import lab_status

    st = lab_status()
    return {n.name for n in st.nodes} if st.running else set()


def test_expansion_lab_proof_passes_and_restores(netbox: NetBoxTarget, tmp_path: Path) -> None:
    name = f"cc-test-labproof-{uuid.uuid4().hex[:6]}"
    nodes_before = _lab_nodes()
    make_demo(netbox, "expansion", branch_name=name)
    try:
        r = subprocess.run([sys.executable, "-m", "campusnet", "check-change", "--branch", name, "--lab-proof",
                            "--out", str(tmp_path)], capture_output=True, text=True, timeout=1800,
                           env={**os.environ, "COLUMNS": "300"}, check=False)
        data = json.loads((tmp_path / "result.json").read_text())
        lab = data["lab_proof"]
        assert r.returncode == 0, (lab["reason"], r.stdout[-3000:], r.stderr[-3000:])
        assert lab["ran"] and lab["ok"] and lab["restored"]
        assert lab["nodes_added"] == ["yt-dc-leaf5", "yt-dc-leaf6"]
        checks = {(c["check"], c["device"]) for c in lab["checks"]}
        assert ("bgp-sessions", "yt-dc-leaf5") in checks and ("bgp-sessions", "yt-dc-spine1") in checks
        assert all(c["passed"] for c in lab["checks"])
        md = (tmp_path / "summary.md").read_text()
        assert "restored to the before-state" in md or "taken down" in md
        assert 'name="bgp-sessions[yt-dc-leaf5' in (tmp_path / "junit.xml").read_text()
    finally:
        b = get_branch(netbox, name)
        if b is not None:
            delete_branch(netbox, b)
    after = _lab_nodes()
    assert "yt-dc-leaf5" not in after and "yt-dc-leaf6" not in after
    assert after == nodes_before  # the lab is as it was found (or down, if it was down)
