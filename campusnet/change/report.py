"""Write one change check's outputs: ``summary.md`` (a merge-request comment), ``junit.xml`` (CI),
``result.json`` (everything), ``diffs/<device>.diff`` and the two rendered trees (``before/``, ``after/``).

Configurations in every output are rendered with placeholder secrets (``FAKE-<name>``): a comment or an
artefact never carries a real secret.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from campusnet.change.model import ChangeResult, Configs, DeviceDiff

# GitHub refuses comments over 65,536 characters, GitLab notes over 1,000,000: keep the comment well below.
SUMMARY_BUDGET = 60_000
DIFF_BUDGET = 45_000


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _status_label(d: DeviceDiff) -> str:
    return {"added": "**new**", "removed": "**removed**", "changed": "changed"}[d.status]


def _files_label(d: DeviceDiff) -> str:
    names = []
    for f in d.files:
        mark = {"added": " (new)", "removed": " (gone)", "changed": ""}[f.status]
        names.append(f"`{f.path}`{mark}")
    return ", ".join(names)


def render_summary(res: ChangeResult, *, diff_budget: int = DIFF_BUDGET) -> str:
    c = res.counts()
    icon = "✅" if res.ok else "❌"
    verdict = "passes" if res.ok else "refused"
    lines = [f"## {icon} campusnet check-change `{res.name}`: {verdict}", ""]
    lines.append(f"**{res.after.label}** compared with **{res.before.label}**.")
    lines.append("")
    for reason in res.reasons():
        lines.append(f"- ❌ {reason}")
    for w in res.warnings:
        lines.append(f"- ⚠️ {w}")
    if res.reasons() or res.warnings:
        lines.append("")
    lab_txt = "not requested"
    if res.lab.requested:
        lab_txt = ("passed" if res.lab.ok else "FAILED" if res.lab.ran else "not run") + (
            f" ({res.lab.passed_checks} checks passed, {len(res.lab.failed_checks)} failed)" if res.lab.ran else "")
    lines += [
        "| | |", "|---|---|",
        f"| devices changed | {c['changed'] + c['added'] + c['removed']} of {c['devices_after']} "
        f"({c['added']} new, {c['removed']} removed, {c['changed']} changed, {c['unchanged']} unchanged) |",
        f"| lines | +{c['lines_added']} / −{c['lines_removed']} |",
        f"| render errors | {c['render_errors']} |",
        f"| rules | {c['rules'] - c['rules_failed']} of {c['rules']} pass; {c['violations']} violation(s), "
        f"{c['violations_new']} new, {c['violations_resolved']} resolved |"
        if res.rules_ran else "| rules | **not run** |",
        f"| lab proof | {lab_txt} |",
    ]
    scope = res.after.info.get("scope")
    if isinstance(scope, dict) and scope.get("devices") is not None:
        lines.append(f"| scope (--incremental) | only the devices the change can affect were rendered: "
                     f"{scope.get('reason')} |")
    lines.append("")

    # ---- devices -----------------------------------------------------------------------------------
    lines.append("### Configuration changes")
    lines.append("")
    if not res.devices:
        lines += ["No device configuration changes.", ""]
    else:
        lines += ["| device | change | + | − | files |", "|---|---|---:|---:|---|"]
        for d in res.devices:
            lines.append(f"| `{d.device}` | {_status_label(d)} | {d.added} | {d.removed} | {_files_label(d)} |")
        lines += ["", "`lab/…` files are the device's lab emulation (linux-frr), rendered for the lab proof.", ""]
    if res.after.render_errors:
        lines += ["### Render errors (after)", "", "| device | error |", "|---|---|"]
        lines += [f"| `{d}` | {_md(m)} |" for d, m in sorted(res.after.render_errors.items())]
        lines.append("")

    # ---- rules -------------------------------------------------------------------------------------
    lines.append("### Validation rules (after-state)")
    lines.append("")
    if not res.rules_ran:
        lines += ["The rules could not run on the after-state.", ""]
    else:
        lines += ["| rule | result | violations | new |", "|---|---|---:|---:|"]
        for r in res.rules:
            result = "pass" if r.passed else "**FAIL**"
            lines.append(f"| `{r.rule}` | {result} | {len(r.findings)} | {len(r.new)} |")
        lines.append("")
        findings = [(r, f) for r in res.rules for f in r.findings]
        if findings:
            lines.append("Violations:")
            lines.append("")
            for r, f in findings:
                tag = "**new**" if f in r.new else "already on the before side"
                lines.append(f"- `{f.rule}` — {f.object_type} **{f.object_name}** field `{f.field}`: "
                             f"{_md(f.message)} ({tag})")
            lines.append("")
        resolved = [f for r in res.rules for f in r.resolved]
        if resolved:
            lines.append("Resolved by this change:")
            lines.append("")
            lines += [f"- `{f.rule}` — {f.object_type} {f.object_name} field `{f.field}`" for f in resolved]
            lines.append("")

    # ---- lab proof ---------------------------------------------------------------------------------
    lines.append("### Lab proof")
    lines.append("")
    lab = res.lab
    if not lab.requested:
        lines += ["Not requested (`--lab-proof`).", ""]
    elif not lab.ran:
        lines += [f"Not run: {lab.reason}", ""]
    else:
        lines.append(f"**{'passed' if lab.ok else 'FAILED'}** in {lab.seconds:.0f} s: "
                     f"{lab.passed_checks} verification checks passed, {len(lab.failed_checks)} failed"
                     + (f"; lab nodes added {', '.join(lab.nodes_added)}" if lab.nodes_added else "")
                     + (f"; removed {', '.join(lab.nodes_removed)}" if lab.nodes_removed else "") + ".")
        lines.append("")
        lines += ["| step | result | seconds | detail |", "|---|---|---:|---|"]
        for s in lab.steps:
            lines.append(f"| {s.name} | {'ok' if s.ok else '**FAILED**'} | {s.seconds:.1f} | {_md(s.detail)[:200]} |")
        lines.append("")
        for ch in lab.failed_checks[:30]:
            lines.append(f"- ❌ `{ch.check}` on {ch.device}: {_md(ch.message)[:300]}")
        if lab.failed_checks:
            lines.append("")
        if lab.restored:
            lines.append(f"The lab was restored to the before-state afterwards (before-state deployed, "
                         f"{lab.restore_checks_passed} checks pass, {lab.restore_checks_failed} fail).")
        else:
            lines.append("⚠️ The lab was **not** restored to the before-state: "
                         "run `campusnet lab up` and `campusnet deploy --commit` from main.")
        lines.append("")

    # ---- NetBox changes (branch) -------------------------------------------------------------------
    if res.netbox_changes:
        lines.append(f"<details><summary>NetBox changes in the branch ({len(res.netbox_changes)} objects)</summary>")
        lines += ["", "| action | object type | object | fields |", "|---|---|---|---|"]
        for row in res.netbox_changes[:300]:
            lines.append(f"| {row['action']} | {row['object_type']} | {_md(str(row['object']))} | "
                         f"{_md(', '.join(row.get('fields', [])))[:200]} |")
        if len(res.netbox_changes) > 300:
            lines.append(f"| … | | {len(res.netbox_changes) - 300} more in result.json | |")
        lines += ["", "</details>", ""]

    # ---- diffs -------------------------------------------------------------------------------------
    if res.devices:
        lines.append("### Diffs")
        lines.append("")
        budget = diff_budget
        for d in res.devices:
            text = d.diff
            head = f"<details><summary><code>{d.device}</code> ({d.status}, +{d.added} −{d.removed})</summary>"
            if len(text) > budget:
                lines += [head, "", f"Diff too long for a comment ({len(text)} characters): see "
                                   f"`diffs/{d.device}.diff` in the job's artefacts.", "", "</details>"]
                continue
            budget -= len(text)
            lines += [head, "", "```diff", text.rstrip("\n"), "```", ""]
            for fd in d.files:
                if fd.remediation:
                    lines += [f"hier_config remediation for `{fd.path}` (the commands from before to after):", "",
                              "```", *fd.remediation, "```", ""]
            lines.append("</details>")
        lines.append("")
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in res.timings.items())
    lines.append(f"<sub>campusnet check-change · {timing}</sub>")
    text = "\n".join(lines) + "\n"
    if len(text) > SUMMARY_BUDGET and diff_budget > 0:
        return render_summary(res, diff_budget=max(0, diff_budget - (len(text) - SUMMARY_BUDGET) - 1000))
    return text


def render_junit(res: ChangeResult) -> str:
    """One ``testsuite`` per kind: ``render`` (a testcase per after-state device, and one per device that
    no longer renders), ``rules`` (one per rule), ``lab-proof`` (one per step and per verification check)."""
    root = ET.Element("testsuites", name=f"check-change {res.name}")

    def suite(name: str) -> ET.Element:
        return ET.SubElement(root, "testsuite", name=name)

    def case(parent: ET.Element, classname: str, name: str, *, failure: str | None = None,
             skipped: str | None = None, seconds: float = 0.0, out: str | None = None) -> None:
        tc = ET.SubElement(parent, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")
        if failure is not None:
            f = ET.SubElement(tc, "failure", message=failure.splitlines()[0][:500] if failure else "failed")
            f.text = failure
        if skipped is not None:
            ET.SubElement(tc, "skipped", message=skipped)
        if out:
            ET.SubElement(tc, "system-out").text = out

    changed = {d.device: d for d in res.devices}
    s = suite("render")
    for dev in sorted(set(res.after.configs) | set(res.after.render_errors)):
        err = res.after.render_errors.get(dev)
        d = changed.get(dev)
        note = f"{d.status}: +{d.added} -{d.removed}" if d else "unchanged"
        case(s, "check-change.render", f"renders[{dev}]", failure=err, out=None if err else note)

    s = suite("rules")
    if not res.rules_ran:
        case(s, "check-change.rules", "rules", failure="the validation rules could not run on the after-state")
    for r in res.rules:
        failing = r.new if res.fail_on == "new" else r.findings
        msg = "\n".join(f"{'NEW ' if f in r.new else ''}{f}" for f in r.findings) or None
        case(s, f"check-change.rules.{r.category}", r.rule,
             failure=msg if failing else None, out=msg if msg and not failing else None)

    s = suite("lab-proof")
    lab = res.lab
    if not lab.requested:
        case(s, "check-change.lab", "lab-proof", skipped="not requested (--lab-proof)")
    elif not lab.ran:
        case(s, "check-change.lab", "lab-proof", failure=f"not run: {lab.reason}")
    else:
        for st in lab.steps:
            case(s, "check-change.lab.step", st.name, failure=None if st.ok else st.detail or "failed",
                 seconds=st.seconds, out=st.detail if st.ok else None)
        for ch in lab.checks:
            case(s, f"check-change.lab.{ch.check}", ch.name,
                 failure=None if ch.passed else ch.message or f"expected {ch.expected}, found {ch.found}")

    for su in root.findall("testsuite"):
        cases = su.findall("testcase")
        su.set("tests", str(len(cases)))
        su.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        su.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
        su.set("errors", "0")
    root.set("tests", str(sum(int(su.get("tests", "0")) for su in root)))
    root.set("failures", str(sum(int(su.get("failures", "0")) for su in root)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _write_tree(configs: Configs, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    for dev, files in configs.items():
        for rel, text in files.items():
            p = out / dev / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")


def write_outputs(res: ChangeResult, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"summary": out / "summary.md", "junit": out / "junit.xml", "result": out / "result.json",
             "diffs": out / "diffs"}
    paths["summary"].write_text(render_summary(res), encoding="utf-8")
    paths["junit"].write_text(render_junit(res), encoding="utf-8")
    paths["result"].write_text(json.dumps(res.as_dict(), indent=1, default=str) + "\n", encoding="utf-8")
    if paths["diffs"].exists():
        shutil.rmtree(paths["diffs"])
    paths["diffs"].mkdir()
    for d in res.devices:
        (paths["diffs"] / f"{d.device}.diff").write_text(d.diff, encoding="utf-8")
    _write_tree(res.before.configs, out / "before")
    _write_tree(res.after.configs, out / "after")
    return paths
