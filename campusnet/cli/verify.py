"""`campusnet verify`: checks, derived from NetBox intent, that the lab's real state is what NetBox says.

Each node's state is collected once (one batch per node, all nodes at once: an SSH exec, or with
``--via pyats`` one execute() on a Unicon session), every check is judged
in-process, and pytest reports (JUnit XML + JSON): :mod:`campusnet.verify.run`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

out = Console()


def register(app: typer.Typer) -> None:
    app.command(name="verify")(verify)


def verify(
    snapshot: Path = typer.Option(None, "--snapshot", help="Read this snapshot instead of NetBox."),
    check: list[str] = typer.Option(None, "--check", "-c",
                                    help="Only these checks (link-up, lag-bundled, ospf-neighbors, bgp-sessions, "
                                         "evpn-vnis, reachability, config-sync)."),
    node: list[str] = typer.Option(None, "--node", "-n", help="Only checks on these lab nodes."),
    out_dir: Path = typer.Option(None, "--out", help="Where to write latest.json / latest.xml "
                                                      "(default .campusnet/verify)."),
    show_passed: bool = typer.Option(False, "--all", help="List passed checks too."),
    via: str = typer.Option("ssh", "--via", help="Collector: 'ssh' (one paramiko exec per node; default) or "
                            "'pyats' (a Unicon session per node, one execute() of the node's batch each; "
                            "~2x the collect time, docs/benchmarks.md)."),
) -> None:
    """Verify the lab against NetBox: links up, LAGs bundled, exactly the OSPF/BGP sessions the data implies,
    EVPN VNIs present, reachability (building user → DC server and provider test address; VPN user → DC),
    and no configuration drift. One SSH batch per node collects the state; the checks judge it in-process.
    Writes JUnit XML and JSON (with the time per check). Exit code 1 when any check fails."""
    from campusnet.deploy.targets import lab_targets
    from campusnet.errors import CampusnetError
    from campusnet.pipeline import Pipeline
    from campusnet.verify.expect import expectations
    from campusnet.verify.run import VerifyContext, run_verify

    if via not in ("pyats", "ssh"):
        raise CampusnetError("E438", f"unknown collector {via!r}: use 'pyats' or 'ssh'", obj="campusnet verify",
                             field="--via")
    pipe = Pipeline.load(snapshot=snapshot)
    exps = expectations(pipe.snapshot, pipe.plan, pipe.intents, pipe.emulations)
    if check:
        exps = [e for e in exps if e.check in set(check)]
    if node:
        exps = [e for e in exps if e.node in set(node)]
    ctx = VerifyContext(pipe.plan, exps, lab_targets(pipe.plan, pipe.intents, pipe.emulations), via=via)
    rc, results, path = run_verify(ctx, out_dir=out_dir)
    failed = [r for r in results if not r.passed]
    t = Table(title=f"verify: {len(results) - len(failed)} passed, {len(failed)} failed")
    for col in ("check", "device", "subject", "expected", "found"):
        t.add_column(col, overflow="fold")
    for r in sorted(results, key=lambda r: (r.passed, r.check, r.device)):
        if r.passed and not show_passed:
            continue
        style = "green" if r.passed else "red"
        t.add_row(f"[{style}]{r.check}[/]", r.device, r.subject, r.expected[:60], r.found[:60])
    out.print(t)
    for r in failed:
        out.rule(f"[red]{r.check}[/] on {r.device}")
        out.print(r.message, markup=False, highlight=False)
    timing = json.loads(path.read_text())
    out.print(f"{len(results)} checks on {timing.get('nodes')} nodes in {timing.get('seconds')} s "
              f"({timing.get('per_check_s')} s per check; collect {timing.get('collect_s')} s via {via})")
    out.print(f"results: {path} and {path.with_suffix('.xml')}")
    if rc != 0 or failed:
        raise typer.Exit(1)
