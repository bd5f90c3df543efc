"""`campusnet validate`: run every validation rule over NetBox (or a snapshot); exit 1 on any violation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command(name="validate")(validate)


def validate(
    snapshot: Annotated[Path | None, typer.Option(
        "--snapshot", "-s", help="Validate this snapshot JSON instead of reading NetBox.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the violations as JSON (CI, scripts).")] = False,
    rules: Annotated[list[str] | None, typer.Option(
        "--rule", "-r", help="Run only this rule (repeatable); see --list.")] = None,
    limit: Annotated[list[str] | None, typer.Option(
        "--limit", "-l", help="Report only on these devices: site=…, role=…, tag=…, name=GLOB (repeatable).")] = None,
    branch: Annotated[str | None, typer.Option("--branch", help="Read a NetBox branch (its schema id).")] = None,
    list_rules: Annotated[bool, typer.Option("--list", help="List the rules and exit.")] = False,
) -> None:
    """Check the source of truth against the campus rules (docs/rules.md). Exit 0 clean, 1 on violations."""
    from campusnet.rules import RULES, run_rules
    from campusnet.rules.registry import concerning
    from campusnet.sot import load_or_read
    from campusnet.sot.limit import Limit, apply_limit

    if list_rules:
        t = Table("rule", "category", "checks")
        for r in RULES.values():
            t.add_row(r.name, r.category, r.summary)
        out.print(t)
        return
    target = None
    if snapshot is None:
        from campusnet import settings

        target = settings.netbox_target()
        if branch:
            target = target.with_branch(branch)
    full = load_or_read(snapshot, target)
    violations = run_rules(full, rules or None)
    snap = full
    lim = Limit.parse(limit)
    if lim is not None:  # judge on everything (links need both ends), report on the selected devices
        snap = apply_limit(full, lim)
        violations = concerning(violations, (d.name for d in snap.devices))
    ran = rules or sorted(RULES)
    if as_json:
        print(json.dumps({"source": snap.source.model_dump(mode="json"), "rules": ran,
                          "violations": [v.model_dump() for v in violations]}, indent=2))
    else:
        if violations:
            t = Table("rule", "object type", "object", "field", "message", title=f"{len(violations)} violation(s)")
            for v in violations:
                t.add_row(v.rule, v.object_type, v.object_name, v.field, v.message)
            out.print(t)
        counts = {r: 0 for r in ran}
        for v in violations:
            counts[v.rule] += 1
        bad = {r: n for r, n in counts.items() if n}
        out.print(f"{len(ran)} rule(s) over {len(snap.devices)} devices: "
                  + ("[green]clean[/]" if not violations else
                     "[red]" + ", ".join(f"{r} {n}" for r, n in sorted(bad.items())) + "[/]"))
    if violations:
        raise typer.Exit(1)
