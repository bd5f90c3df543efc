"""Seed NetBox from the design: bulk reads, then bulk creates/updates, in dependency order. Idempotent.

For each step (a kind, optionally a subset of its objects or only its late fields):

1. read every existing object of the kind once (paged, pages in parallel, only the fields we manage),
   and index it by natural key (references read back through the indexes of earlier kinds);
2. build each desired object's payload (references → ids) and compare it field by field
   (:func:`campusnet.design.diff.changed`);
3. POST the missing objects as lists, PATCH the differing fields as lists; answers update the index.

Components NetBox creates from device-type templates (interfaces, power ports…) are read after the
devices are created and only patched, never created twice. Objects not in the design are left alone.
A NetBox 400 is reported per object (kind + natural key) and field; the valid rest of the batch is
retried once, and the seed goes on (objects that depend on a failed one report an unresolved reference).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from campusnet.design.diff import changed
from campusnet.design.load import Design, load_design
from campusnet.design.models import KIND_MODELS, TEMPLATE_COMPONENTS, Interface, Key, Obj, key_str
from campusnet.errors import CampusnetError
from campusnet.settings import NetBoxTarget
from campusnet.sot.reader import Fetcher

PAGE = 1000
WORKERS = 3
CHUNK = {"dcim.devices": 25, "dcim.cables": 50, "dcim.interfaces": 200}
DEFAULT_CHUNK = 100
# one batch at a time: cable paths; devices (parallel device creates deadlock in PostgreSQL on 4.7)
SERIAL = {"dcim.cables", "dcim.devices"}


@dataclass(frozen=True)
class Step:
    kind: str
    phase: str = "early"  # early: every field but LATE; late: only LATE fields (updates only)
    where: Callable[[Obj], bool] | None = None


def _is_lag(o: Obj) -> bool:
    return isinstance(o, Interface) and o.type == "lag"


def _not_lag(o: Obj) -> bool:
    return not _is_lag(o)


STEPS: tuple[Step, ...] = (
    *(Step(k) for k in (
        "extras.tags", "extras.custom-fields",
        "tenancy.tenant-groups", "tenancy.tenants", "tenancy.contact-groups", "tenancy.contact-roles",
        "tenancy.contacts",
        "dcim.regions", "dcim.sites", "dcim.locations", "dcim.rack-roles", "dcim.racks",
        "dcim.manufacturers", "dcim.platforms", "dcim.device-roles", "dcim.device-types",
        "dcim.interface-templates", "dcim.power-port-templates", "dcim.power-outlet-templates",
        "dcim.rear-port-templates", "dcim.front-port-templates",
        "dcim.power-panels", "dcim.power-feeds",
        "ipam.rirs", "ipam.asns", "ipam.vrfs", "ipam.roles", "ipam.aggregates", "ipam.vlans", "ipam.prefixes",
        "circuits.providers", "circuits.circuit-types", "circuits.circuits", "circuits.circuit-terminations",
        "dcim.virtual-chassis", "dcim.devices",
    )),
    Step("dcim.interfaces", where=_is_lag),
    Step("dcim.interfaces", where=_not_lag),
    *(Step(k) for k in (
        "dcim.power-ports", "dcim.power-outlets", "dcim.rear-ports", "dcim.front-ports",
        "dcim.cables", "ipam.fhrp-groups", "ipam.ip-addresses", "ipam.fhrp-group-assignments",
    )),
    Step("dcim.devices", phase="late"),
    Step("dcim.virtual-chassis", phase="late"),
    *(Step(k) for k in ("vpn.l2vpns", "vpn.l2vpn-terminations", "extras.config-contexts",
                        "tenancy.contact-assignments")),
)  # fmt: skip


class Unresolved(Exception):
    pass


@dataclass
class KindStats:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class SeedReport:
    dry_run: bool = False
    stats: dict[str, KindStats] = field(default_factory=lambda: defaultdict(KindStats))
    errors: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # "update dcim.devices 'x': status"
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # GET/POST/PATCH counts
    timings: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # seconds per kind
    seconds: float = 0.0

    @property
    def writes(self) -> int:
        return sum(s.created + s.updated for s in self.stats.values())

    def print(self, console: Console) -> None:
        t = Table(title="campusnet netbox seed" + (" (dry run: nothing written)" if self.dry_run else ""))
        t.add_column("object type")
        for c in ("created", "updated", "unchanged"):
            t.add_column(c, justify="right")
        tot = KindStats()
        for kind, s in self.stats.items():
            t.add_row(kind, str(s.created or ""), str(s.updated or ""), str(s.unchanged or ""))
            tot.created += s.created
            tot.updated += s.updated
            tot.unchanged += s.unchanged
        t.add_row("[bold]total", str(tot.created), str(tot.updated), str(tot.unchanged))
        console.print(t)
        if self.dry_run or len(self.changes) <= 20:
            for c in self.changes[:200]:
                console.print(f"  {c}", highlight=False)
        verb = "would write" if self.dry_run else "wrote"
        console.print("no changes" if not self.writes else f"{verb} {self.writes} objects",
                      f"in {self.seconds:.1f} s ({', '.join(f'{k} {v}' for k, v in sorted(self.requests.items()))})")
        slow = sorted(self.timings.items(), key=lambda kv: -kv[1])[:5]
        console.print("slowest: " + ", ".join(f"{k} {v:.1f} s" for k, v in slow), style="dim", highlight=False)
        for e in self.errors:
            console.print(f"[red]error[/] {e}", highlight=False)


@dataclass
class _Index:
    by_key: dict[Key, dict[str, Any]] = field(default_factory=dict)
    by_id: dict[int, Key] = field(default_factory=dict)

    def put(self, key: Key, js: dict[str, Any]) -> None:
        self.by_key[key] = js
        self.by_id[js["id"]] = key


class NetBoxClient:
    """Bulk REST access: paged parallel reads, chunked list writes. Never logs the token."""

    def __init__(self, target: NetBoxTarget, report: SeedReport) -> None:
        # the reader's client: its retry policy (reads and PATCH/DELETE retried, a POST never sent twice)
        self.http = Fetcher(target, timeout=300).__enter__()
        self.pool = ThreadPoolExecutor(WORKERS)
        self.report = report

    def close(self) -> None:
        self.pool.shutdown()
        self.http.__exit__()

    def _get(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        self.report.requests["GET"] += 1
        r = self.http.request("GET", f"/api/{endpoint}/", params=params)  # E110 when NetBox does not answer
        if r.status_code != 200:
            raise CampusnetError("E111", f"GET {endpoint}: HTTP {r.status_code} {r.text[:300]}")
        return r.json()  # type: ignore[no-any-return]

    def get_all(self, endpoint: str, fields: Iterable[str]) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": PAGE, "ordering": "id", "fields": ",".join(sorted(set(fields)))}
        first = self._get(endpoint, params | {"offset": 0})
        results: list[dict[str, Any]] = list(first["results"])
        offsets = range(PAGE, first["count"], PAGE)
        for page in self.pool.map(lambda o: self._get(endpoint, params | {"offset": o}), offsets):
            results += page["results"]
        return results

    def write(self, method: str, endpoint: str, body: list[dict[str, Any]]) -> tuple[int, Any]:
        self.report.requests[method] += 1
        r = self.http.request(method, f"/api/{endpoint}/", json=body)
        try:
            data = r.json()
        except ValueError:
            data = r.text[:500]
        return r.status_code, data


class Seeder:
    def __init__(self, design: Design, client: NetBoxClient | None, report: SeedReport,
                 dry_run: bool = False) -> None:
        self.design = design
        self.client = client  # None: no NetBox at all (tests): everything is a create
        self.report = report
        self.dry_run = dry_run or client is None
        self.indexes: dict[str, _Index] = {}
        self.status: dict[tuple[str, Key], str] = {}
        self._fake = 0

    # -- indexes ------------------------------------------------------------------------------------
    def index(self, kind: str) -> _Index:
        if kind in self.indexes:
            return self.indexes[kind]
        model = KIND_MODELS[kind]
        idx = _Index()
        if self.client is not None:
            fields = {"id", *model.key_fields()}
            dummy: Callable[[str, Key, str], int] = lambda *_: 0  # noqa: E731
            for o in self.design.of(kind):
                fields.update(o.payload(dummy))
            for js in self.client.get_all(model.ENDPOINT, fields):
                key = model.existing_key(js, self.lookup)
                if key is not None:
                    idx.put(key, js)
        self.indexes[kind] = idx
        return idx

    def lookup(self, kind: str, id_: int) -> Key | None:
        return self.index(kind).by_id.get(id_)

    def resolve(self, kind: str, key: Key, fld: str) -> int:
        js = self.index(kind).by_key.get(key)
        if js is not None:
            return int(js["id"])
        if self.dry_run and self.design.has(kind, key):
            return self._fake_id(kind, key)
        raise Unresolved(f"field '{fld}': no {kind} '{key_str(key)}' in NetBox")

    def _fake_id(self, kind: str, key: Key) -> int:
        self._fake -= 1
        self.index(kind).put(key, {"id": self._fake})
        return self._fake

    # -- steps --------------------------------------------------------------------------------------
    def run(self, step: Step) -> None:
        model = KIND_MODELS[step.kind]
        objs = [o for o in self.design.of(step.kind) if step.where is None or step.where(o)]
        idx = self.index(step.kind)
        if not objs:
            return
        creates: list[tuple[Obj, dict[str, Any]]] = []
        updates: list[tuple[Obj, dict[str, Any]]] = []
        for o in objs:
            try:
                payload = o.payload(self.resolve, step.phase)
            except Unresolved as exc:
                self.report.errors.append(f"{o.describe()} {exc}")
                continue
            if step.phase == "late" and not payload:
                continue
            have = idx.by_key.get(o.key())
            if have is None:
                if step.phase == "early":
                    creates.append((o, payload))
                continue
            diff = changed(payload, have, model.IMMUTABLE)
            if diff:
                updates.append((o, {"id": have["id"], **diff}))
                self.report.changes.append(f"update {o.describe()}: " + ", ".join(sorted(diff)))
            elif step.phase == "early":
                self.status.setdefault((step.kind, o.key()), "unchanged")
        for o, _ in creates:
            self.status[(step.kind, o.key())] = "created"
            if self.dry_run:
                self.report.changes.append(f"create {o.describe()}")
        for o, _ in updates:
            if self.status.get((step.kind, o.key())) != "created":
                self.status[(step.kind, o.key())] = "updated"
        if self.dry_run:
            for o, _ in creates:
                self._fake_id(step.kind, o.key())
            return
        assert self.client is not None
        self._write("POST", model.ENDPOINT, step.kind, creates)
        self._write("PATCH", model.ENDPOINT, step.kind, updates)
        if creates and step.kind == "dcim.devices":
            for ckind in TEMPLATE_COMPONENTS.values():  # NetBox made components: read them fresh
                self.indexes.pop(ckind, None)

    def _write(self, method: str, endpoint: str, kind: str, items: list[tuple[Obj, dict[str, Any]]]) -> None:
        if not items or self.client is None:
            return
        client = self.client
        size = CHUNK.get(kind, DEFAULT_CHUNK)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        if kind in SERIAL:
            results = [self._batch(method, endpoint, kind, c) for c in chunks]
        else:
            results = list(client.pool.map(lambda c: self._batch(method, endpoint, kind, c), chunks))
        idx = self.index(kind)
        for done in results:
            for o, js in done:
                idx.put(o.key(), js)

    def _batch(self, method: str, endpoint: str, kind: str, items: list[tuple[Obj, dict[str, Any]]],
               retry: bool = True) -> list[tuple[Obj, dict[str, Any]]]:
        assert self.client is not None
        code, data = self.client.write(method, endpoint, [p for _, p in items])
        if code in (200, 201) and isinstance(data, list):
            if method == "PATCH":  # answered in NetBox's ordering, not ours: match by id
                by_id = {js["id"]: js for js in data}
                return [(o, by_id[p["id"]]) for o, p in items if p["id"] in by_id]
            return list(zip([o for o, _ in items], data, strict=True))  # creates: request order (pk order)
        per_item = _item_errors(data, items)
        if per_item is not None:
            good = []
            for i, (o, p) in enumerate(items):
                if i in per_item:
                    self._failed(o, method, per_item[i])
                else:
                    good.append((o, p))
            return self._batch(method, endpoint, kind, good, retry=False) if good and retry else []
        for o, _ in items:
            self._failed(o, method, data)
        return []

    def _failed(self, o: Obj, method: str, err: Any) -> None:
        self.status.pop((o.KIND, o.key()), None)
        verb = "create" if method == "POST" else "update"
        if isinstance(err, dict) and "exception" in err:  # a NetBox 500: {"error", "exception", versions}
            first = str(err.get("error", "")).splitlines()[0] if err.get("error") else ""
            self.report.errors.append(f"{o.describe()}: {verb} failed in NetBox: {err['exception']} {first}")
        elif isinstance(err, dict):
            for fld, msg in err.items():
                text = " ".join(str(m) for m in msg) if isinstance(msg, list) else str(msg)
                self.report.errors.append(f"{o.describe()} field '{fld}': {verb} refused: {text}")
        else:
            self.report.errors.append(f"{o.describe()}: {verb} refused: {str(err)[:300]}")

    def tally(self) -> None:
        for (kind, _), st in self.status.items():
            s = self.report.stats[kind]
            setattr(s, st, getattr(s, st) + 1)


def _item_errors(data: Any, items: list[tuple[Obj, dict[str, Any]]]) -> dict[int, Any] | None:
    """Per-item errors of a refused batch, by position: NetBox 4.7 answers
    ``{"detail": …, "errors": [{"index": i | "id": pk, "errors": {field: [msg]}}]}``."""
    if not isinstance(data, dict) or not isinstance(data.get("errors"), list):
        return None
    by_id = {p.get("id"): i for i, (_, p) in enumerate(items) if "id" in p}
    out: dict[int, Any] = {}
    for e in data["errors"]:
        if not isinstance(e, dict):
            return None
        i = e["index"] if "index" in e else by_id.get(e.get("id"))
        if not isinstance(i, int):
            return None
        out[i] = e.get("errors")
    return out or None


def seed(target: NetBoxTarget, src: Path, dry_run: bool = False) -> SeedReport:
    """Create what is missing and update what differs; nothing else. ``dry_run`` reads but never writes."""
    t0 = time.monotonic()
    design = load_design(src)
    report = SeedReport(dry_run=dry_run)
    client = NetBoxClient(target, report)
    seeder = Seeder(design, client, report, dry_run=dry_run)  # a dry run still reads NetBox to compare
    try:
        for step in STEPS:
            t = time.monotonic()
            seeder.run(step)
            report.timings[step.kind] += time.monotonic() - t
    finally:
        client.close()
    seeder.tally()
    report.stats = defaultdict(KindStats, {m: report.stats[m] for m in KIND_MODELS if m in report.stats})
    report.seconds = time.monotonic() - t0
    return report
