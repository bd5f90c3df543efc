"""`campusnet report`: the auditor's static site (HTML, CSV, JSON), read with the read-only token."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command(name="report")(report)


def report(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the site (replaced on each run).")]
    = Path("out/report"),
    snapshot: Annotated[Path | None, typer.Option("--snapshot", help="Use a saved Snapshot instead of reading "
                                                  "NetBox for the inventory.")] = None,
    intended: Annotated[Path | None, typer.Option("--intended", help="Rendered configs (DIR/<device>/...) to "
                                                  "compare with the backups; default: render them now.")] = None,
    state: Annotated[Path | None, typer.Option("--state", help="State directory with backups/, runs/, verify/ "
                                               "(default: campusnet's).")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Do not contact NetBox (needs --snapshot): no "
                                          "change log, elevations drawn from the snapshot.")] = False,
    max_changes: Annotated[int, typer.Option("--max-changes", help="Newest change-log records to show.")] = 5000,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Fail when a link in the site is broken or "
                                        "points outside it.")] = True,
) -> None:
    """Write the auditor's report: inventory, racks, power, IPAM, VLANs, cabling, ownership, changes,
    compliance, verification and deploy evidence. Secrets are redacted everywhere."""
    from campusnet.report import generate

    if max_changes < 0:
        raise typer.BadParameter("--max-changes must be >= 0")
    t0 = time.monotonic()
    res = generate(out, snapshot_file=snapshot, intended_dir=intended, state=state, offline=offline,
                   max_changes=max_changes, check=check, log=lambda m: err.print(m, highlight=False, markup=False))
    c = res.counts
    err.print(f"report: {res.pages} pages, {res.files} files in {res.out} — {c['devices']} devices, "
              f"{c['racks']} racks, {c['cables']} cables, {c['changes']} changes, {c['unowned']} without owner, "
              f"{c['drift']} drifted; built in {res.seconds:.2f} s, total {time.monotonic() - t0:.2f} s",
              highlight=False, markup=False)
    print(res.out / "index.html")
