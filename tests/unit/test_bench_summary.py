"""The issue-12 table of `python -m benchmarks`: verify's figure comes from the newest record, named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from benchmarks import summary


def test_verify_figure_from_the_newest_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summary, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path / "state"))
    assert summary.verify_per_check()["per_check_s"] is None
    demo = tmp_path / "out" / "demo" / "report.json"
    demo.parent.mkdir(parents=True)
    demo.write_text(json.dumps({"stages": [{"name": "verify", "seconds": 4.2, "detail": "106 checks passed"}]}))
    os.utime(demo, (1, 1))
    got = summary.verify_per_check()
    assert got["per_check_s"] == pytest.approx(4.2 / 106, abs=1e-4) and "demo" in got["source"]
    latest = tmp_path / "state" / "verify" / "latest.json"
    latest.parent.mkdir(parents=True)
    latest.write_text(json.dumps({"seconds": 3.0, "passed": 100, "failed": 0, "finished": "x"}))
    got = summary.verify_per_check()
    assert got["per_check_s"] == 0.03 and "latest.json" in got["source"]


def test_rows_put_each_figure_beside_anchor_and_target() -> None:
    rows = summary.rows({"incremental": {"full_s": 120.0, "one_device_s": 3.0},
                         "check_change": {"total_s": 9.5}, "verify": {"per_check_s": 0.04, "checks": 106,
                                                                      "seconds": 4.2, "source": "demo"}})
    by = {r[0]: r for r in rows}
    assert by["P1 incremental (one-device change)"][3].startswith("≤ 2 s: MISSES")
    assert by["check-change, one device, no lab proof"][2] == "20.70 s"
    assert "meets" in by["check-change, one device, no lab proof"][3]
    assert by["verify per check"][1] == "0.040 s" and by["verify per check"][2] == "0.380 s"
