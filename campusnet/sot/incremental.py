"""Incremental snapshots: re-read only what NetBox's changelog says changed since the last snapshot.

The state kept between reads (:class:`State`, cached in ``<state>/snapshots/``) is the last Snapshot, the raw
REST rows it was built from, and a **watermark**: the highest ObjectChange id (and NetBox's time of it) at
the start of that read. The next read:

1. asks ``/api/core/object-changes/?id__gt=<watermark>`` (for a branch: the branch's own changelog — a
   branch records only its own changes, ids from main's sequence — plus main's changes since the branch was
   provisioned or last synced, or since the watermark if that is older: the cached snapshot is main's);
2. re-reads the changed objects by id, per list (``?id=…&id=…``): an id NetBox no longer has is a deletion,
   whatever the changelog's action says; when a change renames what other rows embed (an interface's name, a
   VLAN's vid, an IP's address) or deletes it (``SET_NULL`` leaves no change record), the rows that refer to it
   are re-read too;
3. re-traces the cable paths of what is cabled to anything that changed (the connected component in the old
   and the new cabling), and re-converts the objects whose derived fields depend on the changed rows (an
   interface's IP addresses and FHRP groups, a virtual chassis' members, a circuit's terminations);
4. checks every list's ``count`` against NetBox's.

It falls back to a full read — and says why in ``source.changelog.fallback`` and in a log line — when there is
no usable cached state (E230), the watermark is older than the oldest retained change or ahead of the newest
(E231), the changelog answers inconsistently (E232), a count disagrees (E233), a change is of a kind this
module does not interpret or renames an object many keys are made of (a site's slug, a device's name …:
E234), or a changed cable needs NetBox's own trace (cable profiles, wireless links: E235).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from campusnet import settings
from campusnet.errors import CampusnetError
from campusnet.private import private_dir, write_private
from campusnet.settings import NetBoxTarget
from campusnet.sot.convert import CONVERTERS, Raw, build, context, convert
from campusnet.sot.limit import Limit, apply_limit
from campusnet.sot.models import SCHEMA_VERSION, ChangelogMark, Snapshot, SnapshotSource
from campusnet.sot.paths import CABLED_LISTS, CT, FRONT, PATH_FIELDS, PEER_FIELDS, REAR, CableGraph, Node, annotate
from campusnet.sot.paths import graph_of as _graph_of
from campusnet.sot.reader import ENDPOINTS, OPTIONAL, Fetcher, _foreign_links, check_list, read_raw

Log = Callable[[str], None]
CACHE_VERSION = 1
CHANGES = "/api/core/object-changes/"
CHANGE_FIELDS = "id,time,action,changed_object_type,changed_object_id,prechange_data,postchange_data"
BY_ID_CHUNK = 100

#: changelog content type -> the reader's raw list
CT_LIST: dict[str, str] = {
    "tenancy.tenantgroup": "tenant_groups", "tenancy.tenant": "tenants", "tenancy.contact": "contacts",
    "tenancy.contactassignment": "contact_assignments", "dcim.region": "regions", "dcim.site": "sites",
    "dcim.location": "locations", "dcim.rack": "racks", "dcim.powerpanel": "power_panels",
    "dcim.powerfeed": "power_feeds", "dcim.powerport": "power_ports", "dcim.poweroutlet": "power_outlets",
    "extras.tag": "tags", "dcim.platform": "platforms", "dcim.devicerole": "device_roles",
    "dcim.devicetype": "device_types", "dcim.virtualchassis": "virtual_chassis", "dcim.device": "devices",
    "dcim.interface": "interfaces", "dcim.frontport": "front_ports", "dcim.rearport": "rear_ports",
    "dcim.cable": "cables", "dcim.cabletermination": "cable_terminations", "ipam.vlangroup": "vlan_groups",
    "ipam.vlan": "vlans", "ipam.vrf": "vrfs", "ipam.prefix": "prefixes", "ipam.ipaddress": "ip_addresses",
    "ipam.fhrpgroup": "fhrp_groups", "ipam.fhrpgroupassignment": "fhrp_assignments", "ipam.asn": "asns",
    "circuits.provider": "providers", "circuits.providernetwork": "provider_networks",
    "circuits.circuit": "circuits", "circuits.circuittermination": "circuit_terminations",
    "vpn.l2vpn": "l2vpns", "vpn.l2vpntermination": "l2vpn_terminations",
    "extras.configcontext": "config_contexts", "wireless.wirelesslink": "wireless_links",
    "circuits.virtualcircuittermination": "virtual_circuit_terminations",
}
LIST_CT = {v: k for k, v in CT_LIST.items()}
#: changes that never reach a Snapshot (the reader does not read these objects)
IGNORED_PREFIXES = ("netbox_branching.", "core.", "extras.journalentry", "extras.savedfilter", "extras.bookmark",
                    "extras.notification", "extras.subscription", "extras.imageattachment", "extras.tableconfig",
                    "extras.script", "extras.eventrule", "extras.webhook", "extras.exporttemplate",
                    "extras.customlink", "extras.configtemplate", "ipam.service", "ipam.iprange", "ipam.aggregate",
                    "ipam.routetarget", "dcim.consoleport", "dcim.consoleserverport", "dcim.inventoryitem",
                    "dcim.devicebay", "dcim.modulebay", "virtualization.", "vpn.tunnel", "vpn.ike", "vpn.ipsec",
                    "wireless.wirelesslan", "users.token", "users.user", "users.group", "users.objectpermission")
#: objects other rows name only by slug or name (roles, types …): a new one changes nothing until used
LOOKUPS = frozenset({"dcim.manufacturer", "ipam.role", "dcim.rackrole", "circuits.circuittype", "ipam.rir",
                     "tenancy.contactrole", "tenancy.contactgroup", "users.owner", "ipam.vlangroup"})
#: fields whose change on these lists renames what many natural keys are made of: a full read
KEY_FIELDS: dict[str, frozenset[str]] = {
    "sites": frozenset({"slug"}), "regions": frozenset({"slug"}), "locations": frozenset({"slug", "site"}),
    "racks": frozenset({"name", "site"}), "power_panels": frozenset({"name", "site"}),
    "power_feeds": frozenset({"name", "power_panel"}), "vlan_groups": frozenset({"slug"}),
    "providers": frozenset({"slug"}), "provider_networks": frozenset({"name", "provider"}),
    "circuits": frozenset({"cid", "provider"}), "tenants": frozenset({"slug"}), "tenant_groups": frozenset({"slug"}),
    "platforms": frozenset({"slug"}), "device_roles": frozenset({"slug"}), "tags": frozenset({"slug"}),
    "contacts": frozenset({"name"}), "virtual_chassis": frozenset({"name"}), "devices": frozenset({"name"}),
    "vrfs": frozenset({"name"}), "asns": frozenset({"asn"}), "device_types": frozenset({"manufacturer"}),
}
#: fields other rows embed (nested brief objects): a change re-reads the rows that refer to the object
EMBEDDED = frozenset({"name", "vid", "address", "group", "site", "vrf", "group_id", "protocol", "mac_address",
                      "device", "term_side", "circuit", "master"})
#: target list -> (referring list, field) for nested references {"id": …} (single or a list of them)
REFS: dict[str, tuple[tuple[str, str], ...]] = {
    "devices": (("interfaces", "device"), ("front_ports", "device"), ("rear_ports", "device"),
                ("power_ports", "device"), ("power_outlets", "device"), ("virtual_chassis", "master")),
    "interfaces": (("interfaces", "lag"), ("interfaces", "parent")),
    "vlans": (("interfaces", "untagged_vlan"), ("interfaces", "tagged_vlans"), ("prefixes", "vlan")),
    "vrfs": (("interfaces", "vrf"), ("prefixes", "vrf"), ("ip_addresses", "vrf")),
    "ip_addresses": (("devices", "primary_ip4"), ("devices", "primary_ip6"), ("devices", "oob_ip")),
    "virtual_chassis": (("devices", "virtual_chassis"),),
    "power_ports": (("power_outlets", "power_port"),),
    "fhrp_groups": (("fhrp_assignments", "group"),),
    "circuits": (("circuit_terminations", "circuit"),),
    "l2vpns": (("l2vpn_terminations", "l2vpn"),),
}
#: (referring list, type field, id field) for generic references (content type + id)
GENERIC: tuple[tuple[str, str, str], ...] = (
    ("ip_addresses", "assigned_object_type", "assigned_object_id"),
    ("contact_assignments", "object_type", "object_id"),
    ("l2vpn_terminations", "assigned_object_type", "assigned_object_id"),
    ("fhrp_assignments", "interface_type", "interface_id"),
    ("cable_terminations", "termination_type", "termination_id"),
    ("circuit_terminations", "termination_type", "termination_id"),
)


#: tests inject an httpx.MockTransport here (recorded replies)
TRANSPORT: httpx.BaseTransport | None = None


def _fetcher(target: NetBoxTarget, workers: int) -> Fetcher:
    return Fetcher(target, workers=workers, transport=TRANSPORT)


class Fallback(CampusnetError):
    """Why this read cannot be incremental (the caller reads in full and records the reason)."""


# --------------------------------------------------------------------------------------------------------
# The state kept between reads
# --------------------------------------------------------------------------------------------------------
@dataclass
class State:
    """The last snapshot, the raw rows it was built from, and where it stands in the changelog."""

    url: str
    snapshot: Snapshot
    raw: dict[str, list[Raw]]
    change_id: int
    change_time: str | None = None
    _graph: CableGraph | None = field(default=None, repr=False)

    def graph(self) -> CableGraph:
        """The cabling of ``raw`` (built once per state, in memory only)."""
        if self._graph is None:
            self._graph = graph_of(self.raw)
        return self._graph

    def save(self, path: Path) -> Path:
        head = {"version": CACHE_VERSION, "url": self.url, "change_id": self.change_id,
                "change_time": self.change_time}
        try:  # private: config contexts may carry what only the automation should read
            private_dir(path.parent)
            write_private(path.with_suffix(".snapshot.json"), self.snapshot.model_dump_json() + "\n")
            write_private(path, json.dumps({**head, "raw": self.raw}, separators=(",", ":")))
        except OSError as exc:
            raise CampusnetError("E236", f"cannot write the incremental snapshot cache ({exc.strerror})",
                                 obj=str(path)) from None
        return path

    @classmethod
    def load(cls, path: Path, url: str) -> State:
        """The cached state for NetBox ``url``; Fallback E230 when there is none that fits."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            # pydantic-core parses the JSON text itself: ~3x faster than json.loads + model_validate
            snap = Snapshot.model_validate_json(path.with_suffix(".snapshot.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise Fallback("E230", "no cached snapshot yet", obj=str(path)) from None
        except (OSError, ValueError, CampusnetError) as exc:  # pydantic's ValidationError is a ValueError
            raise Fallback("E230", f"the cached snapshot is unreadable ({exc})", obj=str(path)) from None
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or data.get("url") != url:
            raise Fallback("E230", f"the cached snapshot is of another version or NetBox ({data.get('url')!r})",
                           obj=str(path), field="url")
        mark = snap.source.changelog
        if snap.schema_version != SCHEMA_VERSION or mark is None or mark.change_id != data.get("change_id"):
            raise Fallback("E230", "the cached snapshot and its raw rows are of different reads", obj=str(path),
                           field="change_id")
        return cls(url=url, snapshot=snap, raw=data["raw"], change_id=int(data["change_id"]),
                   change_time=data.get("change_time"))


def cache_path(target: NetBoxTarget) -> Path:
    """Where main's state for this NetBox is kept (one per URL; branches start from main's)."""
    h = hashlib.sha256(target.url.encode()).hexdigest()[:12]
    return settings.state_dir() / "snapshots" / f"{h}.json"


# --------------------------------------------------------------------------------------------------------
# The changelog
# --------------------------------------------------------------------------------------------------------
def _changes(f: Fetcher, params: Mapping[str, str | int]) -> list[Raw]:
    """Every change matching ``params``, by id, paged and checked (Fallback E232 when it does not add up)."""
    def page(offset: int | None, limit: int) -> dict[str, str | int]:
        p: dict[str, str | int] = {**params, "ordering": "id", "limit": limit, "fields": CHANGE_FIELDS}
        if offset:
            p["offset"] = offset
        return p
    try:
        rows = f._read_one(CHANGES, page)
    except CampusnetError as exc:
        if exc.code in ("E115", "E116", "E117", "E114"):
            raise Fallback("E232", f"the changelog answered inconsistently ({exc.message})", obj=CHANGES) from None
        raise
    for r in rows:
        if not isinstance(r.get("changed_object_type"), str) or not isinstance(r.get("changed_object_id"), int):
            raise Fallback("E232", f"change {r.get('id')} has no object type or id", obj=CHANGES,
                           field="changed_object_type")
    return rows


def _edge(f: Fetcher, order: str) -> Raw | None:
    page = f.get(CHANGES, {"ordering": order, "limit": 1, "fields": "id,time"})
    rows = page.get("results") if isinstance(page, dict) else None
    if not isinstance(rows, list):
        raise Fallback("E232", "the changelog's reply has no results", obj=CHANGES, field="results")
    return rows[0] if rows else None


def watermark(f: Fetcher) -> tuple[int, str | None]:
    """The newest change id and its time (0, None when NetBox has recorded none)."""
    last = _edge(f, "-id")
    return (int(last["id"]), last.get("time")) if last else (0, None)


def _check_window(f: Fetcher, since: int) -> tuple[int, str | None]:
    """Fallback E231 unless every change after ``since`` is still retained; returns the newest (id, time)."""
    with ThreadPoolExecutor(2) as pool:
        first_f = pool.submit(_edge, f, "id")
        last = _edge(f, "-id")
        first = first_f.result()
    if last is not None and int(last["id"]) < since:
        raise Fallback("E231", f"the changelog ends at change {last['id']}, before the watermark {since}: "
                       "NetBox was restored or reset", obj=CHANGES, field="id")
    if first is not None and int(first["id"]) > since + 1:
        raise Fallback("E231", f"the watermark (change {since}) is older than the oldest retained change "
                       f"({first['id']}): changes may have been pruned", obj=CHANGES, field="id")
    if first is None and since > 0:
        raise Fallback("E231", f"the changelog is empty but the watermark is change {since}: pruned or reset",
                       obj=CHANGES, field="id")
    return (int(last["id"]), last.get("time")) if last else (since, None)


def _branch_since(f: Fetcher, schema_id: str) -> str | None:
    """When the branch last took main's data (its last sync, else its creation)."""
    page = f.get("/api/plugins/branching/branches/", {"schema_id": schema_id, "limit": 1})
    rows = page.get("results") if isinstance(page, dict) else None
    if not rows:
        raise Fallback("E232", f"branch {schema_id!r} is not listed by NetBox", obj="branch", field="schema_id")
    since = rows[0].get("last_sync") or rows[0].get("created")
    return str(since) if since else None


@dataclass
class Changes:
    entries: list[Raw]
    change_id: int
    change_time: str | None


def read_changes(main: Fetcher, branch: Fetcher | None, state: State) -> Changes:
    """The changes to apply to ``state``: main's since the watermark; for a branch, also the branch's own and
    main's since the branch last took main's data (the branch does not see those)."""
    newest, newest_time = _check_window(main, state.change_id)
    entries = _changes(main, {"id__gt": state.change_id}) if newest > state.change_id else []
    if branch is not None and branch.target.branch:
        with ThreadPoolExecutor(1) as pool:
            since_f = pool.submit(_branch_since, main, branch.target.branch)
            entries += _changes(branch, {"id__gt": 0})
            since = since_f.result()
        when, base = _when(since), _when(state.change_time)
        if since is not None and (when is None or base is None or when < base):
            entries += _changes(main, {"time_after": since, "id__lte": state.change_id})
    return Changes(entries, max([newest, state.change_id]), newest_time or state.change_time)


def _when(s: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(s) if s else None
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------------------
# What to re-read
# --------------------------------------------------------------------------------------------------------
def _changed_fields(e: Raw) -> set[str]:
    pre, post = e.get("prechange_data") or {}, e.get("postchange_data") or {}
    if not isinstance(pre, dict) or not isinstance(post, dict):
        return set()
    return {k for k in set(pre) | set(post) if pre.get(k) != post.get(k)}


@dataclass
class Plan:
    """Ids to re-read per raw list; lists to re-read whole; objects whose rename or deletion others embed."""

    ids: dict[str, set[int]] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)
    embedded: dict[str, set[int]] = field(default_factory=dict)

    def add(self, name: str, oid: int) -> None:
        self.ids.setdefault(name, set()).add(oid)


def plan(changes: Iterable[Raw]) -> Plan:
    """Classify changelog entries (Fallback E234 for one this module does not interpret)."""
    p = Plan()
    for e in changes:
        ctype, oid = str(e["changed_object_type"]), int(e["changed_object_id"])
        action = e.get("action")
        action = action.get("value") if isinstance(action, dict) else action
        name = CT_LIST.get(ctype)
        fields = _changed_fields(e)
        if name is None:
            if ctype.startswith(IGNORED_PREFIXES) or ctype.endswith("template") or (
                    ctype in LOOKUPS and action == "create"):
                continue
            if ctype == "dcim.macaddress":  # an interface's primary MAC is nested in the interface's row
                for d in (e.get("prechange_data"), e.get("postchange_data")):
                    if isinstance(d, dict) and isinstance(d.get("assigned_object_id"), int):
                        p.add("interfaces", d["assigned_object_id"])
                continue
            raise Fallback("E234", f"change {e.get('id')}: a {action} of {ctype} #{oid} is not read incrementally",
                           obj=ctype, field="changed_object_type")
        if action == "update" and fields & KEY_FIELDS.get(name, frozenset()):
            raise Fallback("E234", f"change {e.get('id')}: {ctype} #{oid} changed "
                           f"{', '.join(sorted(fields & KEY_FIELDS[name]))}, which many natural keys are made of",
                           obj=ctype, field=sorted(fields & KEY_FIELDS[name])[0])
        if name == "config_contexts":  # every device's rendered context may change
            p.whole.update({"config_contexts", "devices"})
            continue
        p.add(name, oid)
        if action == "delete" or (action == "update" and fields & EMBEDDED):
            p.embedded.setdefault(name, set()).add(oid)
    return p


def _ref_ids(v: Any) -> Iterable[int]:
    if isinstance(v, dict) and isinstance(v.get("id"), int):
        yield v["id"]
    elif isinstance(v, list):
        for x in v:
            yield from _ref_ids(x)


def referrers(raw: Mapping[str, list[Raw]], targets: Mapping[str, set[int]]) -> dict[str, set[int]]:
    """Rows of ``raw`` that refer to the ``targets`` (list -> ids), by nested or generic reference."""
    out: dict[str, set[int]] = {}
    for target, ids in targets.items():
        for ref_list, fld in REFS.get(target, ()):
            for r in raw.get(ref_list, []):
                if any(i in ids for i in _ref_ids(r.get(fld))):
                    out.setdefault(ref_list, set()).add(r["id"])
    by_ct = {LIST_CT[t]: ids for t, ids in targets.items() if t in LIST_CT}
    if by_ct:
        for ref_list, tfld, ifld in GENERIC:
            for r in raw.get(ref_list, []):
                hit = by_ct.get(str(r.get(tfld)))
                if hit and r.get(ifld) in hit:
                    out.setdefault(ref_list, set()).add(r["id"])
    return out


# --------------------------------------------------------------------------------------------------------
# Re-reading
# --------------------------------------------------------------------------------------------------------
def _by_id(f: Fetcher, name: str, ids: list[int]) -> list[Raw]:
    path = f"/api/{ENDPOINTS[name][0]}/"
    out: list[Raw] = []
    for i in range(0, len(ids), BY_ID_CHUNK):
        chunk = ids[i:i + BY_ID_CHUNK]
        q = urlencode([("id", x) for x in chunk] + [("limit", len(chunk)), ("ordering", "id"),
                                                     ("fields", ENDPOINTS[name][1])])
        out += check_list(path, [f.get(f"{path}?{q}", missing_ok=name in OPTIONAL)])
    return out


def reread(f: Fetcher, p: Plan) -> dict[str, tuple[list[Raw], set[int]]]:
    """Per list: the rows NetBox has now and the ids asked for (an id asked for and not answered is gone)."""
    jobs = [(n, sorted(ids)) for n, ids in p.ids.items() if n not in p.whole and n in ENDPOINTS]
    with ThreadPoolExecutor(max_workers=f.workers) as pool:
        got = list(pool.map(lambda j: _by_id(f, j[0], j[1]), jobs))
    out = {n: (rows, set(ids)) for (n, ids), rows in zip(jobs, got, strict=True)}
    if p.whole:
        full = f.list_all(sorted(p.whole))
        out.update({n: (rows, {r["id"] for r in rows} | {-1}) for n, rows in full.items()})
    return out


def counts(f: Fetcher) -> dict[str, int]:
    """NetBox's ``count`` of every list the reader reads (one small request each, in parallel)."""
    def count(n: str) -> int:
        page = f.get(f"/api/{ENDPOINTS[n][0]}/", {"limit": 1, "fields": "id"}, missing_ok=n in OPTIONAL)
        return int(page.get("count", -1)) if isinstance(page, dict) else -1
    # small requests: as many at once as the local NetBox serves (3 gunicorn workers x 2 threads)
    with ThreadPoolExecutor(max_workers=max(f.workers, 6)) as pool:
        return dict(zip(ENDPOINTS, pool.map(count, ENDPOINTS), strict=True))


def count_check(counts: Mapping[str, int], raw: Mapping[str, list[Raw]]) -> None:
    """Fallback E233 when NetBox's ``count`` of any list differs from the rows now held."""
    bad = {n: (c, len(raw.get(n, []))) for n, c in counts.items() if c != len(raw.get(n, []))}
    if bad:
        first = sorted(bad)[0]
        raise Fallback("E233", f"count check: NetBox has {bad[first][0]} {first}, the snapshot "
                       f"{bad[first][1]} ({len(bad)} list(s) disagree: {', '.join(sorted(bad))})",
                       obj=f"/api/{ENDPOINTS[first][0]}/", field="count")


# --------------------------------------------------------------------------------------------------------
# Applying: rows, cable paths, derived objects
# --------------------------------------------------------------------------------------------------------
def _component(g: CableGraph, seeds: Iterable[Node]) -> set[Node]:
    """Every node connected to ``seeds`` by cables, port mappings or circuits (what a path could cross)."""
    seen: set[Node] = set()
    todo = [s for s in seeds]
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        t = g.terms_by_node.get(n)
        if t is not None:
            todo += [x.node for end in ("A", "B") for x in g.terms_by_end.get((t.cable, end), ())]
        if n[0] == FRONT:
            todo += [(REAR, m.rear) for m in g.maps_by_front.get(n[1], ())]
        elif n[0] == REAR:
            todo += [(FRONT, m.front) for m in g.maps_by_rear.get(n[1], ())]
        elif n[0] == CT and (c := g.circuits.get(n[1])) is not None:
            todo += [(CT, o.id) for side in ("A", "Z") for o in g.circuit_sides.get((c.circuit, side), ())]
    return seen


def _cable_nodes(g: CableGraph, cables: set[int]) -> list[Node]:
    return [x.node for c in cables for end in ("A", "B") for x in g.terms_by_end.get((c, end), ())]


def _seeds(name: str, rows: Iterable[Raw]) -> list[Node]:
    if name in CABLED_LISTS:
        return [(CABLED_LISTS[name], r["id"]) for r in rows]
    if name == "cable_terminations":
        return [(str(r["termination_type"]), int(r["termination_id"])) for r in rows]
    return []


def _ref(v: Any) -> int | None:
    return v["id"] if isinstance(v, dict) and isinstance(v.get("id"), int) else (v if isinstance(v, int) else None)


def derived(name: str, rows: list[Raw], raw: Mapping[str, list[Raw]]) -> dict[str, set[int]]:
    """Objects to convert again (not re-read) because ``rows`` of list ``name`` (old or new) changed."""
    out: dict[str, set[int]] = {}

    def add(n: str, i: Any) -> None:
        if isinstance(i, int):
            out.setdefault(n, set()).add(i)
    for r in rows:
        if name == "ip_addresses":
            t, i = r.get("assigned_object_type"), r.get("assigned_object_id")
            add("interfaces" if t == "dcim.interface" else "fhrp_groups" if t == "ipam.fhrpgroup" else "-", i)
        elif name == "fhrp_assignments":
            add("interfaces", r.get("interface_id"))
        elif name == "devices":
            add("virtual_chassis", _ref(r.get("virtual_chassis")))
        elif name == "circuit_terminations":
            add("circuits", _ref(r.get("circuit")))
        elif name == "l2vpn_terminations":
            add("l2vpns", _ref(r.get("l2vpn")))
        elif name == "cable_terminations":
            add("cables", _ref(r.get("cable")))
    ids = {r["id"] for r in rows}
    follow = {"virtual_chassis": ("devices", "virtual_chassis"), "device_types": ("devices", "device_type"),
              "fhrp_groups": ("fhrp_assignments", "group"), "power_panels": ("power_feeds", "power_panel"),
              "rear_ports": ("front_ports", "rear_ports")}
    if name in follow and ids:
        lst, fld = follow[name]
        for r in raw.get(lst, []):
            v = r.get(fld)
            refs = [m.get("rear_port") for m in v] if fld == "rear_ports" and isinstance(v, list) else \
                list(_ref_ids(v))
            if any(x in ids for x in refs):
                add(lst, r["id"])
                if lst == "fhrp_assignments":
                    add("interfaces", r.get("interface_id"))
    return out


def _strip(row: Raw) -> Raw:
    return {k: v for k, v in row.items() if k not in PEER_FIELDS and k not in PATH_FIELDS}


def graph_of(raw: Mapping[str, list[Raw]]) -> CableGraph:
    return _graph_of(raw, foreign=_foreign_links(raw))


#: the lists the cabling is built from: when none of them changed, the old graph is the new one
GRAPH_LISTS = frozenset({"cables", "cable_terminations", "front_ports", "rear_ports", "circuit_terminations",
                         "wireless_links", "virtual_circuit_terminations"})


def _retrace(state: State, raw: dict[str, list[Raw]], seeds: list[Node], cables: set[int],
             touched: dict[str, set[int]], regraph: bool) -> CableGraph:
    """Re-trace the cable paths of everything connected (before or after) to what changed; the new graph."""
    old = state.raw
    old_g = state.graph()
    new_g = graph_of(raw) if regraph else old_g
    nodes = _component(old_g, seeds + _cable_nodes(old_g, cables)) | _component(new_g, seeds + _cable_nodes(new_g,
                                                                                                          cables))
    by_ct: dict[str, set[int]] = {}
    for ctype, oid in nodes:
        by_ct.setdefault(ctype, set()).add(oid)
    names = {ct: n for n, ct in CABLED_LISTS.items()}
    for ctype, ids in by_ct.items():
        name = names.get(ctype)
        if name is None:
            continue
        raw[name] = [_strip(r) if r["id"] in ids else r for r in raw.get(name, [])]
        touched.setdefault(name, set()).update(ids)
        for n in ((ctype, i) for i in ids):
            for c in (old_g.cable(n), new_g.cable(n)):
                if c is not None:
                    touched.setdefault("cables", set()).add(c)
    # every link peer and path end of a node is in the same component: annotate the component's rows alone
    sub = {n: [r for r in raw.get(n, []) if (CABLED_LISTS[n], r["id"]) in nodes] for n in CABLED_LISTS}
    sub["provider_networks"] = raw.get("provider_networks", [])
    unsupported = annotate(sub, new_g) & nodes
    if unsupported:
        n = sorted(unsupported)[0]
        raise Fallback("E235", f"{len(unsupported)} changed cable end(s) need NetBox's own trace (cable profiles, "
                       f"wireless links, virtual circuits), e.g. {n[0]} #{n[1]}", obj=n[0], field="cable")
    cts = by_ct.get(CT, set())
    if cts:
        for r in (*old.get("circuit_terminations", []), *raw.get("circuit_terminations", [])):
            if r["id"] in cts and (c := _ref(r.get("circuit"))) is not None:
                touched.setdefault("circuits", set()).add(c)
    return new_g


def apply(state: State, got: Mapping[str, tuple[list[Raw], set[int]]], whole: set[str]
          ) -> tuple[dict[str, list[Raw]], dict[str, set[int]], CableGraph | None]:
    """The new raw lists (the old ones are not modified) and, per Snapshot list, the ids to convert again."""
    old = state.raw
    raw = dict(old)
    touched: dict[str, set[int]] = {}
    seeds: list[Node] = []
    cables: set[int] = set()
    for name, (rows, asked) in got.items():
        old_rows = {r["id"]: r for r in old.get(name, [])}
        new_rows = {r["id"]: r for r in rows}
        gone = set(old_rows) - set(new_rows) if name in whole else {i for i in asked if i not in new_rows}
        merged = {i: r for i, r in old_rows.items() if i not in gone} | new_rows
        raw[name] = [merged[i] for i in sorted(merged)]
        before = [old_rows[i] for i in sorted((asked | gone) & set(old_rows))]
        touched.setdefault(name, set()).update(new_rows)
        for n, ids in (*derived(name, before, old).items(), *derived(name, rows, raw).items()):
            touched.setdefault(n, set()).update(ids)
        seeds += _seeds(name, before) + _seeds(name, rows)
        if name == "cables":
            cables |= asked
    graph = None
    if seeds or cables:
        graph = _retrace(state, raw, seeds, cables, touched, regraph=bool(GRAPH_LISTS & set(got)))
    return raw, touched, graph


def assemble(old: Snapshot, raw: dict[str, list[Raw]], touched: Mapping[str, set[int]],
             source: SnapshotSource) -> Snapshot:
    """``old`` with the touched objects converted again from ``raw`` (and the deleted ones gone)."""
    c = context(raw)
    update: dict[str, Any] = {"source": source}
    for kind in CONVERTERS:
        ids = touched.get(kind)
        if ids is None:
            continue
        old_by_id = {o.id: o for o in getattr(old, kind)}
        update[kind] = tuple(convert(c, kind, r) if r["id"] in ids or r["id"] not in old_by_id
                             else old_by_id[r["id"]] for r in raw.get(kind, []))
    return old.model_copy(update=update)


# --------------------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------------------
def _say(log: Log | None, msg: str) -> None:
    if log is not None:
        log(msg)


def full_read(target: NetBoxTarget, *, workers: int = 4, reason: str | None = None,
              log: Log | None = None) -> tuple[Snapshot, State]:
    """A full read that also records the watermark (main's newest change, taken *before* the read)."""
    t0 = time.monotonic()
    read_at = datetime.now(UTC)
    with _fetcher(target.with_branch(None), workers) as f:
        change_id, change_time = watermark(f)
    raw, fr, version = read_raw(target, workers=workers, log=log)
    mark = ChangelogMark(change_id=change_id, time=change_time, mode="full", fallback=reason)
    source = SnapshotSource(url=target.url, read_at=read_at, netbox_version=version, branch=target.branch,
                            requests=fr.requests + 1, seconds=0.0, method="rest-fields+client-paths",
                            changelog=mark)
    snap = build(raw, source)
    snap = snap.model_copy(update={"source": source.model_copy(update={"seconds": round(time.monotonic() - t0, 3)})})
    return snap, State(target.url, snap, raw, change_id, change_time)


def _incremental(target: NetBoxTarget, base: State, workers: int, log: Log | None) -> tuple[Snapshot, State]:
    t0 = time.monotonic()
    read_at = datetime.now(UTC)
    with _fetcher(target.with_branch(None), workers) as fm, _fetcher(target, workers) as fb:
        with ThreadPoolExecutor(2) as pool:
            status = pool.submit(fb.get, "/api/status/")
            ch = read_changes(fm, fb if target.branch else None, base)
            # the counts are taken after the changelog: what they see is in it, or a later change
            counted = pool.submit(counts, fb)
            version = str(status.result().get("netbox-version", "?"))
            p = plan(ch.entries)
            for n, ids in (referrers(base.raw, p.embedded) if p.embedded else {}).items():
                for i in ids:
                    p.add(n, i)
            got = reread(fb, p)
            raw, touched, graph = apply(base, got, p.whole)
            count_check(counted.result(), raw)
        requests = fm.requests + fb.requests
    n_reread = sum(len(rows) for rows, _ in got.values())
    mark = ChangelogMark(change_id=ch.change_id, time=ch.change_time, mode="incremental", changes=len(ch.entries),
                         reread=n_reread)
    source = SnapshotSource(url=target.url, read_at=read_at, netbox_version=version, branch=target.branch,
                            requests=requests, seconds=round(time.monotonic() - t0, 3),
                            method="rest-fields+client-paths+changelog", changelog=mark)
    snap = assemble(base.snapshot, raw, touched, source)
    _say(log, f"incremental: {len(ch.entries)} change(s) since change {base.change_id}, {n_reread} object(s) "
              f"re-read, {sum(len(v) for v in touched.values())} converted, {requests} requests")
    return snap, State(base.url, snap, raw, ch.change_id, ch.change_time, graph or base._graph)


def read_incremental(target: NetBoxTarget, *, state: State | None = None, cache: Path | None = None,
                     save: bool = True, limit: Limit | None = None, workers: int = 4,
                     log: Log | None = None) -> tuple[Snapshot, State]:
    """The snapshot of ``target`` from ``state`` (or main's cached state) plus the changes since; a full read
    when that cannot be trusted (the reason in ``source.changelog.fallback`` and ``log``). The new state is
    written back to the cache for main (``save``); a branch's state is returned, never cached as main's."""
    path = cache or cache_path(target)
    base_id: int | None = None
    try:
        base = state or State.load(path, target.url)
        base_id = base.change_id
        snap, new = _incremental(target, base, workers, log)
    except Fallback as why:
        _say(log, f"incremental read not possible ({why}): reading in full")
        snap, new = full_read(target, workers=workers, reason=str(why), log=log)
    mark = snap.source.changelog
    unchanged = state is None and mark is not None and mark.mode == "incremental" and not mark.reread \
        and new.change_id == base_id
    if save and not target.branch and not unchanged:  # an unchanged cache is not written again
        new.save(path)
    return apply_limit(snap, limit), new
