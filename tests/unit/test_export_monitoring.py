"""`campusnet export monitoring`: Prometheus file_sd targets (and CSV) from the Snapshot."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from test_sot_models import mini, patch
from typer.testing import CliRunner

from campusnet.cli import app
from campusnet.errors import DataError
from campusnet.export.monitoring import render, targets


def test_one_target_per_device_with_oob_ip() -> None:
    s = patch(mini(), "devices", "yt-core-1", oob_ip="10.254.0.1/24")
    entries = targets(s)
    assert entries == [
        {"targets": ["10.254.0.11"], "labels": {"site": "yuntang", "role": "access-switch", "tenant": "it-noc",
                                                "device": "yt-b01-acc-1", "platform": "h3c-comware"}},
        {"targets": ["10.254.0.1"], "labels": {"site": "yuntang", "role": "core-switch", "tenant": "it-noc",
                                               "device": "yt-core-1", "platform": "huawei-vrp"}},
    ]
    assert all(isinstance(v, str) for e in entries for v in e["labels"].values())  # type: ignore[union-attr]


def test_port_and_missing_labels_are_strings() -> None:
    s = patch(mini(), "devices", "yt-b01-acc-1", tenant=None, platform=None)
    (e,) = targets(s, port=9100)
    assert e["targets"] == ["10.254.0.11:9100"]
    assert e["labels"]["tenant"] == "" and e["labels"]["platform"] == ""  # type: ignore[index]


def test_csv_format() -> None:
    rows = list(csv.DictReader(io.StringIO(render(targets(mini()), "csv"))))
    assert rows == [{"target": "10.254.0.11", "site": "yuntang", "role": "access-switch", "tenant": "it-noc",
                     "device": "yt-b01-acc-1", "platform": "h3c-comware"}]


def test_bad_oob_ip_names_device_and_field() -> None:
    s = patch(mini(), "devices", "yt-b01-acc-1", oob_ip="not-an-ip")
    with pytest.raises(DataError) as e:
        targets(s)
    assert "yt-b01-acc-1" in str(e.value) and "oob_ip" in str(e.value)


def test_cli_writes_file_sd_json_atomically(tmp_path: Path) -> None:
    snap = mini().save(tmp_path / "snap.json")
    out = tmp_path / "sd" / "campus.json"
    r = CliRunner().invoke(app, ["export", "monitoring", "--snapshot", str(snap), "--out", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    assert data[0]["targets"] == ["10.254.0.11"]
    assert not list(out.parent.glob(".campus.json.*"))  # no temp file left behind


def test_cli_csv_to_stdout_and_bad_format(tmp_path: Path) -> None:
    snap = mini().save(tmp_path / "snap.json")
    r = CliRunner().invoke(app, ["export", "monitoring", "--snapshot", str(snap), "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert "target,site,role,tenant,device,platform" in r.output
    r = CliRunner().invoke(app, ["export", "monitoring", "--snapshot", str(snap), "--format", "yaml"])
    assert r.exit_code == 2
