"""`campusnet rollback`: put the devices a deploy run changed back to the backups that run took."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

out = Console()

STATUS_STYLE = {"unchanged": "green", "would-restore": "yellow", "restored": "cyan",
                "rollback-failed": "bold white on red", "failed": "bold red"}


def register(app: typer.Typer) -> None:
    app.command(name="rollback")(rollback)


def rollback(
    run: str = typer.Option(..., "--run", help="The deploy run to undo: its id (.campusnet/runs/<id>) or 'latest' "
                                               "(the newest committed run that pushed to a device, failed or not)."),
    commit: bool = typer.Option(False, "--commit", help="Restore (default: back up and show what would change)."),
    limit: list[str] = typer.Option(None, "--limit", "-l", help="Only these devices of that run."),
    workers: int = typer.Option(8, "--workers", help="Devices in parallel."),
    force: bool = typer.Option(False, "--force", help="Restore even though the validation rules find violations "
                                                      "on the devices in scope, or cannot read NetBox."),
    wait: float = typer.Option(0.0, "--wait", metavar="SECONDS",
                               help="Wait this long for devices another deploy or rollback holds (default: refuse)."),
    snapshot: Path = typer.Option(None, "--snapshot", help="Gate on this snapshot instead of reading NetBox."),
    branch: str = typer.Option(None, "--branch", help="Gate on this NetBox branch (schema id)."),
    accept_new_host_keys: bool = typer.Option(
        False, "--accept-new-host-keys",
        help="Learn the SSH host key of a device not in known_hosts (or CAMPUSNET_SSH_ACCEPT_NEW=1)."),
    quiet_diff: bool = typer.Option(False, "--no-diff", help="Do not print the per-device diffs."),
    as_json: bool = typer.Option(False, "--json", help="Print the rollback summary as JSON."),
) -> None:
    """Undo a deploy run: restore every device it pushed to, to the backup it took before pushing.

    Like deploy, --commit passes the gate first (the validation rules over the devices in scope: a violation
    refuses, exit 1, unless --force) and locks the devices. Each device is backed up again first (a rollback
    can be rolled back: it is a run of its own). Without --commit nothing is restored: the diffs running →
    backup are printed. With --commit the backup is restored and proven (the running configuration read
    back must equal it). NetBox still holds the new intent: `verify` shows the restored devices as drift
    until the data is reverted and deployed. Exit code: 0 all good, 1 refused or any device failed.
    """
    from campusnet.cli.deploy import FULL_NOTE, print_diffs, print_full_notes, refuse, report_gate
    from campusnet.deploy.gate import GateRefused
    from campusnet.deploy.rollback import run_rollback

    try:
        summary = run_rollback(run, commit=commit, limit=limit or None, workers=workers, force=force, wait=wait,
                               snapshot=snapshot, branch=branch, accept_new_host_keys=accept_new_host_keys or None)
    except GateRefused as exc:
        refuse(exc, "rollback", as_json=as_json)
    if as_json:
        print(json.dumps(summary.as_dict(), indent=2, default=str))
    else:
        report_gate(summary.gate, commit=commit, verb="rollback")
        if not quiet_diff:
            print_diffs(summary.results)
        t = Table(title=f"rollback run {summary.run.run_id} of {summary.rolled_back_run} "
                        f"({'commit' if commit else 'dry run'})")
        for col in ("device", "status", "restores", "seconds", "backup before rollback", "note"):
            t.add_column(col)
        for r in summary.results:
            note = r.error or ""
            if r.status in FULL_NOTE and note:
                note = "see below: " + note.splitlines()[0][:100]
            t.add_row(r.device, f"[{STATUS_STYLE[r.status]}]{r.status}[/]", Path(r.backup).name, f"{r.seconds:.1f}",
                      Path(r.pre_rollback_backup).name if r.pre_rollback_backup else "-", note[:160])
        out.print(t)
        print_full_notes(summary.results)
        out.print(f"run record: {summary.run.path}")
    if summary.failed:
        raise typer.Exit(1)
