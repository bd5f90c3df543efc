"""`campusnet deploy`: back up, diff, and (with --commit) push the lab, device by device, in parallel."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from campusnet.errors import CampusnetError

if TYPE_CHECKING:
    from campusnet.deploy.gate import GateResult

out = Console()

STATUS_STYLE = {"unchanged": "green", "would-change": "yellow", "changed": "cyan", "rolled-back": "red",
                "rollback-failed": "bold white on red", "failed": "bold red", "skipped": "magenta"}
#: statuses whose note is printed in full under the table (never cut): the engineer must act on them
FULL_NOTE = ("rollback-failed",)


def register(app: typer.Typer) -> None:
    app.command(name="deploy")(deploy)
    app.command(name="rq-worker")(rq_worker)


def print_diffs(results: Iterable[Any]) -> None:
    """Each device's diff under a rule with its name (deploy and rollback)."""
    for r in results:
        if r.diff.strip():
            out.rule(r.device)
            out.print(r.diff, markup=False, highlight=False)


def print_violations(violations: Iterable[Any], title: str) -> None:
    """The gate's violations: rule, object, field, message (deploy and rollback)."""
    t = Table("rule", "object type", "object", "field", "message", title=title)
    for v in violations:
        t.add_row(v.rule, v.object_type, v.object_name, v.field, v.message)
    out.print(t)


def report_gate(gate: GateResult | None, *, commit: bool, verb: str) -> None:
    """Before the results: what the gate found and what was done about it."""
    if gate is None:
        return
    if gate.error:
        out.print(f"[bold yellow]warning:[/] the validation rules did not run ({gate.error})"
                  + (": forced" if commit else ""), highlight=False)
    if not gate.violations:
        return
    if commit:
        print_violations(gate.violations, f"--force: {verb} went ahead over {len(gate.violations)} violation(s) "
                                          "(kept in the run record)")
    else:
        print_violations(gate.violations, f"warning: {len(gate.violations)} violation(s) on the devices in scope: "
                                          f"{verb} --commit will refuse to push (--force overrides)")


def refuse(exc: Any, verb: str, *, as_json: bool = False) -> None:
    """The gate refused: each violation, the coded refusal, exit 1 (nothing was written to any device)."""
    if as_json:
        print(json.dumps({"refused": exc.code, "message": str(exc),
                          "violations": [v.model_dump() for v in exc.violations]}, indent=2))
        raise typer.Exit(1)
    print_violations(exc.violations, f"{verb} refused: {len(exc.violations)} rule violation(s)")
    out.print(f"[bold red]{exc}[/]", highlight=False)
    raise typer.Exit(1)


def print_full_notes(results: Iterable[Any]) -> None:
    for r in results:
        if r.status in FULL_NOTE and r.error:
            out.rule(f"[bold red]{r.device}: {r.status}[/]")
            out.print(r.error, markup=False, highlight=False)


def deploy(
    commit: bool = typer.Option(False, "--commit", help="Push the changes (default: back up and show diffs only)."),
    limit: list[str] = typer.Option(None, "--limit", "-l", help="Only these lab nodes / NetBox devices."),
    snapshot: Path = typer.Option(None, "--snapshot", help="Read this snapshot instead of NetBox."),
    branch: str = typer.Option(None, "--branch", help="Read NetBox through this branch (schema id)."),
    via: str = typer.Option("nornir", "--via", help="nornir (default) or direct (thread pool, no Nornir)."),
    workers: int = typer.Option(8, "--workers", help="Devices in parallel."),
    force: bool = typer.Option(False, "--force", help="Push even though the validation rules find violations on "
                                                      "the devices in scope (the run record keeps forced: true)."),
    wait: float = typer.Option(0.0, "--wait", metavar="SECONDS",
                               help="Wait this long for devices another deploy or rollback holds (default: refuse)."),
    canary: int = typer.Option(0, "--canary", metavar="N",
                               help="Push N devices first; push the rest only if none of them failed."),
    max_failures: int = typer.Option(0, "--max-failures", metavar="K",
                                     help="Halt after K failed devices: devices not started are skipped."),
    accept_new_host_keys: bool = typer.Option(
        False, "--accept-new-host-keys",
        help="Learn the SSH host key of a device not in known_hosts (or CAMPUSNET_SSH_ACCEPT_NEW=1); a changed "
             "key is always refused."),
    fail_post_check: list[str] = typer.Option(None, "--fail-post-check",
                                              help="Rehearse a rollback: force the post-check of this node to fail."),
    confirm_timeout: int = typer.Option(
        120, "--confirm-timeout", metavar="SECONDS",
        help="Commit-confirm: each device reverts by itself to its state before the push unless the post-checks "
             "pass and deploy confirms within SECONDS (also when deploy dies or loses the device). 0: no "
             "timer. Default 120: the slowest healthy post-check (adjacencies included) takes about a minute."),
    queue: str = typer.Option(None, "--queue", metavar="URL",
                              help="Shard the run across RQ workers (`campusnet rq-worker`): rq://HOST:PORT/DB or "
                                   "`local` (the local NetBox's Redis, DB 2). docs/deploy.md \"Scale-out\"."),
    shard_by: str = typer.Option("site", "--shard-by", metavar="site|N",
                                 help="With --queue: one job per site (default) or per N devices."),
    queue_timeout: float = typer.Option(1800.0, "--queue-timeout", metavar="SECONDS",
                                        help="With --queue: a shard without a result by then is failed."),
    production: bool = typer.Option(False, "--production",
                                    help="Push to the --limit devices themselves (their management address, the "
                                         "VRP/Comware driver), not their lab nodes. docs/deploy.md \"Production\"."),
    replay: Path = typer.Option(None, "--replay", metavar="DIR",
                                help="Rehearse a production deploy: every device talks to the recorded session "
                                     "of its platform in DIR/<platform>/ (e.g. tests/fixtures/vendor), no SSH. "
                                     "Implies --production."),
    quiet_diff: bool = typer.Option(False, "--no-diff", help="Do not print the per-device diffs."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
) -> None:
    """Deploy the intended configuration (from NetBox) to the lab over SSH.

    First the gate: the validation rules run over the devices in scope and their links; with --commit a
    violation refuses the push (exit 1, nothing written) unless --force. Every device is then locked against
    other deploys and rollbacks, and backed up (kept under .campusnet/backups/, timestamped, never
    overwritten). Without --commit nothing is pushed: the per-device diffs are printed. With --commit the
    minimal change is pushed, the device's post-checks run (state, links, daemons, the OSPF/BGP adjacencies
    the intent implies), and a device whose checks fail is rolled back to its backup. Every push arms the
    device's own revert timer first (--confirm-timeout, default 120 s; docs/deploy.md "Commit-confirm"):
    deploy confirms it once the checks pass, so a device cut off from deploy mid-change goes back by itself.
    Exit code: 0 all good, 1 refused, or any device failed, was rolled back, was skipped or its rollback failed.
    """
    from campusnet.deploy.gate import GateRefused
    from campusnet.deploy.run import run_deploy

    if via not in ("nornir", "direct"):
        raise CampusnetError("E423", f"--via must be 'nornir' or 'direct', not {via!r}")
    if confirm_timeout < 0:
        raise CampusnetError("E441", f"must be 0 (no timer) or more seconds, not {confirm_timeout}", obj="deploy",
                             field="--confirm-timeout")
    try:
        summary = run_deploy(commit=commit, limit=limit or None, snapshot=snapshot, branch=branch, via=via,
                             workers=workers, fail_post_check_on=frozenset(fail_post_check or ()), force=force,
                             wait=wait, canary=canary, max_failures=max_failures,
                             accept_new_host_keys=accept_new_host_keys or None, confirm_timeout=confirm_timeout,
                             queue=queue, shard_by=shard_by, queue_timeout=queue_timeout,
                             production=production, replay=replay)
    except GateRefused as exc:
        refuse(exc, "deploy", as_json=as_json)
    if as_json:
        print(json.dumps(summary.as_dict(), indent=2, default=str))
    else:
        report_gate(summary.gate, commit=commit, verb="deploy")
        if not quiet_diff:
            print_diffs(summary.results)
        timer = f", confirm timer {confirm_timeout} s" if commit and confirm_timeout else ""
        t = Table(title=f"deploy run {summary.run.run_id} ({'commit' if commit else 'dry run'}{timer})")
        for col in ("device", "status", "diff lines", "seconds", "backup", "note"):
            t.add_column(col)
        for r in summary.results:
            note = r.error or "; ".join(r.post_check_failures) or ""
            if r.confirm and r.confirm != "confirmed":
                note = f"(confirm timer: {r.confirm}) {note}"
            if r.status in FULL_NOTE:
                note = "see below: " + note.splitlines()[0][:100] if note else ""
            t.add_row(r.device, f"[{STATUS_STYLE[r.status]}]{r.status}[/]", str(r.diff_lines), f"{r.seconds:.1f}",
                      Path(r.backup).name if r.backup else "-", note[:160])
        out.print(t)
        print_full_notes(summary.results)
        halted = (summary.run.extra.get("staging") or {}).get("halted")
        if halted:
            out.print(f"[bold magenta]{halted}[/]", highlight=False)
        out.print(f"run record: {summary.run.path}")
    if summary.failed:
        raise typer.Exit(1)


def rq_worker(
    queue: str = typer.Option("local", "--queue", metavar="URL",
                              help="rq://HOST:PORT/DB, or `local`: the local NetBox's Redis (DB 2)."),
    burst: bool = typer.Option(False, "--burst", help="Stop when the queue is empty."),
    name: str = typer.Option(None, "--name", help="The worker's name (default: RQ's)."),
) -> None:
    """Serve the sharded deploy queue (`campusnet deploy --queue`): an RQ worker on queue campusnet-deploy.

    The password of the local NetBox's Redis is read from its 0600 file, any other from
    CAMPUSNET_RQ_PASSWORD; SSH keys, tokens and secrets come from this process's environment and state
    directory (CAMPUSNET_STATE must be the controller's), never from the queue."""
    from campusnet.deploy.shard import work

    work(queue, burst=burst, name=name)
