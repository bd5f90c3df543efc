"""`campusnet netbox up|down|status|seed|reset`: the local NetBox and the reference campus in it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from campusnet import settings
from campusnet.errors import CampusnetError

out = Console()
nb_app = typer.Typer(help="Run the local NetBox (the embedded default) and load the reference campus into it.",
                     no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(nb_app, name="netbox")


def _external() -> bool:
    return bool(os.environ.get("NETBOX_URL") and os.environ.get("NETBOX_TOKEN"))


@nb_app.command()
def up() -> None:
    """Install (from cached wheels), start, migrate and serve the local NetBox on 127.0.0.1. Idempotent."""
    if _external():
        out.print(f"NETBOX_URL is set ({os.environ['NETBOX_URL']}): using that NetBox, nothing to start.")
        return
    from campusnet.localnb import LocalNetBox

    nb = LocalNetBox.load()
    times = nb.up(log=lambda m: out.print(f"[dim]·[/] {m}"))
    st = nb.status()
    out.print(f"NetBox {st['netbox_version']} is up at [bold]{st['url']}[/] "
              f"(took {times['total']:.1f} s; tokens in {Path(st['token_files']['automation']).parent})")


@nb_app.command()
def down() -> None:
    """Stop every process the local NetBox runs (gunicorn, RQ worker, Redis, PostgreSQL), by PID."""
    from campusnet.localnb import LocalNetBox

    stopped = LocalNetBox.load().down()
    out.print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@nb_app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output for scripts.")) -> None:
    """Say what runs where: URL, token files, PIDs, ports."""
    if _external():
        st = {"url": os.environ["NETBOX_URL"], "source": "environment"}
    else:
        from campusnet.localnb import LocalNetBox

        st = LocalNetBox.load().status() | {"source": "local"}
    if as_json:
        print(json.dumps(st, indent=2))
        return
    t = Table(show_header=False, box=None)
    for k, v in st.items():
        t.add_row(k, json.dumps(v) if isinstance(v, dict) else str(v))
    out.print(t)


@nb_app.command()
def reset(
    hard: bool = typer.Option(False, "--hard", help="Also remove the NetBox install and its database cluster."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
) -> None:
    """Wipe the local NetBox's data (an empty, migrated NetBox remains, with fresh tokens)."""
    if _external():
        raise CampusnetError("E104", "refusing to reset a NetBox given by NETBOX_URL; "
                                     "reset works on the local one only")
    if not yes:
        typer.confirm("Wipe every object in the local NetBox?", abort=True)
    from campusnet.localnb import LocalNetBox

    nb = LocalNetBox.load()
    t0 = time.monotonic()
    if hard:
        nb.purge()
        out.print("removed the local NetBox install and database")
        return
    nb.reset(log=lambda m: out.print(f"[dim]·[/] {m}"))
    out.print(f"local NetBox reset in {time.monotonic() - t0:.1f} s: empty schema, new tokens")


@nb_app.command()
def seed(
    inventory: Path = typer.Option(None, help="Design data directory (default: inventory/campus)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Compute and print the changes, write nothing."),
) -> None:
    """Load the campus design (YAML) into NetBox: create what is missing, update what differs, nothing else."""
    from campusnet.design.seed import seed as do_seed

    src = inventory or settings.inventory_dir() / "campus"
    report = do_seed(settings.netbox_target(), src, dry_run=dry_run)
    report.print(out)
    if report.errors:
        raise typer.Exit(1)
