"""The `campusnet` command line. One module per verb; each module registers itself on the app.

Errors with a code (:class:`campusnet.errors.CampusnetError`) are printed as one line and exit 2;
a failed check (validation, verification, deploy) exits 1.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from campusnet.errors import CampusnetError

app = typer.Typer(
    name="campusnet",
    help="NetBox-driven campus network automation: seed, validate, render, lab, deploy, verify, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Verb modules, in the order a newcomer meets them. Each defines `register(app)`.
VERBS = [
    "netbox",
    "snapshot", "validate", "render",
    "lab",
    "deploy", "rollback", "verify",
    "report", "export",
    "check_change",
    "demo",
]

for _name in VERBS:
    importlib.import_module(f"campusnet.cli.{_name}").register(app)

err = Console(stderr=True)


def main() -> None:
    try:
        app()
    except CampusnetError as exc:
        err.print(f"[bold red]error[/] {exc}", highlight=False, markup=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
