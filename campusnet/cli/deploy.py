"""`campusnet deploy`: back up, diff, and (with --commit) push the lab, device by device, in parallel."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from campusnet.errors import CampusnetError

out = Console()

STATUS_STYLE = {"unchanged": "green", "would-change": "yellow", "changed": "cyan", "rolled-back": "red",
                "failed": "bold red"}


def register(app: typer.Typer) -> None:
    app.command(name="deploy")(deploy)


def print_diffs(results: Iterable[Any]) -> None:
    """Each device's diff under a rule with its name (deploy and rollback)."""
    for r in results:
        if r.diff.strip():
            out.rule(r.device)
            out.print(r.diff, markup=False, highlight=False)


def deploy(
    commit: bool = typer.Option(False, "--commit", help="Push the changes (default: back up and show diffs only)."),
    limit: list[str] = typer.Option(None, "--limit", "-l", help="Only these lab nodes / NetBox devices."),
    snapshot: Path = typer.Option(None, "--snapshot", help="Read this snapshot instead of NetBox."),
    branch: str = typer.Option(None, "--branch", help="Read NetBox through this branch (schema id)."),
    via: str = typer.Option("nornir", "--via", help="nornir (default) or direct (thread pool, no Nornir)."),
    workers: int = typer.Option(8, "--workers", help="Devices in parallel."),
    fail_post_check: list[str] = typer.Option(None, "--fail-post-check",
                                              help="Rehearse a rollback: force the post-check of this node to fail."),
    quiet_diff: bool = typer.Option(False, "--no-diff", help="Do not print the per-device diffs."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """Deploy the intended configuration (from NetBox) to the lab over SSH.

    Every device is backed up first (kept under .campusnet/backups/, timestamped, never overwritten).
    Without --commit nothing is pushed: the per-device diffs are printed. With --commit the minimal change is
    pushed, the device's post-checks run, and a device whose checks fail is rolled back to its backup.
    Exit code: 0 all good, 1 any device failed or was rolled back.
    """
    from campusnet.deploy.run import run_deploy

    if via not in ("nornir", "direct"):
        raise CampusnetError("E423", f"--via must be 'nornir' or 'direct', not {via!r}")
    summary = run_deploy(commit=commit, limit=limit or None, snapshot=snapshot, branch=branch, via=via,
                         workers=workers, fail_post_check_on=frozenset(fail_post_check or ()))
    if as_json:
        print(json.dumps(summary.as_dict(), indent=2, default=str))
    else:
        if not quiet_diff:
            print_diffs(summary.results)
        t = Table(title=f"deploy run {summary.run.run_id} ({'commit' if commit else 'dry run'})")
        for col in ("device", "status", "diff lines", "seconds", "backup", "note"):
            t.add_column(col)
        for r in summary.results:
            note = r.error or "; ".join(r.post_check_failures)[:120] or ""
            t.add_row(r.device, f"[{STATUS_STYLE[r.status]}]{r.status}[/]", str(r.diff_lines), f"{r.seconds:.1f}",
                      Path(r.backup).name if r.backup else "-", note[:160])
        out.print(t)
        out.print(f"run record: {summary.run.path}")
    if summary.failed:
        raise typer.Exit(1)
