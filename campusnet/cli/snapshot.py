"""`campusnet snapshot`: read NetBox once (bulk, paged, parallel) and write the typed Snapshot as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from campusnet import settings

out = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command(name="snapshot")(snapshot)


def snapshot(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Where to write the snapshot JSON ('-': stdout).")]
    = Path("out/snapshot.json"),
    limit: Annotated[list[str] | None, typer.Option(
        "--limit", "-l", help="Keep only some devices: site=…, role=…, tag=…, name=GLOB (repeatable, AND-ed; "
                              "'a|b' for either).")] = None,
    branch: Annotated[str | None, typer.Option(
        "--branch", help="Read a NetBox branch (its schema id, sent as X-NetBox-Branch).")] = None,
    mode: Annotated[str, typer.Option("--mode", help="'fields' (only what is needed, fastest) or 'full'.")]
    = "fields",
) -> None:
    """Read NetBox once into a typed Snapshot (every verb accepts it back with --snapshot FILE)."""
    from campusnet.sot.limit import Limit
    from campusnet.sot.reader import read_snapshot

    if mode not in ("fields", "full"):
        raise typer.BadParameter("--mode is 'fields' or 'full'")
    target = settings.netbox_target()
    if branch:
        target = target.with_branch(branch)
    snap = read_snapshot(target, limit=Limit.parse(limit), mode="full" if mode == "full" else "fields")
    if str(out_file) == "-":
        print(snap.model_dump_json(indent=1))
    else:
        snap.save(out_file)
    s = snap.source
    out.print(f"snapshot of {s.url}{' branch ' + s.branch if s.branch else ''} (NetBox {s.netbox_version}): "
              f"{len(snap.devices)} devices, {len(snap.interfaces)} interfaces, {len(snap.cables)} cables, "
              f"{len(snap.ip_addresses)} IPs in {s.requests} requests, {s.seconds:.2f} s"
              + (f" -> {out_file}" if str(out_file) != "-" else ""), highlight=False)
