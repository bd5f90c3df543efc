"""Engine pieces that need no root: the root check, sshd and holder configuration, the subprocess helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from campusnet.errors import CampusnetError
from campusnet.lab import LabInterface, LabNode, LabPlan, engine, lab_down, lab_status, lab_up
from campusnet.lab.run import run

SW = LabNode(name="s1", kind="switch", mgmt_ip="10.254.0.31/24", ovs=True, frr=False, daemons=(),
             interfaces=(LabInterface(linux="xe1-0-1"),))


@pytest.mark.parametrize("call", [lambda: lab_up(LabPlan(nodes=(SW,))), lab_down, lab_status])
def test_needs_root_clear_error(monkeypatch: pytest.MonkeyPatch, call) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(engine.os, "geteuid", lambda: 1000)
    with pytest.raises(CampusnetError) as exc:
        call()
    assert exc.value.code == "E400" and "root" in exc.value.message


def test_sshd_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    cfg = engine.sshd_config(SW)
    assert "ListenAddress 10.254.0.31\n" in cfg
    assert "UsePAM no" in cfg and "PasswordAuthentication no" in cfg and "PermitRootLogin prohibit-password" in cfg
    assert f"OVS_RUNDIR={tmp_path}/lab/s1/ovs/run" in cfg
    assert f"AuthorizedKeysFile {tmp_path}/lab/ssh/authorized_keys" in cfg


def test_holder_script_binds_node_dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    script = engine._holder_script(SW)
    for target in ("/etc/frr", "/run/frr", "/var/log/frr", "/run/openvswitch"):
        assert f" {target}" in script
    assert "hostname s1" in script and script.endswith("exec sleep infinity")


def test_run_reports_command_and_stderr() -> None:
    assert run(["sh", "-c", "echo hi"]) == "hi\n"
    with pytest.raises(CampusnetError) as exc:
        run(["sh", "-c", "echo boom >&2; exit 3"], obj="r1")
    assert exc.value.code == "E401" and exc.value.obj == "r1" and "boom" in exc.value.message
    with pytest.raises(CampusnetError) as exc:
        run(["/nonexistent/tool"], obj="r1")
    assert exc.value.code == "E406"


def test_run_to_logfile(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    assert run(["sh", "-c", "echo to-log"], logfile=log) == ""
    assert "to-log" in log.read_text()
    with pytest.raises(CampusnetError) as exc:
        run(["sh", "-c", "echo bad; exit 1"], logfile=log, obj="n")
    assert "bad" in exc.value.message and str(log) in exc.value.message
