"""check-change --git-ref: REF's code and templates (git archive + subprocess) against the working tree,
over one recorded snapshot (no NetBox needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from campusnet.change.run import Options, check_git_ref
from campusnet.change.sources import changed_paths, resolve_ref, unpack_ref

pytestmark = pytest.mark.integration

SNAPSHOT = Path(__file__).resolve().parents[1] / "fixtures" / "snapshots" / "campus.json"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "campusnet", "check-change", "-q", *args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "COLUMNS": "300"}, check=False)


@pytest.mark.skipif(not SNAPSHOT.exists(), reason="no recorded campus snapshot")
def test_git_ref_head_renders_both_sides(tmp_path: Path) -> None:
    res = check_git_ref("HEAD", Options(out=tmp_path), snapshot=SNAPSHOT)
    assert res.before.configs and res.after.configs
    assert res.before.info["commit"] == resolve_ref("HEAD")
    relevant = [p for p in changed_paths(resolve_ref("HEAD")) if p.startswith(("campusnet/", "templates/"))]
    if not relevant:  # a clean tree: both sides are the same code, so nothing may differ
        assert not res.devices
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["kind"] == "git-ref" and data["before"]["findings"] is not None
    assert (tmp_path / "summary.md").exists() and (tmp_path / "junit.xml").exists()


def test_unpacked_ref_renders_with_its_own_code(tmp_path: Path) -> None:
    """REF's tree is imported from the temporary directory, not from this checkout."""
    unpack_ref(resolve_ref("HEAD"), tmp_path, ("campusnet", "templates"))
    r = subprocess.run([sys.executable, "-c", "import campusnet; print(campusnet.__file__)"], cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(tmp_path)}, capture_output=True, text=True, check=True)
    assert Path(r.stdout.strip()).resolve().is_relative_to(tmp_path.resolve())


def test_bad_ref_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    r = _cli("--git-ref", "no-such-ref-xyz", "--out", str(tmp_path))
    assert r.returncode == 2 and "E158" in r.stderr and "no-such-ref-xyz" in r.stderr
    assert "Traceback" not in r.stderr
