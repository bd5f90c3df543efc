"""check-change on real NetBox branches: the expansion shows exactly the expected devices; broken branches
are refused naming rule and object; merging the expansion yields exactly the configs the check showed
(then the merge is reverted and main is back as it was)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from campusnet.branching import Branch, delete_branch, get_branch, merge_branch, revert_branch
from campusnet.change.demo_branches import make_demo
from campusnet.change.run import Options, check_branch
from campusnet.change.sources import render_snapshot
from campusnet.settings import NetBoxTarget
from campusnet.sot import load_or_read

pytestmark = pytest.mark.integration

EXPANSION_DEVICES = {"yt-dc-leaf5": "added", "yt-dc-leaf6": "added", "yt-dc-spine1": "changed",
                     "yt-dc-spine2": "changed"}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "campusnet", "check-change", "-q", *args], capture_output=True,
                          text=True, timeout=600, env={**__import__("os").environ, "COLUMNS": "300"}, check=False)


def _demo(netbox: NetBoxTarget, name: str) -> Iterator[Branch]:
    bname = f"cc-test-{name}-{uuid.uuid4().hex[:6]}"
    try:
        yield make_demo(netbox, name, branch_name=bname).branch
    finally:
        b = get_branch(netbox, bname)
        if b is not None and b.status != "merged":
            delete_branch(netbox, b)


@pytest.fixture
def expansion(netbox: NetBoxTarget) -> Iterator[Branch]:
    yield from _demo(netbox, "expansion")


@pytest.fixture
def bad_trunk(netbox: NetBoxTarget) -> Iterator[Branch]:
    yield from _demo(netbox, "bad-trunk")


@pytest.fixture
def bad_uplink(netbox: NetBoxTarget) -> Iterator[Branch]:
    yield from _demo(netbox, "bad-uplink")


def test_expansion_shows_exactly_the_new_fabric(netbox: NetBoxTarget, expansion: Branch, tmp_path: Path) -> None:
    res = check_branch(expansion.name, Options(out=tmp_path), target=netbox)
    assert {d.device: d.status for d in res.devices} == EXPANSION_DEVICES
    assert res.ok and res.exit_code == 0 and not [f for r in res.rules for f in r.findings]
    by = {d.device: d for d in res.devices}
    # the spines' new eBGP sessions (fabric /31s, leaf ASNs) and nothing removed
    for spine, peers in (("yt-dc-spine1", ("10.255.2.17", "10.255.2.21")),
                         ("yt-dc-spine2", ("10.255.2.19", "10.255.2.23"))):
        d = by[spine]
        assert d.removed == 0
        for peer, asn in zip(peers, ("65105", "65106"), strict=True):
            assert f"+ peer {peer} as-number {asn}" in d.diff, d.diff
    assert "+sysname yt-dc-leaf5" in by["yt-dc-leaf5"].diff
    assert any(f.path == "lab/frr.conf" for f in by["yt-dc-leaf5"].files)  # tagged lab: emulation too
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["ok"] and data["counts"]["added"] == 2 and data["counts"]["changed"] == 2
    assert {c["object"] for c in data["netbox_changes"] if c["object_type"] == "dcim.device"} >= {
        "yt-dc-leaf5", "yt-dc-leaf6"}
    md = (tmp_path / "summary.md").read_text()
    assert md.startswith("## ✅") and "| `yt-dc-leaf5` | **new** |" in md
    junit = (tmp_path / "junit.xml").read_text()
    assert 'name="renders[yt-dc-leaf5]"' in junit and 'name="trunk-vlans-consistent"' in junit


def test_bad_trunk_is_refused_naming_rule_and_object(bad_trunk: Branch, tmp_path: Path) -> None:
    r = _cli("--branch", bad_trunk.name, "--out", str(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "REFUSED" in r.stdout and "Traceback" not in r.stderr
    assert "trunk-vlans-consistent" in r.stdout and "yt-b01-as1:Bridge-Aggregation1" in r.stdout
    data = json.loads((tmp_path / "result.json").read_text())
    bad = [f for rule in data["rules"] for f in rule["findings"]]
    assert [(f["rule"], f["new"]) for f in bad] == [("trunk-vlans-consistent", True)]
    assert "yt-b01-as1" in bad[0]["object_name"] and bad[0]["field"] == "tagged_vlans"
    assert [d["device"] for d in data["devices"]] == ["yt-b01-as1"]


def test_bad_uplink_is_refused_naming_rule_and_object(bad_uplink: Branch, tmp_path: Path) -> None:
    r = _cli("--branch", bad_uplink.name, "--out", str(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no-aggregation-layer" in r.stdout and "yt-b02-as1" in r.stdout
    data = json.loads((tmp_path / "result.json").read_text())
    agg = [f for rule in data["rules"] if rule["rule"] == "no-aggregation-layer" for f in rule["findings"]]
    assert any(f["object_name"] == "yt-b02-as1:Ten-GigabitEthernet1/0/28" and f["new"] for f in agg)
    assert "no-aggregation-layer" in (tmp_path / "summary.md").read_text()


def test_unknown_branch_is_an_error_not_a_traceback(netbox: NetBoxTarget, tmp_path: Path) -> None:
    r = _cli("--branch", "no-such-branch-xyz", "--out", str(tmp_path))
    assert r.returncode == 2 and "E156" in r.stderr and "no-such-branch-xyz" in r.stderr
    assert "Traceback" not in r.stderr


def _render_main(netbox: NetBoxTarget) -> dict[str, dict[str, str]]:
    return render_snapshot("main", load_or_read(None, netbox.with_branch(None))).side.configs


def test_merge_then_render_equals_what_the_check_showed(netbox: NetBoxTarget, expansion: Branch,
                                                        tmp_path: Path) -> None:
    """Merging changes main for everyone: merge, compare, then revert the merge and prove main is back."""
    res = check_branch(expansion.name, Options(out=tmp_path), target=netbox)
    assert res.devices, "the expansion branch changes nothing?"
    main_before = res.before.configs
    merged = False
    try:
        merge_branch(netbox, expansion)
        merged = True
        main_after_merge = _render_main(netbox)
        assert sorted(main_after_merge) == sorted(res.after.configs)
        for dev, files in res.after.configs.items():
            assert main_after_merge[dev] == files, f"{dev}: merged main renders differently from the check"
    finally:
        if merged:
            b = get_branch(netbox, expansion.name)
            assert b is not None
            revert_branch(netbox, b)
    main_reverted = _render_main(netbox)
    assert sorted(main_reverted) == sorted(main_before)
    for dev, files in main_before.items():
        assert main_reverted[dev] == files, f"{dev}: main differs after the revert"
