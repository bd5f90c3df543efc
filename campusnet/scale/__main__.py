"""``python -m campusnet.scale``: the scale NetBox (``<repo>/.campusnet/scale``) and the generated campus.

Verbs: ``up``, ``down``, ``stats`` (generate only: counts), ``load`` (generate + ORM load + verify),
``verify`` (counts via REST, a cable path end to end, search).
"""

from __future__ import annotations

import json
import sys

import typer

from campusnet.errors import CampusnetError

app = typer.Typer(help=__doc__, no_args_is_help=True)


@app.command()
def up() -> None:
    """Bring up the scale NetBox (its own PostgreSQL, Redis, gunicorn)."""
    from campusnet.scale.loader import up as _up

    secs = _up()
    print(f"scale NetBox up ({secs:.0f} s)")


@app.command()
def down() -> None:
    """Stop the scale NetBox's processes (by PID)."""
    from campusnet.scale.loader import down as _down

    print("stopped: " + (", ".join(_down()) or "nothing was running"))


@app.command()
def stats(devices: int = typer.Option(2000, help="How many devices."), seed: int = typer.Option(1)) -> None:
    """Generate (no NetBox) and print the object counts."""
    from campusnet.scale.generate import generate, summary

    print(json.dumps(summary(generate(devices, seed)), indent=1))


@app.command()
def load(devices: int = typer.Option(2000, help="How many devices."), seed: int = typer.Option(1),
         check: bool = typer.Option(True, help="Verify after loading.")) -> None:
    """Generate the campus and load it into the scale NetBox through the ORM (resets it first if needed)."""
    from campusnet.scale import loader

    loader.up(log=lambda m: print(f"  · {m}"))
    res = loader.load(devices, seed, log=lambda m: print(f"  · {m}"))
    print(json.dumps(res.as_dict(), indent=1))
    if check:
        verify()


@app.command()
def verify() -> None:
    """Counts via REST against the plan, one access uplink traced end to end, the search finding a device."""
    from campusnet.scale import loader
    from campusnet.scale.verify import verify as _verify
    from campusnet.settings import netbox_target

    marker = loader.loaded()
    if not marker:
        raise CampusnetError("E705", "nothing loaded (no scale-loaded.json): run `python -m campusnet.scale load`",
                             obj=str(loader.marker_file()))
    with loader.scale_env():
        checks = _verify(netbox_target(), marker.get("expected", {}), "ytg-b01-as1")
    bad = 0
    for name, ok, detail in checks:
        bad += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    if bad:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except CampusnetError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
