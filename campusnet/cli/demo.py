"""`campusnet demo`: the main job on the embedded default (or on NETBOX_URL)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

out = Console()


def register(app: typer.Typer) -> None:
    app.command(name="demo")(demo)


def demo(
    out_dir: Path = typer.Option(Path("out/demo"), "--out", help="Where the report and rendered configs go."),
    no_lab: bool = typer.Option(False, "--no-lab", help="Stop after rendering (no root needed)."),
    settle: float = typer.Option(90.0, "--settle", help="Seconds to wait for the network to converge."),
) -> None:
    """Run everything: local NetBox up, seed the reference campus, validate, render, build the lab, deploy,
    verify, and write a report (out/demo/report.md) with per-stage times and per-device results.
    Re-running is fast and reaches the same verified state. With NETBOX_URL/NETBOX_TOKEN set, uses that NetBox."""
    from campusnet.demo import run_demo

    rep = run_demo(out=out_dir, log=lambda m: out.print(m, highlight=False, markup=False), lab=not no_lab,
                   settle=settle)
    total = sum(s.seconds for s in rep.stages)
    out.print(f"[bold {'green' if rep.ok else 'red'}]{'OK' if rep.ok else 'FAILED'}[/] in {total:.1f} s")
    if not rep.ok:
        raise typer.Exit(1)
