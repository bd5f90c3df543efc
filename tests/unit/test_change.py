"""check-change: diffs, rule comparison, summary and JUnit on hand-made before/after renders (no NetBox)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from campusnet.change.diff import compare_rules, diff_configs, unified
from campusnet.change.model import CheckOutcome, Finding, LabProof, LabStep, Side
from campusnet.change.report import render_junit, render_summary, write_outputs
from campusnet.change.run import compare, default_out

SPINE_BEFORE = "sysname spine1\n#\nbgp 65100\n peer 10.255.2.1 as-number 65101\n#\nreturn\n"
SPINE_AFTER = ("sysname spine1\n#\nbgp 65100\n peer 10.255.2.1 as-number 65101\n"
               " peer 10.255.2.17 as-number 65105\n#\nreturn\n")
LEAF = "sysname leaf5\n#\nbgp 65105\n peer 10.255.2.16 as-number 65100\n#\nreturn\n"

RULES = {"trunk-vlans-consistent": ("links", "Both ends of every switched link agree."),
         "no-aggregation-layer": ("topology", "Access switches uplink to the core."),
         "tenant-set": ("ownership", "Every object has a tenant.")}


def _f(rule: str, obj: str, field: str = "tagged_vlans", msg: str = "differs") -> Finding:
    return Finding(rule, "dcim.interface", obj, field, msg)


def _sides() -> tuple[Side, Side]:
    before = Side("NetBox main", configs={
        "spine1": {"spine1.cfg": SPINE_BEFORE, "lab/frr.conf": "router bgp 65100\n"},
        "core": {"core.cfg": "sysname core\n"},
        "old-switch": {"old-switch.cfg": "sysname old\n"},
    }, findings=[_f("tenant-set", "vlan:1", "tenant", "no tenant")])
    after = Side("NetBox branch x", configs={
        "spine1": {"spine1.cfg": SPINE_AFTER, "lab/frr.conf": "router bgp 65100\n"},
        "core": {"core.cfg": "sysname core\n"},
        "leaf5": {"leaf5.cfg": LEAF},
    }, findings=[_f("trunk-vlans-consistent", "as1:BAGG1 <-> core:Eth-Trunk1"),
                 _f("tenant-set", "vlan:1", "tenant", "no tenant (message may change)")])
    return before, after


def test_unified_marks_new_and_removed_files() -> None:
    add = unified(None, LEAF, "leaf5", "leaf5.cfg")
    assert add is not None and add.status == "added" and add.removed == 0 and add.added == len(LEAF.splitlines())
    assert add.diff.startswith("--- /dev/null\n+++ b/leaf5/leaf5.cfg\n")
    gone = unified(LEAF, None, "leaf5", "leaf5.cfg")
    assert gone is not None and gone.status == "removed" and gone.added == 0
    assert unified(LEAF, LEAF, "leaf5", "leaf5.cfg") is None
    nl = unified("a\n", "a", "d", "f")
    assert nl is not None and nl.status == "changed"  # a trailing newline still counts


def test_diff_only_changed_devices_sorted_and_marked() -> None:
    before, after = _sides()
    devices = diff_configs(before.configs, after.configs)
    assert [(d.device, d.status) for d in devices] == [("leaf5", "added"), ("old-switch", "removed"),
                                                       ("spine1", "changed")]
    spine = devices[2]
    assert [f.path for f in spine.files] == ["spine1.cfg"]  # identical lab file not listed
    assert (spine.added, spine.removed) == (1, 0)
    assert "+ peer 10.255.2.17 as-number 65105" in spine.diff
    assert "--- a/spine1/spine1.cfg" in spine.diff


def test_diff_lists_device_files_before_lab_files() -> None:
    d = diff_configs({}, {"n": {"lab/frr.conf": "x\n", "n.cfg": "y\n", "lab/net.sh": "z\n"}})[0]
    assert [f.path for f in d.files] == ["n.cfg", "lab/frr.conf", "lab/net.sh"]
    assert d.files[1].lab and not d.files[0].lab


def test_rules_new_vs_present_vs_resolved() -> None:
    before, after = _sides()
    before.findings = [*(before.findings or []), _f("no-aggregation-layer", "as9", "lag")]
    results = {r.rule: r for r in compare_rules(RULES, after.findings or [], before.findings)}
    assert list(results) == list(RULES)  # one per rule, in registry order
    assert results["trunk-vlans-consistent"].new == results["trunk-vlans-consistent"].findings
    assert results["tenant-set"].findings and not results["tenant-set"].new  # same key, message changed
    assert not results["no-aggregation-layer"].findings and len(results["no-aggregation-layer"].resolved) == 1
    unknown = compare_rules(RULES, after.findings or [], None)
    assert sum(len(r.new) for r in unknown) == 2  # before unknown: everything is new


def test_rule_only_in_findings_is_reported() -> None:
    res = compare_rules({}, [_f("from-the-ref", "x")], [])
    assert [r.rule for r in res] == ["from-the-ref"] and not res[0].passed


def test_verdict_fail_on_all_and_new() -> None:
    before, after = _sides()
    res = compare("x", "branch", before, after, rules=RULES)
    assert not res.ok and res.exit_code == 1
    assert any("trunk-vlans-consistent on as1:BAGG1 <-> core:Eth-Trunk1" in r for r in res.reasons())
    res_new = compare("x", "branch", before, after, fail_on="new", rules=RULES)
    assert len(res_new.failing_findings) == 1  # the tenant-set finding was there before
    after.findings = [f for f in after.findings or [] if f.rule == "tenant-set"]
    assert compare("x", "branch", before, after, fail_on="new", rules=RULES).ok
    assert not compare("x", "branch", before, after, fail_on="all", rules=RULES).ok


def test_render_error_and_missing_rules_refuse() -> None:
    before, after = _sides()
    after.findings = []
    assert compare("x", "branch", before, after, rules=RULES).ok
    after.render_errors = {"leaf6": "E210: leaf6 field 'bgp_asn': missing"}
    res = compare("x", "branch", before, after, rules=RULES)
    assert not res.ok and "leaf6" in res.reasons()[0]
    after.render_errors = {}
    after.findings = None
    assert not compare("x", "branch", before, after, rules=RULES).ok


def test_lab_proof_requested_must_pass() -> None:
    before, after = _sides()
    after.findings = []
    res = compare("x", "branch", before, after, rules=RULES)
    res.lab = LabProof(requested=True, ran=False, reason="needs root")
    assert not res.ok and res.reasons() == ["lab proof: needs root"]
    res.lab = LabProof(requested=True, ran=True, ok=True, restored=True,
                       checks=[CheckOutcome("bgp-sessions", "spine1", "bgp", "a,b", "a,b", True, "ok")])
    assert res.ok


def test_summary_is_a_comment() -> None:
    before, after = _sides()
    res = compare("demo-x", "branch", before, after, rules=RULES)
    res.timings = {"total": 3.2}
    md = render_summary(res)
    assert md.startswith("## ❌ campusnet check-change `demo-x`: refused")
    assert "| `leaf5` | **new** | 6 | 0 | `leaf5.cfg` (new) |" in md
    assert "| `old-switch` | **removed** | 0 | 1 |" in md
    assert "| `spine1` | changed | 1 | 0 | `spine1.cfg` |" in md
    assert "`core`" not in md  # unchanged devices are not listed
    assert "| `trunk-vlans-consistent` | **FAIL** | 1 | 1 |" in md
    assert "(**new**)" in md and "(already on the before side)" in md
    assert md.count("<details>") == md.count("</details>") == 3
    assert "```diff\n--- a/spine1/spine1.cfg" in md


def test_summary_stays_under_the_comment_limit() -> None:
    big = "".join(f"line {i}\n" for i in range(20000))
    before = Side("a", configs={"d": {"d.cfg": ""}}, findings=[])
    after = Side("b", configs={"d": {"d.cfg": big}, "e": {"e.cfg": "x\n"}}, findings=[])
    md = render_summary(compare("big", "branch", before, after, rules=RULES))
    assert len(md) < 65_536
    assert "Diff too long for a comment" in md and "diffs/d.diff" in md
    assert "```diff\n--- /dev/null\n+++ b/e/e.cfg" in md  # the small one still shown


def test_junit_one_case_per_device_rule_and_check() -> None:
    before, after = _sides()
    after.render_errors = {"leaf6": "E210: leaf6 field 'bgp_asn': missing"}
    res = compare("x", "branch", before, after, rules=RULES)
    res.lab = LabProof(requested=True, ran=True, ok=False, steps=[LabStep("lab up", True, 1.0, "ok")],
                       checks=[CheckOutcome("bgp-sessions", "spine1", "bgp", "a", "a", True, ""),
                               CheckOutcome("link-up", "leaf5", "xe1", "up", "down", False, "leaf5 xe1 down")])
    root = ET.fromstring(render_junit(res))  # noqa: S314 (our own output)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"render", "rules", "lab-proof"}
    names = [c.get("name") for c in suites["render"].findall("testcase")]
    assert names == [f"renders[{d}]" for d in ("core", "leaf5", "leaf6", "spine1")]
    assert suites["render"].get("failures") == "1"
    rules = {c.get("name"): c for c in suites["rules"].findall("testcase")}
    assert set(rules) == set(RULES)
    assert rules["trunk-vlans-consistent"].find("failure") is not None
    assert rules["tenant-set"].find("failure") is not None  # fail_on=all: present before still fails
    lab = {c.get("name"): c for c in suites["lab-proof"].findall("testcase")}
    assert lab["link-up[leaf5:xe1]"].find("failure") is not None
    assert lab["bgp-sessions[spine1:bgp]"].find("failure") is None
    assert root.get("tests") == str(4 + 3 + 3) and root.get("failures") == "4"


def test_junit_lab_not_requested_is_skipped() -> None:
    before, after = _sides()
    root = ET.fromstring(render_junit(compare("x", "branch", before, after, rules=RULES)))  # noqa: S314
    lab = root.find("testsuite[@name='lab-proof']")
    assert lab is not None and lab.get("skipped") == "1"


def test_write_outputs(tmp_path: Path) -> None:
    before, after = _sides()
    res = compare("x", "branch", before, after, rules=RULES)
    paths = write_outputs(res, tmp_path)
    data = json.loads(paths["result"].read_text())
    assert data["ok"] is False and data["exit_code"] == 1
    assert data["counts"]["added"] == 1 and data["counts"]["removed"] == 1 and data["counts"]["changed"] == 1
    assert data["counts"]["unchanged"] == 1 and data["counts"]["violations_new"] == 1
    assert sorted(p.name for p in (tmp_path / "diffs").iterdir()) == ["leaf5.diff", "old-switch.diff", "spine1.diff"]
    assert (tmp_path / "after" / "spine1" / "lab" / "frr.conf").exists()
    assert (tmp_path / "before" / "old-switch" / "old-switch.cfg").exists()


@pytest.mark.parametrize(("name", "tail"), [("demo-expansion", "demo-expansion"), ("git-HEAD~1", "git-HEAD_1"),
                                            ("a/b c", "a_b_c")])
def test_default_out(name: str, tail: str) -> None:
    assert default_out(name).parts[-3:] == ("out", "check-change", tail)


def test_templates_only_decides_the_fast_path() -> None:
    from campusnet.change.sources import templates_only

    assert templates_only(["templates/huawei_vrp/bgp.j2", "docs/x.md"])
    assert not templates_only(["templates/huawei_vrp/bgp.j2", "campusnet/render.py"])
    assert not templates_only(["docs/x.md"])  # nothing relevant: not the templates path either


def test_failed_devices_parsed_from_the_render_table() -> None:
    from campusnet.change.sources import _failed_devices

    stderr = ("51 devices …\n            2 device(s) not rendered\n┏━━━━━━┳━━━━━━━┳━━━━━━━━━┓\n"
              "┃ device ┃ field ┃ problem ┃\n┡━━━━━━╇━━━━━━━╇━━━━━━━━━┩\n"
              "│ yt-dc-leaf3 │ bgp_asn │ missing │\n│ jpl-core-1 │  │ no platform │\n└──────┴───────┴─────────┘\n")
    assert _failed_devices(stderr) == {"yt-dc-leaf3": "field 'bgp_asn': missing", "jpl-core-1": "no platform"}
