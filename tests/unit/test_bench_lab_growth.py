"""The lab-growth benchmark reads what `campusnet deploy --json` prints: keep the two in step."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from benchmarks.lab_growth import _deploy_figures
from campusnet.deploy.engine import DeviceResult
from campusnet.deploy.run import DeploySummary
from campusnet.deploy.store import Run


def _completed(stdout: str, rc: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(["campusnet", "deploy"], rc, stdout=stdout, stderr="")


def test_figures_from_the_deploy_summary_json(tmp_path: Path) -> None:
    run = Run("20261130T010000Z-abcdef", tmp_path, "2026-11-30T01:00:00+00:00", True)
    summary = DeploySummary(run, [DeviceResult("a", "changed", seconds=2.0), DeviceResult("b", "changed", seconds=4.0),
                                  DeviceResult("c", "rolled-back", seconds=9.0)])
    # the CLI prints a log line or two before the JSON on some paths: the parser skips to the first brace
    out = "· reading snapshot\n" + json.dumps(summary.as_dict(), indent=2, default=str)
    f = _deploy_figures(12.34, _completed(out, rc=1))
    assert f["counts"] == {"changed": 2, "rolled-back": 1}
    assert f["devices"] == 3
    assert f["device_seconds_median"] == 4.0
    assert f["device_seconds_max"] == 9.0
    assert f["device_seconds_sum"] == 15.0
    assert f["seconds"] == 12.3 and f["exit"] == 1


def test_no_json_is_a_clear_stop_not_a_traceback() -> None:
    with pytest.raises(SystemExit, match="deploy printed no JSON summary"):
        _deploy_figures(1.0, _completed("E425 no lab device to deploy", rc=2))
