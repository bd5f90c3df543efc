"""`campusnet check-change`: what a proposed change (a NetBox branch or a git ref) does to the network.

Renders before and after, diffs per device, runs the rules on the after-state (new vs. already present),
optionally proves it in the lab, and writes summary.md / junit.xml / result.json (docs/check-change.md).
Exit 0 when the change passes, 1 when a rule, a render or a lab check fails, 2 on bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from campusnet.errors import CampusnetError

out = Console()
err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command(name="check-change")(check_change)


def check_change(
    branch: Annotated[str | None, typer.Option(
        "--branch", "-b", help="A NetBox branch (name or schema id): main vs. the branch, same NetBox.")] = None,
    git_ref: Annotated[str | None, typer.Option(
        "--git-ref", "-g", help="A git ref of this repository: its code/templates vs. the working tree.")] = None,
    snapshot: Annotated[Path | None, typer.Option(
        "--snapshot", "-s", help="With --git-ref: render this snapshot instead of reading NetBox.")] = None,
    before: Annotated[Path | None, typer.Option(
        "--before", help="Offline: a before-state snapshot file (with --after).")] = None,
    after: Annotated[Path | None, typer.Option("--after", help="Offline: an after-state snapshot file.")] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Output directory (default out/check-change/<name>).")] = None,
    lab_proof: Annotated[bool, typer.Option(
        "--lab-proof", help="Build the after-state lab, deploy, verify, then restore the before-state (root).")]
    = False,
    sync: Annotated[bool, typer.Option(
        "--sync", help="With --branch: sync the branch with main first (a job on the branch, main untouched).")]
    = False,
    fail_on: Annotated[str, typer.Option(
        "--fail-on", help="'all': any violation in the after-state fails; 'new': only violations the change "
                          "introduces.")] = "all",
    settle: Annotated[float, typer.Option(
        "--settle", help="Lab proof: seconds to let routing converge before a failed check counts.")] = 90.0,
    make_demo: Annotated[str | None, typer.Option(
        "--make-demo", help="Create the demonstration branch demo-<NAME> (expansion, bad-trunk, bad-uplink) "
                            "and exit; then check it with --branch demo-<NAME>.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
    incremental: Annotated[bool, typer.Option(
        "--incremental", help="--branch: read main from its cached snapshot plus NetBox's changes, the branch "
                              "on top of it; without --lab-proof render and diff only the devices the change "
                              "can affect (changed devices and their cable, VC and FHRP neighbours).")] = False,
) -> None:
    """Check a proposed change: per-device config diffs, rules on the after-state, optional lab proof.

    Exit 0 when it passes, 1 when it is refused (rule, render or lab check), 2 on an error (unknown branch,
    bad ref, unreachable NetBox)."""
    from campusnet import settings

    def log(msg: str) -> None:
        if not quiet:
            err.print(f"[dim]·[/] {msg}", highlight=False, markup=True)

    if make_demo:
        from campusnet.change.demo_branches import make_demo as do_make

        demo = do_make(settings.netbox_target(), make_demo, log=log)
        out.print(f"branch [bold]{demo.name}[/] (schema {demo.branch.schema_id}): {demo.description}")
        for w in demo.writes:
            out.print(f"  {w}", highlight=False)
        out.print(f"check it: campusnet check-change --branch {demo.name}")
        return
    chosen = [x for x in (branch, git_ref, before or after) if x]
    if len(chosen) != 1:
        raise CampusnetError("E160", "give exactly one of --branch NAME, --git-ref REF, --before/--after FILES",
                             obj="check-change", field="--branch/--git-ref")
    if fail_on not in ("all", "new"):
        raise CampusnetError("E160", "must be 'all' or 'new'", obj=fail_on, field="--fail-on")
    if snapshot and not git_ref:
        raise CampusnetError("E160", "--snapshot goes with --git-ref", obj=str(snapshot), field="--snapshot")

    from campusnet.change.run import Options, check_branch, check_git_ref, check_snapshots

    opts = Options(out=out_dir, lab_proof=lab_proof, sync=sync, fail_on=fail_on, settle=settle, log=log,  # type: ignore[arg-type]
                   incremental=incremental)
    if branch:
        res = check_branch(branch, opts)
    elif git_ref:
        if snapshot is not None and not snapshot.exists():
            raise CampusnetError("E202", "snapshot file not found", obj=str(snapshot), field="--snapshot")
        res = check_git_ref(git_ref, opts, snapshot=snapshot)
    else:
        if not (before and after):
            raise CampusnetError("E160", "--before and --after go together", obj="check-change", field="--before")
        res = check_snapshots(before, after, opts)

    c = res.counts()
    if res.devices:
        t = Table("device", "change", "+", "−", "files", title=f"{len(res.devices)} device(s) change")
        for d in res.devices:
            t.add_row(d.device, d.status, str(d.added), str(d.removed), ", ".join(f.path for f in d.files))
        out.print(t)
    else:
        out.print("no device configuration changes")
    for r in res.rules:
        for f in r.findings:
            mark = "[red]NEW[/]" if f in r.new else "[yellow]before too[/]"
            out.print(f"{mark} {f.rule}: {f.object_type} [bold]{f.object_name}[/] field '{f.field}': {f.message}",
                      highlight=False)
    if res.lab.requested:
        lab = res.lab
        out.print(f"lab proof: {'passed' if lab.ok else 'FAILED' if lab.ran else 'not run'}"
                  + (f", {lab.passed_checks} checks passed, {len(lab.failed_checks)} failed" if lab.ran else "")
                  + (f"; restored the before-state ({lab.restore_checks_passed} checks pass)" if lab.restored
                     and lab.restore_checks_passed else "; lab taken down as found" if lab.restored else "")
                  + (f" — {lab.reason}" if lab.reason else ""), highlight=False)
    for w in res.warnings:
        out.print(f"[yellow]warning[/] {w}", highlight=False)
    verdict = "[green]PASS[/]" if res.ok else "[red]REFUSED[/]"
    out.print(f"{verdict} {res.name}: {c['added']} new, {c['removed']} removed, {c['changed']} changed device(s), "
              f"+{c['lines_added']}/−{c['lines_removed']} lines; rules {c['rules'] - c['rules_failed']}/{c['rules']} "
              f"pass ({c['violations']} violation(s), {c['violations_new']} new) in {res.timings['total']:.1f} s",
              highlight=False)
    for reason in res.reasons():
        out.print(f"  [red]✗[/] {reason}", highlight=False)
    out.print(f"outputs: {res.out_dir}/{{summary.md,junit.xml,result.json}}", highlight=False)
    raise typer.Exit(res.exit_code)
