"""The main job's stages up to the report, on the session's NetBox (the lab stages are covered end to end
in test_e2e_lab.py): a fresh state must render without any secret prepared by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from campusnet.settings import NetBoxTarget

pytestmark = pytest.mark.integration


def test_demo_without_lab_renders_and_reports(netbox: NetBoxTarget, tmp_path: Path) -> None:
    from campusnet.demo import run_demo

    rep = run_demo(out=tmp_path, log=lambda m: None, lab=False)
    stages = {s.name: s for s in rep.stages}
    assert [s.name for s in rep.stages][:4] == ["netbox up", "seed", "validate", "render"]
    assert all(s.ok for s in rep.stages), [(s.name, s.detail) for s in rep.stages if not s.ok]
    assert "writes" in stages["seed"].detail
    rendered = list((tmp_path / "rendered").rglob("*.cfg"))
    assert len(rendered) >= 40
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["ok"] is True
    assert (tmp_path / "report.md").read_text().startswith("# campusnet main job")
