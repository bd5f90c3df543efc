"""`campusnet render`: NetBox (or a snapshot) → intent → configuration files, one directory per device."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

out = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command(name="render")(render)


def render(
    snapshot: Annotated[Path | None, typer.Option(
        "--snapshot", "-s", help="Render from this snapshot JSON instead of reading NetBox.")] = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output directory (<out>/<device>/<file>).")]
    = Path("out/configs"),
    limit: Annotated[list[str] | None, typer.Option(
        "--limit", "-l", help="Render only some devices: site=…, role=…, tag=…, name=GLOB (repeatable, AND-ed). "
                              "Derivations still see the whole campus.")] = None,
    branch: Annotated[str | None, typer.Option(
        "--branch", help="Read a NetBox branch (its schema id) instead of main.")] = None,
    lab: Annotated[bool, typer.Option("--lab/--no-lab", help="Also render lab emulation files (lab/…).")] = True,
    fake_secrets: Annotated[bool, typer.Option(
        "--fake-secrets", help="Render secrets as FAKE-<name> (review and diff only, never deploy).")] = False,
) -> None:
    """Render intended configurations (VRP, Comware, FRR; lab emulation for devices tagged lab).

    Exit 0 when every device rendered, 2 when some could not be built (each is named with its field)."""
    from campusnet.pipeline import Pipeline
    from campusnet.render import placeholder_secret, render_all

    pipe = Pipeline.load(snapshot=snapshot, branch=branch, limit=limit, lab=lab, strict=False)
    intents, errors = pipe.intents, pipe.errors
    t_read, t_intent = pipe.read_seconds, pipe.intent_seconds
    with Progress(TextColumn("[bold]render[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=out, transient=True) as progress:
        task = progress.add_task("", total=len(intents))

        def step(host: str) -> None:
            progress.update(task, advance=1, description=host)

        summary = render_all(intents, out_dir, progress=step, lab=lab, emulations=pipe.emulations,
                             secrets=placeholder_secret if fake_secrets else None)

    table = Table(title=f"rendered into {out_dir}")
    table.add_column("platform")
    table.add_column("devices", justify="right")
    for platform, n in sorted(summary.per_platform.items()):
        table.add_row(platform, str(n))
    lab_n = len(pipe.emulations)
    if lab:
        table.add_row("lab emulation (linux-frr)", str(lab_n))
    out.print(table)
    out.print(f"{summary.devices} devices, {summary.files} files ({summary.changed} changed, "
              f"{summary.bytes / 1024:.0f} KiB); read {t_read:.2f} s, intent {t_intent:.2f} s, "
              f"render {summary.seconds:.2f} s", highlight=False)
    if errors:
        et = Table("device", "field", "problem", title=f"{len(errors)} device(s) not rendered")
        for e in errors:
            et.add_row(e.device, e.field or "", e.message)
        out.print(et)
        raise typer.Exit(2)
