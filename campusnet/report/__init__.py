"""`campusnet report`: the auditor's static site (HTML + CSV/JSON) from NetBox, read-only.

>>> from campusnet.report import generate
>>> generate(Path("out/report"))             # reads NetBox with the auditor token      # doctest: +SKIP

Inputs: the Snapshot (one bulk read, or ``--snapshot FILE``), NetBox's change log and rack elevations
(:mod:`campusnet.report.netbox`), the state directory (:mod:`campusnet.report.state`: backups, runs,
verification) and the intended configs (:mod:`campusnet.report.compliance`). Output: :mod:`campusnet.report.site`.
Every value written goes through one :class:`~campusnet.report.redact.Redactor`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from campusnet.report.redact import REDACTED, Redactor, redact, redact_text
from campusnet.report.site import ReportInputs, ReportResult, anchor, build_site

__all__ = ["REDACTED", "Redactor", "ReportInputs", "ReportResult", "build_site", "generate", "redact",
           "redact_text"]


def generate(out: Path, *, snapshot_file: Path | None = None, intended_dir: Path | None = None,
             state: Path | None = None, offline: bool = False, max_changes: int = 5000, workers: int = 8,
             check: bool = True, log: Callable[[str], None] | None = None) -> ReportResult:
    """Read what the report needs (auditor token only) and write the site to ``out``."""
    import os

    from campusnet import settings
    from campusnet.report.compliance import intended_from_dir, intended_from_library
    from campusnet.report.netbox import read_extras
    from campusnet.sot import load_or_read

    say = log or (lambda _m: None)
    red = Redactor()
    target = None if offline else settings.netbox_target(role="auditor")
    if target is not None and target.source == "environment" and not os.environ.get("NETBOX_AUDITOR_TOKEN"):
        say("warning: NETBOX_AUDITOR_TOKEN is not set, reading with NETBOX_TOKEN (use a read-only token)")
    if snapshot_file is None and target is None:
        from campusnet.errors import CampusnetError

        raise CampusnetError("E507", "--offline needs --snapshot FILE (nothing else to read from)",
                             field="--offline")
    snap = load_or_read(snapshot_file, target)
    say(f"snapshot: {len(snap.devices)} devices, {len(snap.cables)} cables"
        + (f" ({snap.source.requests} requests, {snap.source.seconds:.2f} s)" if snapshot_file is None else ""))

    extras = None
    reason = "--offline" if offline else ""
    if target is not None:
        dev_anchor = {d.id: f"../inventory.html#dev-{anchor(d.name)}" for d in snap.devices}
        extras = read_extras(target, {r.id: r.key for r in snap.racks}, red, dev_anchor.get,
                             max_changes=max_changes, workers=workers)
        say(f"change log: {len(extras.changes.changes) if extras.changes else 0} records, "
            f"elevations: {len(extras.elevations)} ({extras.requests} requests, {extras.seconds:.2f} s)")

    render_errors: dict[str, str] = {}
    if intended_dir is not None:
        intended = intended_from_dir(intended_dir)
        source = f"rendered files in {intended_dir}"
    else:
        intended, render_errors = intended_from_library(snap)
        source = "rendered now by campusnet.render from the snapshot"
    inputs = ReportInputs(snapshot=snap, state=state or settings.state_dir(), extras=extras, offline_reason=reason,
                          intended=intended, intended_source=source, render_errors=render_errors,
                          snapshot_file=str(snapshot_file) if snapshot_file else None)
    result = build_site(inputs, out, red)
    if check:
        from campusnet.errors import CampusnetError
        from campusnet.report.linkcheck import broken_refs

        broken = broken_refs(out)
        if broken:
            raise CampusnetError("E508", f"{len(broken)} broken or external link(s) in the site, first: "
                                 + "; ".join(broken[:5]), obj=str(out))
    return result
