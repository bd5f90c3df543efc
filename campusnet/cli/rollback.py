"""`campusnet rollback`: put the devices a deploy run changed back to the backups that run took."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

out = Console()

STATUS_STYLE = {"unchanged": "green", "would-restore": "yellow", "restored": "cyan", "failed": "bold red"}


def register(app: typer.Typer) -> None:
    app.command(name="rollback")(rollback)


def rollback(
    run: str = typer.Option(..., "--run", help="The deploy run to undo: its id (.campusnet/runs/<id>) or 'latest' "
                                               "(the newest committed run that changed a device)."),
    commit: bool = typer.Option(False, "--commit", help="Restore (default: back up and show what would change)."),
    limit: list[str] = typer.Option(None, "--limit", "-l", help="Only these devices of that run."),
    workers: int = typer.Option(8, "--workers", help="Devices in parallel."),
    quiet_diff: bool = typer.Option(False, "--no-diff", help="Do not print the per-device diffs."),
    as_json: bool = typer.Option(False, "--json", help="Print the rollback summary as JSON."),
) -> None:
    """Undo a deploy run: restore every device it changed to the backup it took before pushing.

    Each device is backed up again first (a rollback can be rolled back: it is a run of its own). Without
    --commit nothing is restored: the diffs running → backup are printed. With --commit the backup is
    restored and proven (the running configuration read back must equal it).
    NetBox still holds the new intent: `verify` shows the restored devices as drift until the data is
    reverted and deployed. Exit code: 0 all good, 1 any device failed.
    """
    from campusnet.cli.deploy import print_diffs
    from campusnet.deploy.rollback import run_rollback

    summary = run_rollback(run, commit=commit, limit=limit or None, workers=workers)
    if as_json:
        print(json.dumps(summary.as_dict(), indent=2, default=str))
    else:
        if not quiet_diff:
            print_diffs(summary.results)
        t = Table(title=f"rollback run {summary.run.run_id} of {summary.rolled_back_run} "
                        f"({'commit' if commit else 'dry run'})")
        for col in ("device", "status", "restores", "seconds", "backup before rollback", "note"):
            t.add_column(col)
        for r in summary.results:
            t.add_row(r.device, f"[{STATUS_STYLE[r.status]}]{r.status}[/]", Path(r.backup).name, f"{r.seconds:.1f}",
                      Path(r.pre_rollback_backup).name if r.pre_rollback_backup else "-", (r.error or "")[:160])
        out.print(t)
        out.print(f"run record: {summary.run.path}")
    if summary.failed:
        raise typer.Exit(1)
