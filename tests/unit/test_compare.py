"""The one comparison service (campusnet.compare) and the places that use it: per-platform normalisation,
the unified diff, its counts, and hier_config's remediation (check-change shows it for VRP/Comware)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_hier_roundtrip import COMWARE_FACTORY, VRP_FACTORY

from campusnet import compare
from campusnet.change.diff import diff_configs
from campusnet.change.model import ChangeResult, Side
from campusnet.change.report import render_summary
from campusnet.deploy.drivers import driver_for
from campusnet.errors import CampusnetError
from campusnet.report.compliance import compare as compliance_compare
from campusnet.report.state import Backup

VRP_NEW = VRP_FACTORY.replace("description old uplink", "description new uplink").replace("HUAWEI", "sw1")


def test_vrp_normalisation_drops_separators_and_comments() -> None:
    banner_free = "\n".join(ln for ln in VRP_FACTORY.splitlines() if not ln.startswith(("!", "#", "return")))
    assert compare.normalise(VRP_FACTORY, "huawei-vrp") == compare.normalise(banner_free, "huawei-vrp")
    assert compare.normalised_diff(VRP_FACTORY, banner_free, "huawei-vrp", "a", "b") == ""
    d = compare.normalised_diff(VRP_FACTORY, VRP_NEW, "huawei-vrp", "running", "intended")
    assert "-  description old uplink\n" in d and "+  description new uplink\n" in d
    assert compare.diff_counts(d) == (2, 2) and compare.count_diff_lines(d) == 4


def test_lab_normalisation_is_the_drivers() -> None:
    text = "frr version 10\nhostname a\n!\n!! campusnet-section ovs\nbridge br0\n"
    assert compare.normalise(text, "linux-frr") == driver_for("linux-frr").normalise(text)
    assert compare.section(text, "ovs") == "bridge br0\n"
    assert compare.section(text) == "frr version 10\nhostname a\n!\n"


def test_unified_terminates_every_line_and_counts_without_headers() -> None:
    d = compare.unified("a\nb", "a\nc", "--- x", "+++ y")
    assert d.endswith("+c\n") and d.count("\n") == len(d.splitlines())
    assert compare.diff_counts(d) == (1, 1)  # the "--- x"/"+++ y" file names are headers, not changes
    assert compare.unified("a\n", "a\n", "x", "y") == ""


@pytest.mark.parametrize(("platform", "factory"), [("huawei-vrp", VRP_FACTORY), ("h3c-comware", COMWARE_FACTORY)])
def test_remediation_is_hier_configs(platform: str, factory: str) -> None:
    assert compare.remediation(factory, factory, platform) == []
    fix = compare.remediation(factory, factory + "\nsnmp-agent sys-info location campus-lab\n", platform)
    assert "snmp-agent sys-info location campus-lab" in fix


def test_remediation_of_vrp_lines_the_commands() -> None:
    assert compare.remediation(VRP_FACTORY, VRP_NEW, "huawei-vrp") == [
        "sysname sw1", "interface 10GE1/0/1", "  description new uplink"]


def test_no_remediation_for_the_lab_platform() -> None:
    assert not compare.has_remediation("linux-frr") and not compare.has_remediation(None)
    with pytest.raises(CampusnetError) as e:
        compare.remediation("a\n", "b\n", "linux-frr")
    assert e.value.code == "E350" and "linux-frr" in str(e.value)


def test_check_change_shows_the_vrp_remediation() -> None:
    before = {"sw1": {"sw1.cfg": VRP_FACTORY, "lab/frr.conf": "hostname a\n"}}
    after = {"sw1": {"sw1.cfg": VRP_NEW, "lab/frr.conf": "hostname b\n"}}
    [dev] = diff_configs(before, after, {"sw1": "huawei-vrp"})
    main, lab = dev.files
    assert main.remediation == ("sysname sw1", "interface 10GE1/0/1", "  description new uplink")
    assert lab.path == "lab/frr.conf" and lab.remediation == ()
    res = ChangeResult("t", "snapshots", Side("before"), Side("after"))
    res.devices = [dev]
    assert "hier_config remediation for `sw1.cfg`" in render_summary(res)
    [plain] = diff_configs(before, after)  # platform unknown: a diff, no remediation
    assert plain.files[0].remediation == ()


def test_compliance_compares_vrp_in_hier_config_form() -> None:
    backup = Backup("sw1", Path("x.cfg"), "t", VRP_FACTORY, {"platform": "huawei-vrp"})
    reordered = VRP_FACTORY.replace("#\nsysname HUAWEI\n", "").replace("return\n", "sysname HUAWEI\nreturn\n")
    assert compliance_compare("sw1", {"sw1.cfg": reordered}, backup, "huawei-vrp").state == "compliant"
    row = compliance_compare("sw1", {"sw1.cfg": VRP_NEW}, backup, "huawei-vrp")
    assert row.state == "drift" and (row.missing, row.extra) == (2, 2)
    assert "+  description old uplink" in row.diff  # intended -> backup


def test_deploy_of_a_production_only_device_says_where_its_remediation_is(tmp_path: Path) -> None:
    from test_deploy_safety import campus, saved

    from campusnet.deploy.run import run_deploy

    snap = saved(campus(), tmp_path / "snap.json")
    with pytest.raises(CampusnetError) as e:  # jpl-b01-as2: Comware, not emulated in the lab
        run_deploy(commit=False, snapshot=snap, via="direct", limit=["jpl-b01-as2"])
    assert e.value.code == "E420" and e.value.obj == "jpl-b01-as2" and e.value.field == "platform"
    assert "h3c-comware" in str(e.value) and "check-change" in str(e.value)
    with pytest.raises(CampusnetError) as e:  # a name NetBox does not know: still "no lab node"
        run_deploy(commit=False, snapshot=snap, via="direct", limit=["no-such-device"])
    assert e.value.code == "E424"
