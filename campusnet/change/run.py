"""One change check, top to bottom: the two sides → per-device diffs → rules → (lab proof) → outputs."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from campusnet import settings
from campusnet.change.diff import compare_rules, diff_configs
from campusnet.change.labproof import LabSide
from campusnet.change.model import ChangeResult, Side
from campusnet.change.report import write_outputs
from campusnet.change.scope import Scope
from campusnet.change.sources import Rendered
from campusnet.errors import CampusnetError
from campusnet.pipeline import Pipeline
from campusnet.settings import NetBoxTarget
from campusnet.sot import Snapshot

Log = Callable[[str], None]


def _nolog(_: str) -> None:
    return None


@dataclass
class Options:
    out: Path | None = None  # default out/check-change/<name>
    lab_proof: bool = False
    sync: bool = False  # sync a NetBox branch with main before reading it
    fail_on: Literal["all", "new"] = "all"
    settle: float = 90.0
    incremental: bool = False  # read both sides incrementally; without the lab proof, render only the scope
    log: Log = _nolog
    timings: dict[str, float] = field(default_factory=dict)


def default_out(name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "change"
    return settings.REPO_ROOT / "out" / "check-change" / safe


def _rule_table() -> dict[str, tuple[str, str]]:
    from campusnet.rules import RULES

    return {name: (r.category, r.summary) for name, r in RULES.items()}


def compare(name: str, kind: Literal["branch", "git-ref", "snapshots"], before: Side, after: Side,
            fail_on: Literal["all", "new"] = "all", rules: Mapping[str, tuple[str, str]] | None = None
            ) -> ChangeResult:
    """The pure part: diffs and rule comparison of two rendered sides (``rules``: name -> (category,
    summary), default the registry)."""
    res = ChangeResult(name, kind, before, after, fail_on=fail_on)
    res.devices = diff_configs(before.configs, after.configs, {**before.platforms, **after.platforms})
    if after.findings is not None:
        res.rules = compare_rules(_rule_table() if rules is None else rules, after.findings, before.findings)
    if before.findings is None:
        res.warnings.append("the rules could not run on the before side: every violation counts as new")
    if before.render_errors:
        res.warnings.append(f"{len(before.render_errors)} device(s) did not render on the before side "
                            f"({', '.join(sorted(before.render_errors))}): they show as new if they render now")
    return res


def _pipeline(r: Rendered) -> Pipeline:
    assert r.pipeline is not None
    return r.pipeline


def _lab_proof(res: ChangeResult, after: Rendered, before_side: LabSide, out: Path, opts: Options) -> None:
    from campusnet.change.labproof import PipelineLab, run_lab_proof

    res.lab.requested = True
    if res.after.render_errors:
        res.lab.reason = "the after-state does not render"
        return
    if not res.rules_ran or res.failing_findings:
        res.lab.reason = "the validation rules refuse the after-state: not deployed"
        return
    t0 = time.monotonic()
    res.lab = run_lab_proof(PipelineLab(res.after.label, _pipeline(after)), before_side,
                            out=out / "lab", settle=opts.settle, log=opts.log)
    opts.timings["lab proof"] = time.monotonic() - t0


def _finish(res: ChangeResult, out: Path, opts: Options, t_start: float) -> ChangeResult:
    res.timings.update(opts.timings)
    res.timings["total"] = time.monotonic() - t_start
    res.out_dir = str(out)
    paths = write_outputs(res, out)
    opts.log(f"wrote {paths['summary']}, {paths['junit']}, {paths['result']}")
    return res


# ------------------------------------------------------------------------------------------------------
def check_branch(branch_name: str, opts: Options, target: NetBoxTarget | None = None) -> ChangeResult:
    """A NetBox branch against main (same NetBox)."""
    from campusnet.change.labproof import PipelineLab
    from campusnet.change.sources import (
        branch_changes_condensed,
        main_changes_since,
        read_pair,
        read_pair_incremental,
        render_snapshot,
        resolve_branch,
        sync_branch,
    )

    t_start = time.monotonic()
    tgt = (target or settings.netbox_target()).with_branch(None)
    branch = resolve_branch(tgt, branch_name)
    out = opts.out or default_out(branch.name)
    if opts.sync:
        t0 = time.monotonic()
        opts.log(f"syncing branch {branch.name} with main")
        sync_branch(tgt, branch)
        opts.timings["sync"] = time.monotonic() - t0
    opts.log(f"reading main and branch {branch.name} ({branch.schema_id}) from {tgt.url}")
    if opts.incremental:
        main_snap, br_snap, times = read_pair_incremental(tgt, branch, log=opts.log)
    else:
        main_snap, br_snap, times = read_pair(tgt, branch)
    opts.timings.update(times)
    t0 = time.monotonic()
    scope = _scope(main_snap, br_snap, opts)
    before = render_snapshot("NetBox main", main_snap, devices=scope.devices if scope else None)
    after = render_snapshot(f"NetBox branch {branch.name}", br_snap, devices=scope.devices if scope else None)
    opts.timings["render + rules"] = time.monotonic() - t0
    res = compare(branch.name, "branch", before.side, after.side, opts.fail_on)
    res.after.info["branch"] = {"name": branch.name, "schema_id": branch.schema_id, "id": branch.id}
    if scope is not None:
        res.after.info["scope"] = {"devices": None if scope.devices is None else sorted(scope.devices),
                                   "changed": sorted(scope.changed), "reason": scope.reason}
    t0 = time.monotonic()
    res.netbox_changes = branch_changes_condensed(tgt, branch, br_snap)
    opts.timings["branch changes"] = time.monotonic() - t0
    conflicts = [c for c in res.netbox_changes if c.get("conflicts")]
    if conflicts:
        res.warnings.append(f"{len(conflicts)} object(s) in the branch conflict with main (changed on both): "
                            + ", ".join(f"{c['object_type']} {c['object']}" for c in conflicts[:5]))
    last_sync = _last_sync(tgt, branch.id)
    if last_sync:
        behind, sample = main_changes_since(tgt, last_sync)
        if behind:
            res.warnings.append(f"main has {behind} change(s) since the branch was last synced ({last_sync}; "
                                f"e.g. {', '.join(sample)}): the after-state lacks them, so the diff may show them "
                                "reversed; sync the branch (--sync)")
    if opts.lab_proof:
        _lab_proof(res, after, PipelineLab("NetBox main", _pipeline(before)), out, opts)
    return _finish(res, out, opts, t_start)


def _scope(before: Snapshot, after: Snapshot, opts: Options) -> Scope | None:
    """With ``incremental`` and no lab proof: only the devices the change can affect are rendered."""
    from campusnet.change.scope import affected

    if not opts.incremental or opts.lab_proof:
        return None
    t0 = time.monotonic()
    scope = affected(before, after)
    opts.timings["scope"] = time.monotonic() - t0
    opts.log(f"scope: {scope.reason}")
    return scope


def _last_sync(target: NetBoxTarget, branch_id: int) -> str | None:
    from campusnet.sot.reader import Fetcher

    try:
        with Fetcher(target.with_branch(None), timeout=30) as c:
            r = c.request("GET", f"/api/plugins/branching/branches/{branch_id}/")
            return str(r.json().get("last_sync") or "") or None if r.status_code == 200 else None
    except (CampusnetError, ValueError):
        return None


def check_git_ref(ref: str, opts: Options, snapshot: Path | None = None,
                  target: NetBoxTarget | None = None) -> ChangeResult:
    """This working tree's code and templates against those of git ``ref``, over one snapshot of NetBox."""
    from campusnet.change.labproof import RefLab
    from campusnet.change.sources import (
        changed_paths,
        ref_tree,
        render_ref,
        render_snapshot,
        resolve_ref,
        temp_dir,
        templates_only,
        unpack_ref,
    )
    from campusnet.pipeline import read_snapshot

    t_start = time.monotonic()
    sha = resolve_ref(ref)
    short = sha[:10]
    out = opts.out or default_out(f"git-{ref}")
    paths = changed_paths(sha)
    t0 = time.monotonic()
    snap: Snapshot = read_snapshot(snapshot, target=target)
    opts.timings["read" if snapshot is None else "load snapshot"] = time.monotonic() - t0
    out.mkdir(parents=True, exist_ok=True)
    snap_file = out / "snapshot.json"
    snap.save(snap_file)
    t0 = time.monotonic()
    after = render_snapshot("working tree", snap)
    opts.timings["render after"] = time.monotonic() - t0
    label = f"git {ref} ({short})"
    relevant = [p for p in paths if p.startswith(("campusnet/", "templates/", "nornir_tasks/", "pyproject.toml"))]
    mode: str
    with temp_dir() as tmp_s:
        tmp = Path(tmp_s)
        t0 = time.monotonic()
        tree = None
        if not relevant:
            mode = "identical code and templates: rendered in-process"
            before_side = render_snapshot(label, snap).side
        elif templates_only(paths):
            mode = "only templates differ: REF's templates rendered in-process"
            unpack_ref(sha, tmp / "tpl", ("templates",))
            before_side = render_snapshot(label, snap, templates=tmp / "tpl" / "templates").side
        else:
            mode = "code differs: REF's code and templates run in a subprocess (git archive)"
            tree = ref_tree(sha, tmp)
            before_side = render_ref(tree, label, snap_file, tmp / "rendered", log=opts.log)
        opts.timings["render before"] = time.monotonic() - t0
        before_side.info["mode"] = mode
        before_side.info["commit"] = sha
        res = compare(ref, "git-ref", before_side, after.side, opts.fail_on)
        res.after.info["changed_paths"] = paths
        design = [p for p in paths if p.startswith("inventory/")]
        if design:
            res.warnings.append(f"{len(design)} design file(s) under inventory/ differ from {ref}: NetBox data is "
                                "not re-seeded by this check (seed them into a NetBox branch and use --branch)")
        if opts.lab_proof:
            if tree is not None:
                before_lab: LabSide = RefLab(label, tree, snap_file, {n.name for n in _pipeline(after).plan.nodes})
            else:
                from campusnet.change.labproof import PipelineLab

                before_lab = PipelineLab(label, _pipeline(render_snapshot(label, snap)))
            _lab_proof(res, after, before_lab, out, opts)
    return _finish(res, out, opts, t_start)


def check_snapshots(before_file: Path, after_file: Path, opts: Options) -> ChangeResult:
    """Two snapshot files (offline: CI without NetBox, or a recorded change)."""
    from campusnet.change.sources import render_snapshot
    from campusnet.pipeline import read_snapshot

    t_start = time.monotonic()
    for p in (before_file, after_file):
        if not p.exists():
            raise CampusnetError("E202", "snapshot file not found", obj=str(p), field="--before/--after")
    b = render_snapshot(f"snapshot {before_file.name}", read_snapshot(before_file))
    a = render_snapshot(f"snapshot {after_file.name}", read_snapshot(after_file))
    name = f"{before_file.stem}..{after_file.stem}"
    res = compare(name, "snapshots", b.side, a.side, opts.fail_on)
    if opts.lab_proof:
        from campusnet.change.labproof import PipelineLab

        _lab_proof(res, a, PipelineLab(b.side.label, _pipeline(b)), opts.out or default_out(name), opts)
    return _finish(res, opts.out or default_out(name), opts, t_start)
