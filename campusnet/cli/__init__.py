"""The `campusnet` command line. One module per verb; each module registers itself on the app.

Errors with a code (:class:`campusnet.errors.CampusnetError`) are printed as one line and exit 2;
a failed check (validation, verification, deploy) exits 1.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

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
        err.print(f"[bold red]error[/] {exc}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the catch-all: one coded line, the traceback in a file
        err.print(f"[bold red]error[/] {unexpected(exc)}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(2)


def unexpected(exc: BaseException) -> CampusnetError:
    """E999 for an exception nobody turned into a coded error: its type and first line, and where its
    traceback went (``<state>/errors/<stamp>.txt``, 0600: tracebacks can quote data). The user sees one
    line, a developer gets the whole story."""
    import datetime
    import os
    import tempfile
    import traceback

    from campusnet.private import private_dir, write_private
    from campusnet.settings import state_dir

    text = "".join(traceback.format_exception(exc))
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    try:
        path = write_private(private_dir(state_dir() / "errors") / f"{stamp}-{os.getpid()}.txt", text)
    except OSError:  # the state directory is not writable: a private temporary file instead
        fd, name = tempfile.mkstemp(prefix="campusnet-error-", suffix=".txt")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        path = Path(name)
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return CampusnetError("E999", f"unexpected error {type(exc).__name__}"
                          f"{': ' + first if first else ''} (traceback: {path})")
