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
    incremental: Annotated[bool, typer.Option(
        "--incremental", help="Start from the cached snapshot (.campusnet/snapshots/) and re-read only what "
                              "NetBox's changelog says changed since; a full read (and why) when that cannot be "
                              "trusted. The cache is main's: a --branch read starts from it and is not cached.")]
    = False,
) -> None:
    """Read NetBox once into a typed Snapshot (every verb accepts it back with --snapshot FILE)."""
    from campusnet.sot.limit import Limit
    from campusnet.sot.reader import read_snapshot

    if mode not in ("fields", "full"):
        raise typer.BadParameter("--mode is 'fields' or 'full'")
    target = settings.netbox_target()
    if branch:
        target = target.with_branch(branch)
    if incremental:
        if mode != "fields":
            raise typer.BadParameter("--incremental reads with --mode fields")
        from campusnet.sot.incremental import read_incremental

        snap, _state = read_incremental(target, limit=Limit.parse(limit),
                                        log=lambda m: out.print(m, highlight=False, markup=False))
    else:
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
    mark = s.changelog
    if mark is not None:
        out.print(f"changelog: change {mark.change_id}, {mark.mode} read"
                  + (f" ({mark.changes} change(s), {mark.reread} object(s) re-read)" if mark.mode == "incremental"
                     else "") + (f"; full because {mark.fallback}" if mark.fallback else ""),
                  highlight=False, markup=False)
