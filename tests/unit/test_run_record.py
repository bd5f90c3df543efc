"""A corrupt run record stops `rollback` before any push, with a coded error naming the file (drill 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from campusnet.deploy.record import check_backup, check_summary
from campusnet.deploy.rollback import RollbackItem, rollback_items
from campusnet.deploy.store import Run, save_backup
from campusnet.errors import CampusnetError


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path / "state"))
    r = Run.new(commit=True)
    backup = save_backup("leaf1", "hostname leaf1\nip route 10.0.0.0/8 blackhole\n", platform="linux-frr",
                         run_id=r.run_id)
    r.record_device("leaf1", {"status": "changed", "pushed": True, "backup": str(backup), "host": "10.254.0.21",
                              "driver": "linux-frr"})
    r.write_summary()
    return r


def _items(run: Run) -> list[RollbackItem]:
    return rollback_items(run.path)


def test_intact_record_passes(run: Run) -> None:
    [item] = _items(run)
    assert item.device == "leaf1"


def test_missing_summary_is_a_run_that_died_early(run: Run) -> None:
    (run.path / "summary.json").unlink()
    assert len(_items(run)) == 1


def test_truncated_summary_is_refused(run: Run) -> None:
    p = run.path / "summary.json"
    p.write_text(p.read_text()[:40])
    with pytest.raises(CampusnetError) as exc:
        _items(run)
    assert exc.value.code == "E492" and "summary.json" in str(exc.value) and run.run_id in str(exc.value)


def test_summary_without_devices_is_refused(run: Run) -> None:
    (run.path / "summary.json").write_text("[]\n")
    with pytest.raises(CampusnetError) as exc:
        check_summary(run.path, {})
    assert exc.value.code == "E492"


def test_summary_disagreeing_with_a_device_record_is_refused(run: Run) -> None:
    p = run.path / "summary.json"
    data = json.loads(p.read_text())
    data["devices"]["leaf1"]["status"] = "unchanged"
    p.write_text(json.dumps(data))
    with pytest.raises(CampusnetError) as exc:
        _items(run)
    assert exc.value.code == "E493" and "devices/leaf1.json" in str(exc.value)


def test_truncated_backup_is_refused(run: Run) -> None:
    backup = Path(run.devices["leaf1"]["backup"])
    backup.write_text(backup.read_text()[:10])
    with pytest.raises(CampusnetError) as exc:
        _items(run)
    assert exc.value.code == "E495" and backup.name in str(exc.value) and "leaf1" in str(exc.value)


def test_unreadable_sidecar_is_refused(run: Run) -> None:
    backup = Path(run.devices["leaf1"]["backup"])
    backup.with_suffix(".json").write_text("{")
    with pytest.raises(CampusnetError) as exc:
        check_backup("leaf1", backup)
    assert exc.value.code == "E494" and backup.with_suffix(".json").name in str(exc.value)


def test_backup_without_sidecar_is_taken_as_it_is(run: Run) -> None:
    backup = Path(run.devices["leaf1"]["backup"])
    backup.with_suffix(".json").unlink()
    check_backup("leaf1", backup)
