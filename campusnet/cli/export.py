"""`campusnet export monitoring`: monitoring targets from NetBox (Prometheus file_sd JSON, or CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True)

export_app = typer.Typer(help="Export data from NetBox for other systems.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")


@export_app.command("monitoring")
def monitoring(
    out: Annotated[str, typer.Option("--out", "-o", help="File to write ('-': stdout); replaced atomically.")] = "-",
    fmt: Annotated[str, typer.Option("--format", "-f", help="'json' (Prometheus file_sd) or 'csv'.")] = "json",
    snapshot: Annotated[Path | None, typer.Option("--snapshot", help="Use a saved Snapshot instead of NetBox.")]
    = None,
    port: Annotated[int | None, typer.Option("--port", help="Append :PORT to every target (exporter port).")]
    = None,
    limit: Annotated[list[str] | None, typer.Option("--limit", "-l", help="Only some devices: site=…, role=…, "
                                                    "tag=…, name=GLOB (repeatable).")] = None,
) -> None:
    """One target per device with a management address (oob_ip), labelled site, role, tenant, device,
    platform. Reads NetBox with the auditor's read-only token."""
    from campusnet import settings
    from campusnet.export.monitoring import render, targets, write_atomic
    from campusnet.sot import load_or_read

    if fmt not in ("json", "csv"):
        raise typer.BadParameter("--format is 'json' or 'csv'")
    if port is not None and not 0 < port < 65536:
        raise typer.BadParameter("--port must be 1..65535")
    target = None if snapshot else settings.netbox_target(role="auditor")
    from campusnet.sot.limit import Limit

    snap = load_or_read(snapshot, target, limit=Limit.parse(limit) if limit else None)
    entries = targets(snap, port)
    text = render(entries, "csv" if fmt == "csv" else "json")
    if out == "-":
        print(text, end="")
    else:
        write_atomic(Path(out), text)
    skipped = len(snap.devices) - len(entries)
    err.print(f"{len(entries)} monitoring targets" + (f" ({skipped} devices without oob_ip)" if skipped else "")
              + (f" -> {out}" if out != "-" else ""), highlight=False, markup=False)
