"""Write the auditor's site: HTML pages, elevations, CSV/JSON exports — every value through one redactor.

Redaction is enforced in three places, all with the same :class:`~campusnet.report.redact.Redactor`:
the Jinja environment's ``finalize`` (every ``{{ value }}`` printed on a page), the export writer (every
cell of every CSV/JSON), and the elevation sanitiser. After writing, :meth:`Redactor.leaks` scans every
file for any literal the redactor removed; a hit deletes the file and fails the report (E502).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from campusnet.compare import unified
from campusnet.errors import CampusnetError
from campusnet.report import charts, tables
from campusnet.report.compliance import Intended, compliance
from campusnet.report.netbox import Change, ChangeLog, NetBoxExtras
from campusnet.report.redact import Redactor
from campusnet.report.state import Run, VerifyResults, latest_backups, latest_verify, list_runs
from campusnet.sot.models import Rack, Snapshot

MARKER = ".campusnet-report"
TEMPLATES = Path(__file__).parent / "templates"

# (file, nav label, what it shows) — the main pages, in nav order
PAGES: tuple[tuple[str, str, str], ...] = (
    ("index.html", "Overview", "counts, the ownership alarm, sources"),
    ("inventory.html", "Inventory", "devices by site, location and rack; circuits"),
    ("racks.html", "Racks", "rack elevations, U space and power per rack"),
    ("power.html", "Power", "power budget per rack and per feed (allocated draw vs. capacity)"),
    ("ipam.html", "IPAM", "utilisation per prefix"),
    ("vlans.html", "VLANs", "the VLAN plan: group, tenant, role, prefixes, gateways"),
    ("cabling.html", "Cabling", "every cable, A end to B end, type and status"),
    ("ownership.html", "Ownership", "tenant and owner of every device, prefix, VLAN and circuit; the unowned"),
    ("changes.html", "Changes", "NetBox's change log grouped by request id"),
    ("compliance.html", "Compliance", "intended vs. backed-up running config per device; data validation"),
    ("verify.html", "Verification", "the latest verification results"),
    ("runs.html", "Deploy runs", "evidence bundle per deploy run"),
)


def anchor(name: str) -> str:
    """A stable id/file-name fragment for an object name."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name)


@dataclass
class ReportInputs:
    snapshot: Snapshot
    state: Path
    extras: NetBoxExtras | None = None
    offline_reason: str = ""  # why the change log / elevations were not read
    intended: Intended | None = None
    intended_source: str = ""
    render_errors: dict[str, str] = field(default_factory=dict)
    snapshot_file: str | None = None


@dataclass
class ReportResult:
    out: Path
    pages: int
    files: int
    seconds: float
    counts: dict[str, int]
    netbox_requests: int


# --------------------------------------------------------------------------------------------------------
# Elevations drawn from the snapshot (offline, or when NetBox could not render one)
# --------------------------------------------------------------------------------------------------------
def draw_elevation(snap: Snapshot, rack: Rack, face: str, link: Callable[[str], str]) -> str:
    uh, w, top = 14, 260, 22
    h = top + rack.u_height * uh + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
             f'<text x="4" y="15" font-size="12" font-family="sans-serif">{escape(rack.key)} ({face})</text>',
             f'<rect x="30" y="{top}" width="{w - 40}" height="{rack.u_height * uh}" fill="#f5f5f5" stroke="#555"/>']

    def y_of(u: float) -> float:
        idx = (u - rack.starting_unit) if rack.desc_units else (rack.starting_unit + rack.u_height - 1 - u)
        return top + idx * uh

    for u in rack.units:
        parts.append(f'<text x="26" y="{y_of(u) + 11:.0f}" font-size="9" text-anchor="end" '
                     f'font-family="sans-serif">{u}</text>')
    for d in snap.devices_in_rack(rack.key):
        if d.position is None or d.device_type.u_height <= 0:
            continue
        if d.face and d.face != face and not d.device_type.is_full_depth:
            continue
        height = d.device_type.u_height * uh
        top_u = d.position + d.device_type.u_height - 0.5
        y = y_of(top_u) if not rack.desc_units else y_of(d.position)
        fill = "#90caf9" if (d.face or face) == face else "#e0e0e0"
        parts.append(f'<a href="{escape(link(d.name))}"><rect x="31" y="{y:.1f}" width="{w - 42}" '
                     f'height="{height:.1f}" fill="{fill}" stroke="#333"><title>{escape(d.name)}</title></rect>'
                     f'<text x="36" y="{y + 11:.1f}" font-size="10" font-family="sans-serif">'
                     f'{escape(d.name)}</text></a>')
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------------------------------------
# Writer
# --------------------------------------------------------------------------------------------------------
class SiteWriter:
    def __init__(self, out: Path, redactor: Redactor, meta: dict[str, str]) -> None:
        self.out = out
        self.red = redactor
        self.meta = meta
        self.written: list[Path] = []
        self.pages = 0

        def finalize(v: Any) -> Any:
            if v is None:
                return ""
            if isinstance(v, Markup):
                return v  # built by this package from already-redacted values
            if isinstance(v, str):
                return self.red.text(v)
            if isinstance(v, (dict, list, tuple)):
                return json.dumps(self.red.data(v), ensure_ascii=False, default=str)
            return v

        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, finalize=finalize,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def _write(self, rel: str, text: str) -> Path:
        p = self.out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        self.written.append(p)
        return p

    def page(self, rel: str, template: str, title: str, **ctx: Any) -> None:
        depth = rel.count("/")
        root = "../" * depth
        nav = [(f, label) for f, label, _ in PAGES]
        html = self.env.get_template(template).render(title=title, page=rel, root=root, nav=nav, meta=self.meta,
                                                      **ctx)
        self._write(rel, html)
        self.pages += 1

    def raw(self, rel: str, text: str) -> None:
        self._write(rel, text)

    def export(self, t: tables.Table) -> None:
        rows = self.red.data(t.rows)
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=t.columns, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if v is None else v for k, v in r.items()})
        self._write(f"data/{t.name}.csv", buf.getvalue())
        self._write(f"data/{t.name}.json", json.dumps(rows, ensure_ascii=False, indent=1, default=str) + "\n")

    def json(self, rel: str, data: Any) -> None:
        self._write(rel, json.dumps(self.red.data(data), ensure_ascii=False, indent=1, default=str) + "\n")


def _prepare_out(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise CampusnetError("E506", "exists and is not a directory", obj=str(out), field="--out")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise CampusnetError("E506", "is not empty and was not written by `campusnet report`: "
                                 "refusing to overwrite it", obj=str(out), field="--out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("generated by campusnet report; the whole directory is replaced on each run\n")


def _group_by(rows: Iterable[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[str(r.get(key) or "—")].append(r)
    return out


def _sub(t: tables.Table, rows: list[dict[str, Any]], columns: list[str] | None = None) -> tables.Table:
    return tables.Table(t.name, t.title, columns or t.columns, rows)


@dataclass
class ChangeGroup:
    request_id: str
    time: str
    user: str
    changes: list[Change]

    @property
    def summary(self) -> str:
        c = Counter(f"{ch.action} {ch.object_type}" for ch in self.changes)
        return ", ".join(f"{n}× {k}" for k, n in c.most_common(4)) + (" …" if len(c) > 4 else "")


def group_changes(log: ChangeLog) -> list[ChangeGroup]:
    groups: dict[str, ChangeGroup] = {}
    for ch in log.changes:  # newest first
        g = groups.get(ch.request_id)
        if g is None:
            groups[ch.request_id] = ChangeGroup(ch.request_id, ch.time, ch.user, [ch])
        else:
            g.changes.append(ch)
            if ch.user not in g.user.split(", "):
                g.user += f", {ch.user}"
    return list(groups.values())


def _rendered_diffs(run: Run, previous: Run | None) -> list[tuple[str, str]]:
    out = []
    for dev, files in sorted(run.rendered.items()):
        before = previous.rendered.get(dev, {}) if previous else {}
        chunks = []
        for name in sorted(set(files) | set(before)):
            a, b = before.get(name, ""), files.get(name, "")
            d = unified(a, b, f"previous/{dev}/{name}", f"this/{dev}/{name}", context=2)
            if d:
                chunks.append(d)
        if chunks:
            out.append((dev, "\n".join(chunks)))
    return out


def _checks_table(name: str, checks: Iterable[Any]) -> tables.Table:
    t = tables.Table(name, "Verification checks", ["device", "check", "passed", "expected", "found", "message"])
    for c in sorted(checks, key=lambda c: (c.passed, c.device, c.check)):
        t.rows.append({"device": c.device, "check": c.check, "passed": "pass" if c.passed else "FAIL",
                       "expected": c.expected, "found": c.found, "message": c.message})
    return t


# --------------------------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------------------------
def _meta(inp: ReportInputs) -> dict[str, str]:
    src = inp.snapshot.source
    where = f"snapshot file {inp.snapshot_file}" if inp.snapshot_file else f"{src.url}"
    return {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "source": f"{where} (NetBox {src.netbox_version}, read {src.read_at:%Y-%m-%d %H:%M:%S %Z}"
                  + (f", branch {src.branch}" if src.branch else "") + ")",
        "access": "NetBox was read with the auditor's read-only token" if inp.extras is not None or
                  not inp.snapshot_file else "built from a snapshot file",
    }


def _inventory_page(w: SiteWriter, snap: Snapshot, devices: tables.Table, circuits: tables.Table) -> None:
    dev_anchor: Callable[[dict[str, Any]], str] = lambda r: f"dev-{anchor(str(r['name']))}"  # noqa: E731
    dev_link = {"name": lambda r: f"inventory.html#dev-{anchor(str(r['name']))}"}
    dev_rows = _group_by(devices.rows, "site")
    inv_cols = ["name", "position", "face", "role", "model", "platform", "status", "tenant", "owners",
                "primary_ip4", "oob_ip", "serial"]
    loc_names = {loc.key: loc.name for loc in snap.locations}
    sites_ctx = []
    for s in sorted(snap.sites, key=lambda s: s.name):
        rows = dev_rows.get(s.slug, [])
        locs = []
        loc_keys = sorted({r["location"] for r in rows} | {loc.slug for loc in snap.locations if loc.site == s.slug}
                          | {rk.location or "" for rk in snap.racks if rk.site == s.slug})
        for lk in loc_keys:
            lrows = [r for r in rows if r["location"] == lk]
            rack_ctx = []
            for rk in sorted((rk for rk in snap.racks if rk.site == s.slug and (rk.location or "") == lk),
                             key=lambda rk: rk.name):
                rrows = [r for r in rows if r["rack"] == rk.key]  # by the rack, whatever the device says
                used = sum(snap.device(r["name"]).device_type.u_height for r in rrows if r["position"] is not None)
                rack_ctx.append({"name": rk.name, "anchor": anchor(rk.key), "u_used": f"{used:g}",
                                 "u_height": rk.u_height, "devices": _sub(devices, rrows, inv_cols)})
            unracked = [r for r in lrows if not r["rack"]]
            locs.append({"name": loc_names.get(f"{s.slug}/{lk}", lk) if lk else "(no location)",
                         "anchor": anchor(f"{s.slug}/{lk or 'none'}"), "racks": rack_ctx,
                         "unracked": _sub(devices, unracked, inv_cols)})
        sites_ctx.append({"name": s.name, "slug": anchor(s.slug), "region": s.region, "status": s.status,
                          "tenant": s.tenant, "count": len(rows), "locations": locs})
    w.page("inventory.html", "inventory.html", "Inventory", sites=sites_ctx, circuits=circuits,
           dev_link=dev_link, dev_anchor=dev_anchor)


def _elevation_source(inp: ReportInputs) -> str:
    if inp.extras is None:
        return f"drawn from the snapshot: NetBox not read ({inp.offline_reason or 'offline'})"
    if inp.extras.elevation_errors and not inp.extras.elevations:
        reasons = sorted(set(inp.extras.elevation_errors.values()))
        return "drawn from the snapshot: NetBox could not render them (" + "; ".join(reasons)[:300] + ")"
    return "rendered by NetBox" + (
        f"; {len(inp.extras.elevation_errors)} drawn from the snapshot where NetBox failed"
        if inp.extras.elevation_errors else "")


def _racks_page(w: SiteWriter, inp: ReportInputs, racks: tables.Table) -> None:
    snap = inp.snapshot
    loc_names = {loc.key: loc.name for loc in snap.locations}
    rack_groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rack_rows = {r["rack"]: r for r in racks.rows}
    for rk in sorted(snap.racks, key=lambda r: (r.site, r.location or "", r.name)):
        elevs = []
        for face in ("front", "rear"):
            rel = f"elevations/{anchor(rk.key)}-{face}.svg"
            svg = inp.extras.elevations.get((rk.key, face)) if inp.extras else None
            if svg is None:
                svg = draw_elevation(snap, rk, face, lambda n: f"../inventory.html#dev-{anchor(n)}")
            w.raw(rel, svg)
            elevs.append((face, rel))
        row = rack_rows[rk.key]
        cap = row["capacity_w"]
        group = f"{rk.site} / {loc_names.get(f'{rk.site}/{rk.location}', rk.location or '(no location)')}"
        rack_groups[group].append(
            {"key": rk.key, "anchor": anchor(rk.key), "u_used": f"{row['u_used']:g}", "u_height": rk.u_height,
             "devices": row["devices"], "draw": row["draw_w"],
             "capacity": f"{cap} W" if cap is not None else "— (no feed)",
             "meter": charts.meter(row["draw_w"], cap), "feeds": row["feeds"], "elevations": elevs})
    w.page("racks.html", "racks.html", "Racks and elevations", racks=list(rack_groups.items()),
           elevation_source=_elevation_source(inp))


def _charts_pages(w: SiteWriter, red: Redactor, t: dict[str, tables.Table]) -> None:
    """Power, IPAM, VLANs, cabling, ownership: a table (or a chart) per group."""
    rack_charts = []
    for group, items in _group_by(t["racks"].rows, "site").items():
        bars = [charts.Bar(r["rack"], r["draw_w"], r["capacity_w"], f"racks.html#rack-{anchor(r['rack'])}")
                for r in items]
        rack_charts.append(charts.bar_chart(f"Racks at {red.text(group)}: allocated draw vs. capacity (W)", bars, "W"))
    feed_charts = []
    for group, items in _group_by(t["feeds"].rows, "panel").items():
        bars = [charts.Bar(r["feed"], r["load_w"], r["capacity_w"]) for r in items]
        feed_charts.append(charts.bar_chart(f"Panel {red.text(group)}: feed load vs. capacity (W)", bars, "W"))
    w.page("power.html", "power.html", "Power budget", rack_charts=rack_charts, feed_charts=feed_charts,
           feeds=t["feeds"], racks=t["racks"])
    ipam_charts = []
    for vrf, items in _group_by(t["prefixes"].rows, "vrf").items():
        bars = [charts.Bar(r["prefix"], r["used"], r["size"], None) for r in items]
        ipam_charts.append(charts.bar_chart(f"VRF {red.text(vrf)}: addresses used per prefix", bars, "addr"))
    w.page("ipam.html", "ipam.html", "IPAM utilisation", charts=ipam_charts, prefixes=t["prefixes"])
    vlans, cables, ownership = t["vlans"], t["cables"], t["ownership"]
    vgroups = [(f"VLAN group {g}", _sub(vlans, rows)) for g, rows in _group_by(vlans.rows, "group").items()]
    w.page("vlans.html", "vlans.html", "VLAN plan", groups=vgroups)
    cgroups = [(f"Site {g}", _sub(cables, rows)) for g, rows in sorted(_group_by(cables.rows, "site").items())]
    w.page("cabling.html", "cabling.html", "Cabling", groups=cgroups, total=len(cables.rows))
    by_type = [(f"{label.capitalize()}s", _sub(ownership, rows, ["object", "tenant", "tenant_name", "owners",
                                                                   "other_contacts"]))
               for label, rows in _group_by(ownership.rows, "type").items()]
    w.page("ownership.html", "ownership.html", "Ownership", unowned=t["unowned"], owners=t["owners"],
           by_type=by_type)


def _changes_page(w: SiteWriter, inp: ReportInputs) -> tuple[ChangeLog | None, list[ChangeGroup], tables.Table]:
    log = inp.extras.changes if inp.extras else None
    groups = group_changes(log) if log else []
    w.page("changes.html", "changes.html", "Change history", log=log, groups=groups,
           why=inp.offline_reason or "NetBox was not read")
    changes_t = tables.Table("changes", "Change log", ["id", "time", "user", "request_id", "action", "object_type",
                                                       "object_id", "object", "fields"])
    for ch in log.changes if log else []:
        changes_t.rows.append({"id": ch.id, "time": ch.time, "user": ch.user, "request_id": ch.request_id,
                               "action": ch.action, "object_type": ch.object_type, "object_id": ch.object_id,
                               "object": ch.object_repr, "fields": "; ".join(
                                   f"{f.field}: {f.before} -> {f.after}" for f in ch.fields)})
    return log, groups, changes_t


def _compliance_page(w: SiteWriter, inp: ReportInputs, red: Redactor
                     ) -> tuple[Counter[str], tables.Table, tables.Table]:
    from campusnet.rules import run_rules

    snap = inp.snapshot
    comp = compliance(snap, latest_backups(inp.state), inp.intended, inp.render_errors, red)
    counts = Counter(c.state for c in comp)
    violations = tables.Table("violations", "Data validation", ["rule", "object_type", "object_name", "field",
                                                                "message"],
                              [v.model_dump() for v in run_rules(snap)])
    contexts = [(c.name, c.weight, c.is_active,
                 json.dumps(red.data(c.data), ensure_ascii=False, indent=1, sort_keys=True))
                for c in sorted(snap.config_contexts, key=lambda c: (c.weight, c.name))]
    w.page("compliance.html", "compliance.html", "Compliance", rows=comp, anchor=anchor,
           counts=sorted(counts.items()), violations=violations, contexts=contexts,
           intended_source=inp.intended_source or "none available")
    comp_t = tables.Table("compliance", "Compliance", ["device", "state", "platform", "backup", "intended_file",
                                                       "missing", "extra", "error"],
                          [{k: v for k, v in asdict(c).items() if k != "diff"} for c in comp])
    return counts, violations, comp_t


def _run_pages(w: SiteWriter, runs: list[Run], known_requests: set[str]) -> list[dict[str, Any]]:
    """One page (and a JSON file) per deploy run; the rows of the runs index."""
    run_rows = []
    for i, run in enumerate(runs):
        previous = runs[i - 1] if i else None
        devs = tables.Table("devices", "Devices", ["device", "status", "diff_lines", "backup", "error"],
                            [{"device": d, "status": v.get("status", ""), "diff_lines": v.get("diff_lines", ""),
                              "backup": Path(str(v["backup"])).name if v.get("backup") else "",
                              "error": v.get("error") or ""} for d, v in sorted(run.devices.items())])
        rendered = _rendered_diffs(run, previous)
        note = ("no rendered configs in this run" if not run.rendered else
                "first run: nothing to compare with" if previous is None else "rendered configs unchanged")
        rid_file = anchor(run.run_id)
        w.page(f"runs/{rid_file}.html", "run.html", f"Deploy run {run.run_id}", run=run, devices=devs,
               request_ids=[(r, r in known_requests) for r in run.request_ids],
               previous=anchor(previous.run_id) if previous else None, rendered_diffs=rendered,
               rendered_note=note, device_diffs=sorted(run.diffs.items()),
               checks=_checks_table("run-verify", run.verify or ()), junit=run.junit,
               json_file=f"{rid_file}.json")
        w.json(f"runs/{rid_file}.json", {
            "run_id": run.run_id, "summary": run.summary, "netbox": run.netbox, "request_ids": run.request_ids,
            "rendered_diffs": dict(rendered), "device_diffs": run.diffs,
            "verify": [asdict(c) for c in run.verify or ()], "junit": asdict(run.junit) if run.junit else None})
        statuses = Counter(str(v.get("status")) for v in run.devices.values())
        tests = (f"{sum(c.passed for c in run.verify)}/{len(run.verify)} passed" if run.verify is not None
                 else f"{run.junit.tests - run.junit.failures - run.junit.errors}/{run.junit.tests} passed"
                 if run.junit else "—")
        run_rows.append({"run_id": run.run_id, "file": f"{rid_file}.html", "started": run.summary.get("started", ""),
                         "commit": run.commit, "devices": len(run.devices),
                         "changed": statuses.get("changed", 0) + statuses.get("restored", 0),  # a rollback's
                         "failed": statuses.get("failed", 0) + statuses.get("rolled-back", 0)
                         + statuses.get("rollback-failed", 0), "tests": tests})
    w.page("runs.html", "runs.html", "Deploy runs", runs=list(reversed(run_rows)))
    return run_rows


def _cards(c: dict[str, int], log: ChangeLog | None, verify: VerifyResults | None) -> list[tuple[str, Any, str]]:
    return [("sites", c["sites"], "inventory.html"), ("racks", c["racks"], "racks.html"),
            ("devices", c["devices"], "inventory.html"),
            ("prefixes", c["prefixes"], "ipam.html"), ("VLANs", c["vlans"], "vlans.html"),
            ("cables", c["cables"], "cabling.html"),
            ("circuits", c["circuits"], "inventory.html#circuits"),
            ("without owner", c["unowned"], "ownership.html#unowned"),
            ("change requests", c["change_requests"] if log else "not read", "changes.html"),
            ("compliant / drift", f"{c['compliant']} / {c['drift']}", "compliance.html"),
            ("rule violations", c["violations"], "compliance.html#validation"),
            ("verify failures", c["verify_failed"] if verify else "none yet", "verify.html"),
            ("deploy runs", c["runs"] or "none yet", "runs.html")]


def _source_rows(inp: ReportInputs) -> list[tuple[str, str]]:
    src = inp.snapshot.source
    rows = [("NetBox", src.url), ("NetBox version", src.netbox_version), ("snapshot read at", str(src.read_at)),
            ("snapshot", inp.snapshot_file or f"read now ({src.requests} requests, {src.seconds:.2f} s)"),
            ("change log and elevations", f"{inp.extras.requests} requests, {inp.extras.seconds:.2f} s"
             if inp.extras else f"not read: {inp.offline_reason}"),
            ("intended configs", inp.intended_source or "none available"),
            ("state directory", str(inp.state))]
    if src.branch:
        rows.append(("branch", src.branch))
    return rows


def build_site(inp: ReportInputs, out: Path, redactor: Redactor | None = None) -> ReportResult:
    t0 = time.monotonic()
    red = redactor or Redactor()
    snap = inp.snapshot
    _prepare_out(out)
    meta = _meta(inp)
    w = SiteWriter(out, red, meta)
    ownership, unowned = tables.ownership_tables(snap)
    t = {"devices": tables.devices_table(snap), "racks": tables.racks_table(snap), "feeds": tables.feeds_table(snap),
         "prefixes": tables.prefixes_table(snap), "vlans": tables.vlans_table(snap),
         "cables": tables.cables_table(snap), "ownership": ownership, "unowned": unowned,
         "owners": tables.owners_summary(snap), "circuits": tables.circuits_table(snap)}
    _inventory_page(w, snap, t["devices"], t["circuits"])
    _racks_page(w, inp, t["racks"])
    _charts_pages(w, red, t)
    log, groups, changes_t = _changes_page(w, inp)
    counts, violations, comp_t = _compliance_page(w, inp, red)
    verify: VerifyResults | None = latest_verify(inp.state)
    checks = _checks_table("verify", verify.checks if verify else ())
    w.page("verify.html", "verify.html", "Verification", verify=verify, checks=checks)
    runs = list_runs(inp.state)
    run_rows = _run_pages(w, runs, {g.request_id for g in groups})

    # ---- index, exports ---------------------------------------------------------------------------------
    all_tables = [t["devices"], t["racks"], t["feeds"], t["prefixes"], t["vlans"], t["cables"], t["circuits"],
                  ownership, unowned, t["owners"], changes_t, comp_t, violations, checks,
                  tables.Table("runs", "Deploy runs", ["run_id", "started", "commit", "devices", "changed",
                                                       "failed", "tests"], run_rows)]
    for table in all_tables:
        w.export(table)
    w.json("data/config_contexts.json", [{"name": c.name, "weight": c.weight, "is_active": c.is_active,
                                          "data": c.data} for c in snap.config_contexts])
    summary_counts = {
        "sites": len(snap.sites), "locations": len(snap.locations), "racks": len(snap.racks),
        "devices": len(snap.devices), "cables": len(snap.cables), "prefixes": len(snap.prefixes),
        "vlans": len(snap.vlans), "circuits": len(snap.circuits), "power_feeds": len(snap.power_feeds),
        "unowned": len(unowned.rows), "changes": len(log.changes) if log else 0,
        "change_requests": len(groups), "compliant": counts.get("compliant", 0), "drift": counts.get("drift", 0),
        "no_backup": counts.get("no-backup", 0), "violations": len(violations.rows),
        "verify_failed": len(verify.failed) if verify else 0, "runs": len(runs),
    }
    w.page("index.html", "index.html", "Campus network audit report", cards=_cards(summary_counts, log, verify),
           pages=PAGES, unowned_count=len(unowned.rows), source=_source_rows(inp))
    w.page("data/index.html", "data.html", "Exports", tables=all_tables)
    seconds = round(time.monotonic() - t0, 3)
    w.json("data/report.json", {"generated": meta["generated"], "source": meta["source"], "counts": summary_counts,
                                "netbox_requests": inp.extras.requests if inp.extras else 0,
                                "build_seconds": seconds})

    # ---- proof: no removed secret reached any file --------------------------------------------------------
    leaked = redactor_leaks(red, w.written)
    if leaked:
        for p in leaked:
            p.unlink(missing_ok=True)
        raise CampusnetError("E502", "a redacted secret was found in the generated files (deleted): "
                             + ", ".join(str(p.relative_to(out)) for p in leaked), obj=str(out))
    return ReportResult(out=out, pages=w.pages, files=len(w.written), seconds=seconds, counts=summary_counts,
                        netbox_requests=inp.extras.requests if inp.extras else 0)


def redactor_leaks(red: Redactor, files: list[Path]) -> list[Path]:
    return red.leaks(files)
