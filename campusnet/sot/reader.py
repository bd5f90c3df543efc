"""Read NetBox once, in bulk, into a :class:`~campusnet.sot.models.Snapshot`.

The number of requests does not grow with the number of devices: one list endpoint per object type,
``limit=0`` (NetBox answers with its own ``MAX_PAGE_SIZE``, whatever the server caps it at: we read the
page size the server used, never assume it), and when ``count`` says there is more, every remaining page
is fetched in parallel (offset pagination, a thread pool). ``fields=`` asks each endpoint for only what
the snapshot needs, which also lets NetBox skip the prefetches of the fields we do not read.

Cable ends, link peers and cable paths are **computed client side** (:mod:`campusnet.sot.paths`) from the
flat cable-termination list, the cables, the front ports' rear-port mappings and the circuit terminations —
NetBox is not asked for ``link_peers`` / ``connected_endpoints``, except by id for the few objects the trace
does not interpret (cable profiles, wireless links, virtual circuits). ``paths="netbox"`` reads NetBox's own
fields instead (the reference the tests compare against). Circuit terminations are tied to the device
interface behind them (through patch panels) from data already read.

Every list is read through REST: paged GraphQL was measured per object type at 2,000 devices
(``campusnet.sot.bench``, docs/benchmarks.md) and is slower for interfaces (nested ``tagged_vlans`` are
window-paginated by NetBox's GraphQL) and level for IP addresses.

``X-NetBox-Branch`` is sent when the target names a branch (:attr:`NetBoxTarget.branch`).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from threading import Lock
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from campusnet.errors import CampusnetError
from campusnet.settings import NetBoxTarget
from campusnet.sot.convert import Raw, _id, build
from campusnet.sot.limit import Limit, apply_limit
from campusnet.sot.models import Snapshot, SnapshotSource
from campusnet.sot.paths import CABLED_LISTS, PATH_FIELDS, PEER_FIELDS, WITH_PATH, Node, annotate, graph_of

Mode = Literal["fields", "full"]

# cable ends, link peers and cable paths are computed client side (campusnet.sot.paths) from the cable
# terminations, cables, port mappings and circuit terminations: NetBox's serialisation of the cached paths
# (``connected_endpoints``) was ~60 % of the interface read. ``paths="netbox"`` asks NetBox for them as before.
_CABLED = "cable,link_peers,link_peers_type"
_PATH = _CABLED + ",connected_endpoints,connected_endpoints_type,connected_endpoints_reachable"
PathSource = Literal["client", "netbox"]

# endpoint name -> (API path, fields= for mode "fields"). Secrets are never requested (FHRP auth_key).
ENDPOINTS: dict[str, tuple[str, str]] = {
    "tenant_groups": ("tenancy/tenant-groups", "id,name,slug,parent"),
    "tenants": ("tenancy/tenants", "id,name,slug,group,description,tags"),
    "contacts": ("tenancy/contacts", "id,name,groups,title,phone,email"),
    "contact_assignments": ("tenancy/contact-assignments", "id,object_type,object_id,object,contact,role,priority"),
    "regions": ("dcim/regions", "id,name,slug,parent"),
    "sites": ("dcim/sites", "id,name,slug,status,region,tenant,facility,asns,tags"),
    "locations": ("dcim/locations", "id,name,slug,site,parent,status,tenant"),
    "racks": ("dcim/racks", "id,name,site,location,status,role,tenant,u_height,starting_unit,desc_units,"
                            "facility_id,tags"),
    "power_panels": ("dcim/power-panels", "id,name,site,location"),
    "power_feeds": ("dcim/power-feeds", "id,name,power_panel,rack,status,type,supply,phase,voltage,amperage,"
                                        "max_utilization,tenant,cable,tags"),
    "power_ports": ("dcim/power-ports", "id,device,name,type,allocated_draw,maximum_draw"),
    "power_outlets": ("dcim/power-outlets", "id,device,name,power_port,feed_leg"),
    "tags": ("extras/tags", "id,name,slug,color"),
    "platforms": ("dcim/platforms", "id,name,slug,manufacturer"),
    "device_roles": ("dcim/device-roles", "id,name,slug"),
    "device_types": ("dcim/device-types", "id,manufacturer,model,slug,u_height,is_full_depth"),
    "virtual_chassis": ("dcim/virtual-chassis", "id,name,domain,master"),
    "devices": ("dcim/devices", "id,name,role,device_type,platform,site,location,rack,position,face,status,"
                                "tenant,owner,virtual_chassis,vc_position,primary_ip4,primary_ip6,oob_ip,serial,"
                                "asset_tag,description,tags,custom_fields,config_context"),
    "interfaces": ("dcim/interfaces", "id,device,name,label,type,enabled,mtu,speed,mode,untagged_vlan,"
                                      "tagged_vlans,lag,parent,vrf,mgmt_only,description,primary_mac_address,"
                                      "tags"),
    "front_ports": ("dcim/front-ports", "id,device,name,type,positions,rear_ports"),
    "rear_ports": ("dcim/rear-ports", "id,device,name,type,positions"),
    # cable ends from the flat termination list: 5x cheaper than the cables' nested a/b_terminations
    "cables": ("dcim/cables", "id,type,status,tenant,label,color,length,length_unit,tags,profile"),
    "cable_terminations": ("dcim/cable-terminations", "id,cable,cable_end,termination_type,termination_id,"
                                                      "connector,positions"),
    "vlan_groups": ("ipam/vlan-groups", "id,name,slug,scope_type,scope_id,scope,vid_ranges,tenant"),
    "vlans": ("ipam/vlans", "id,vid,name,site,group,tenant,owner,role,status,description,tags,"
                          "custom_fields"),
    "vrfs": ("ipam/vrfs", "id,name,rd,tenant,enforce_unique"),
    "prefixes": ("ipam/prefixes", "id,prefix,vrf,scope_type,scope_id,scope,vlan,tenant,owner,role,status,is_pool,"
                                  "mark_utilized,description,tags"),
    "ip_addresses": ("ipam/ip-addresses", "id,address,vrf,tenant,status,role,assigned_object_type,"
                                          "assigned_object_id,assigned_object,dns_name,description,tags"),
    "fhrp_groups": ("ipam/fhrp-groups", "id,name,protocol,group_id,auth_type,description,ip_addresses"),
    "fhrp_assignments": ("ipam/fhrp-group-assignments", "id,group,interface_type,interface_id,interface,priority"),
    "asns": ("ipam/asns", "id,asn,rir,tenant,description"),
    "providers": ("circuits/providers", "id,name,slug,asns,description"),
    "provider_networks": ("circuits/provider-networks", "id,name,provider"),
    "circuits": ("circuits/circuits", "id,cid,provider,type,status,tenant,owner,commit_rate,description,tags"),
    "circuit_terminations": ("circuits/circuit-terminations", "id,circuit,term_side,termination_type,"
                                                              "termination_id,port_speed,xconnect_id"),
    "l2vpns": ("vpn/l2vpns", "id,name,slug,type,identifier,status,tenant,tags"),
    "l2vpn_terminations": ("vpn/l2vpn-terminations", "id,l2vpn,assigned_object_type,assigned_object_id,"
                                                     "assigned_object"),
    "config_contexts": ("extras/config-contexts", "id,name,weight,is_active,data"),
    # links that are not cables: the interfaces on them are answered by NetBox (see _netbox_answers)
    "wireless_links": ("wireless/wireless-links", "id,interface_a,interface_b"),
    "virtual_circuit_terminations": ("circuits/virtual-circuit-terminations", "id,interface"),
}

#: lists a NetBox without the feature (older than 4.2, wireless app off) answers with 404: read as empty
OPTIONAL = frozenset({"wireless_links", "virtual_circuit_terminations"})
#: ids per request when asking NetBox for the path fields of the objects the client-side trace cannot answer
FALLBACK_CHUNK = 100

#: the same lists with NetBox's own cable paths (the reader before client-side tracing; the reference for tests)
ENDPOINTS_NETBOX_PATHS: dict[str, tuple[str, str]] = ENDPOINTS | {
    name: (ENDPOINTS[name][0], ENDPOINTS[name][1] + "," + (_PATH if name in WITH_PATH else _CABLED))
    for name in CABLED_LISTS}


# --------------------------------------------------------------------------------------------------------
# HTTP: counted, parallel, paged
# --------------------------------------------------------------------------------------------------------
#: a list read that did not add up (count changed, short, duplicate ids): read again once, then an error
INCONSISTENT = frozenset({"E115", "E116", "E117"})

#: answers worth another try: the server (or a proxy in front of it) is restarting or overloaded
RETRY_STATUS = frozenset({500, 502, 503, 504})
#: methods sent again after a transport error or a RETRY_STATUS answer (see Fetcher._send)
IDEMPOTENT = frozenset({"GET", "HEAD", "PATCH", "PUT", "DELETE"})
#: transport errors raised before the request left this machine: safe to retry any method
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        raise CampusnetError("E114", f"not a number: {os.environ.get(name)!r}", obj="environment",
                             field=name) from None


@dataclass
class Fetcher:
    """A counted HTTP client for one NetBox. Thread-safe (httpx.Client is).

    Every GET is retried on a timeout, a connection error and HTTP 500/502/503/504, ``tries`` times in
    all with exponential backoff (``backoff``, 2x, 4x … seconds); then it is a coded error (E110, E113).
    GETs are idempotent, so a retry never changes NetBox. ``CAMPUSNET_NETBOX_TRIES`` and
    ``CAMPUSNET_NETBOX_BACKOFF`` change the defaults."""

    target: NetBoxTarget
    workers: int = 4  # measured: 3-4 beat 1 and 8 on a 2-worker gunicorn
    timeout: float = 300.0
    requests: int = 0
    page_sizes: dict[str, int] = field(default_factory=dict)
    transport: httpx.BaseTransport | None = None  # tests inject a MockTransport
    tries: int = field(default_factory=lambda: max(1, int(_env_number("CAMPUSNET_NETBOX_TRIES", 4))))
    backoff: float = field(default_factory=lambda: max(0.0, _env_number("CAMPUSNET_NETBOX_BACKOFF", 0.5)))
    retries: int = 0  # how many GETs were tried again (tests and logs)
    rereads: int = 0  # how many lists were read again after an inconsistent read
    sleep: Callable[[float], None] = time.sleep  # tests replace it
    _lock: Lock = field(default_factory=Lock)
    _client: httpx.Client | None = None

    def __enter__(self) -> Fetcher:
        # a short connect timeout: a NetBox that is down is found out in seconds, not after `timeout`
        self._client = httpx.Client(base_url=self.target.url, headers=self.target.headers(),
                                    timeout=httpx.Timeout(self.timeout, connect=min(10.0, self.timeout)),
                                    follow_redirects=False, transport=self.transport)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()

    def _send(self, path: str, params: Mapping[str, str | int] | None, method: str = "GET",
              body: Any = None, headers: Mapping[str, str] | None = None, tries: int | None = None
              ) -> httpx.Response:
        """One request, tried again on transport errors and 5xx answers (bounded, exponential backoff) when
        that is safe: GET, PATCH (NetBox sets the fields given: the same PATCH twice is one change) and
        DELETE (a repeat finds 404) always; POST only when the connection was never made (nothing was sent:
        a POST that may have arrived is not sent twice, it could create the object twice)."""
        assert self._client is not None, "use Fetcher as a context manager"
        idempotent = method in IDEMPOTENT
        tries = tries or self.tries
        for attempt in range(1, tries + 1):
            with self._lock:
                self.requests += 1
            try:
                r = self._client.request(method, path, params=params, json=body, headers=headers)
            except httpx.TransportError as exc:  # connect/read/write timeouts, refused, reset, protocol
                if attempt < tries and (idempotent or isinstance(exc, NOT_SENT)):
                    self._pause(attempt)
                    continue
                raise CampusnetError("E110", f"NetBox at {self.target.url} did not answer {path} "
                                     f"after {tries} tries: {type(exc).__name__}") from None
            except httpx.HTTPError as exc:
                raise CampusnetError("E110", f"NetBox at {self.target.url} did not answer {path}: "
                                     f"{type(exc).__name__}") from None
            if r.status_code in RETRY_STATUS and attempt < tries and idempotent:
                self._pause(attempt)
                continue
            return r
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, attempt: int) -> None:
        with self._lock:
            self.retries += 1
        self.sleep(self.backoff * 2 ** (attempt - 1))

    def get(self, path: str, params: Mapping[str, str | int] | None = None, *, missing_ok: bool = False) -> Any:
        """GET one page as JSON. ``missing_ok``: an endpoint this NetBox does not have (404) reads as empty."""
        r = self._send(path, params)
        if r.status_code in (401, 403):
            raise CampusnetError("E111", f"NetBox refused the token for {path} (HTTP {r.status_code})")
        if r.status_code == 400 and self.target.branch:
            raise CampusnetError("E112", f"NetBox refused branch {self.target.branch!r} for {path}: "
                                 f"{r.text[:200]}")
        if r.status_code == 404 and missing_ok:
            return {"count": 0, "next": None, "results": []}
        if r.status_code in RETRY_STATUS:
            raise CampusnetError("E113", f"NetBox answered HTTP {r.status_code} for {path} after {self.tries} "
                                 f"tries: {r.text[:300]}")
        if r.status_code >= 400:
            raise CampusnetError("E113", f"NetBox answered HTTP {r.status_code} for {path}: {r.text[:300]}")
        try:
            return r.json()
        except ValueError:
            raise CampusnetError("E113", f"NetBox answered non-JSON for {path}") from None

    def request(self, method: str, path: str, *, params: Mapping[str, str | int] | None = None,
                json: Any = None, headers: Mapping[str, str] | None = None, tries: int | None = None
                ) -> httpx.Response:
        """Any verb, with the retry policy of :meth:`_send` (``tries``: fewer for a call that may fail
        for good); the caller judges the answer with its own codes."""
        return self._send(path, params, method.upper(), json, headers, tries)

    def write(self, method: str, path: str, json: Any = None, *, ok: Iterable[int] = ()) -> Any:
        """POST, PATCH or DELETE; the answer's JSON (None when empty). E111 for a refused token, E113 for
        any other answer >= 400 that is not in ``ok`` (e.g. 404 for a DELETE of what is already gone)."""
        r = self._send(path, None, method.upper(), json)
        if r.status_code in (401, 403):
            raise CampusnetError("E111", f"NetBox refused the token for {method.upper()} {path} "
                                 f"(HTTP {r.status_code})")
        if r.status_code >= 400 and r.status_code not in set(ok):
            raise CampusnetError("E113", f"NetBox answered HTTP {r.status_code} for {method.upper()} {path}: "
                                 f"{r.text[:800]}")
        try:
            return r.json() if r.content and r.status_code < 400 else None
        except ValueError:
            raise CampusnetError("E113", f"NetBox answered non-JSON for {method.upper()} {path}") from None

    def post(self, path: str, json: Any) -> Any:
        return self.write("POST", path, json)

    def patch(self, path: str, json: Any) -> Any:
        return self.write("PATCH", path, json)

    def delete(self, path: str, json: Any = None) -> Any:
        """DELETE; an object already gone (404, e.g. a retried DELETE that had arrived) is not an error."""
        return self.write("DELETE", path, json, ok=(404,))

    def list_all(self, names: Iterable[str], mode: Mode = "fields",
                 endpoints: Mapping[str, tuple[str, str]] = ENDPOINTS) -> dict[str, list[Raw]]:
        """Every object of every named endpoint: first pages in parallel, then all remaining pages.

        Each list is checked against NetBox's own ``count`` (:func:`check_list`): a short, shifting or
        duplicated read is read again once (NetBox may have been written to meanwhile), then it is an
        error, never a smaller snapshot (a smaller intent would make a reload remove interfaces)."""
        names = list(names)

        def params(name: str, offset: int | None, limit: int) -> dict[str, str | int]:
            p: dict[str, str | int] = {"limit": limit, "ordering": "id"}
            if offset:
                p["offset"] = offset
            if mode == "fields":
                p["fields"] = endpoints[name][1]
            return p

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            firsts = dict(zip(names, pool.map(
                lambda n: self.get(f"/api/{endpoints[n][0]}/", params(n, None, 0), missing_ok=n in OPTIONAL),
                names), strict=True))
            jobs: list[tuple[str, int, int]] = []
            for name, page in firsts.items():
                path = f"/api/{endpoints[name][0]}/"
                got, count = _page_shape(page, path)
                if page.get("next") and got < count:
                    size = _limit_of(page["next"]) or got
                    if size <= 0:
                        raise CampusnetError("E116", f"NetBox said {count} objects but sent none on the first "
                                             "page", obj=path, field="results")
                    self.page_sizes[name] = size
                    jobs += [(name, off, size) for off in range(got, count, size)]
                else:
                    self.page_sizes[name] = got
            rest = list(pool.map(
                lambda j: (j[0], j[1], self.get(f"/api/{endpoints[j[0]][0]}/", params(j[0], j[1], j[2]))), jobs))
        pages: dict[str, list[Raw]] = {n: [p] for n, p in firsts.items()}
        for name, _off, page in sorted(rest, key=lambda t: (t[0], t[1])):
            pages[name].append(page)
        out: dict[str, list[Raw]] = {}
        for name, ps in pages.items():
            path = f"/api/{endpoints[name][0]}/"
            try:
                out[name] = check_list(path, ps)
            except CampusnetError as exc:
                if exc.code not in INCONSISTENT:
                    raise
                # NetBox was probably written to while we read: read this list once more, then give up
                self.rereads += 1
                out[name] = self._read_one(path, functools.partial(params, name))
        return out

    def _read_one(self, path: str, params: Callable[[int | None, int], dict[str, str | int]]) -> list[Raw]:
        """One list, first page then the rest in order, checked (:func:`check_list`)."""
        first = self.get(path, params(None, 0))
        got, count = _page_shape(first, path)
        pages = [first]
        if first.get("next") and got < count:
            size = _limit_of(first["next"]) or got
            if size <= 0:
                raise CampusnetError("E116", f"NetBox said {count} objects but sent none on the first page",
                                     obj=path, field="results")
            pages += [self.get(path, params(off, size)) for off in range(got, count, size)]
        return check_list(path, pages)


def _page_shape(page: Any, path: str) -> tuple[int, int]:
    """(rows on this page, NetBox's count) of a list reply; a reply without them is an error."""
    if not isinstance(page, dict) or not isinstance(page.get("results"), list) \
            or not isinstance(page.get("count"), int):
        raise CampusnetError("E114", "NetBox's list reply has no 'count' and 'results'", obj=path, field="count")
    return len(page["results"]), int(page["count"])


def check_list(path: str, pages: list[Any]) -> list[Raw]:
    """The rows of one list read in ``pages`` (first page first), checked against NetBox's ``count``.

    Every page must report the first page's count (a different one: objects were added or deleted
    during the read, so offsets shifted), the pages together must hold exactly ``count`` rows (fewer: a
    short read), and ids must be unique."""
    rows: list[Raw] = []
    count = None
    for i, page in enumerate(pages):
        _got, n = _page_shape(page, path)
        if count is None:
            count = n
        elif n != count:
            raise CampusnetError("E115", f"NetBox's count changed during the read (first page {count}, "
                                 f"page {i + 1} {n}): NetBox was written to while we read; run again",
                                 obj=path, field="count")
        rows.extend(page["results"])
    count = count or 0
    if len(rows) != count:
        raise CampusnetError("E116", f"short read: NetBox said {count} objects, the pages held {len(rows)}; "
                             "refusing to use a partial list", obj=path, field="count")
    seen: set[Any] = set()
    for r in rows:
        oid = r.get("id") if isinstance(r, dict) else None
        if oid is None or oid in seen:
            raise CampusnetError("E117", f"inconsistent read: object id {oid!r} came "
                                 f"{'without an id' if oid is None else 'twice'} ({count} objects expected)",
                                 obj=path, field="id")
        seen.add(oid)
    return rows


def _limit_of(url: str) -> int | None:
    q = parse_qs(urlparse(url).query)
    try:
        return int(q["limit"][0])
    except (KeyError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------------
def read_raw(target: NetBoxTarget, *, mode: Mode = "fields", workers: int = 4, paths: PathSource = "client",
             log: Callable[[str], None] | None = None) -> tuple[dict[str, list[Raw]], Fetcher, str]:
    """The raw lists of every endpoint (for recording fixtures and for benchmarks).

    ``paths="client"`` (default): cable ends, link peers and paths are computed from the cable terminations
    (:mod:`campusnet.sot.paths`) and written into the rows in NetBox's REST shape; the few objects the
    client-side trace does not answer for (cable profiles, wireless links, virtual circuits) are asked of
    NetBox by id. ``paths="netbox"``: NetBox's own ``link_peers`` / ``connected_endpoints`` fields."""
    endpoints = ENDPOINTS if paths == "client" else ENDPOINTS_NETBOX_PATHS
    with Fetcher(target, workers=workers) as f:
        status = f.get("/api/status/")
        version = str(status.get("netbox-version", "?"))
        raw = f.list_all(endpoints, mode=mode, endpoints=endpoints)
        if paths == "client" and mode == "fields":
            _client_paths(f, raw, log=log)
        if log:
            log(f"{f.requests} requests, page sizes {sorted(set(f.page_sizes.values()))}")
        return raw, f, version


def _foreign_links(raw: Mapping[str, list[Raw]]) -> set[Node]:
    """Interfaces linked by something other than a cable (wireless links, virtual circuits)."""
    out: set[Node] = set()
    for o in raw.get("wireless_links", []):
        out.update(("dcim.interface", i) for i in (_id(o.get("interface_a")), _id(o.get("interface_b"))) if i)
    for o in raw.get("virtual_circuit_terminations", []):
        if (i := _id(o.get("interface"))) is not None:
            out.add(("dcim.interface", i))
    return out


def _client_paths(f: Fetcher, raw: dict[str, list[Raw]], log: Callable[[str], None] | None = None) -> None:
    """Compute cable ends and paths into ``raw``; ask NetBox for the objects the trace cannot answer for."""
    unsupported = annotate(raw, graph_of(raw, foreign=_foreign_links(raw)))
    by_list: dict[str, list[int]] = {}
    names = {ct: name for name, ct in CABLED_LISTS.items()}
    for ctype, oid in sorted(unsupported):
        if ctype in names:
            by_list.setdefault(names[ctype], []).append(oid)
    for name, ids in by_list.items():
        fields = ",".join(("id", *PEER_FIELDS, *(PATH_FIELDS if name in WITH_PATH else ())))
        rows = {r["id"]: r for r in raw.get(name, [])}
        for i in range(0, len(ids), FALLBACK_CHUNK):
            chunk = ids[i:i + FALLBACK_CHUNK]
            q = urlencode([("id", x) for x in chunk] + [("limit", len(chunk)), ("fields", fields)])
            path = f"/api/{ENDPOINTS[name][0]}/"
            got = check_list(path, [f.get(f"{path}?{q}")])
            missing = sorted(set(chunk) - {r["id"] for r in got})
            if missing:  # deleted while we read: its cable ends would be missing from the snapshot
                raise CampusnetError("E116", f"short read: asked for {len(chunk)} objects by id, "
                                     f"{len(missing)} missing (ids {missing[:5]}); run again",
                                     obj=path, field="id")
            for r in got:
                if r["id"] in rows:
                    rows[r["id"]].update(r)
        if log:
            log(f"{name}: {len(ids)} asked of NetBox (cable profiles, wireless links or virtual circuits)")


def read_snapshot(target: NetBoxTarget, *, limit: Limit | None = None, mode: Mode = "fields",
                  workers: int = 4, paths: PathSource = "client") -> Snapshot:
    """Read every object the automation needs, in a constant number of bulk requests, as a Snapshot."""
    t0 = time.monotonic()
    read_at = datetime.now(UTC)
    raw, f, version = read_raw(target, mode=mode, workers=workers, paths=paths)
    method = f"rest-{mode}" if paths == "netbox" or mode == "full" else f"rest-{mode}+client-paths"
    source = SnapshotSource(url=target.url, read_at=read_at, netbox_version=version, branch=target.branch,
                            requests=f.requests, seconds=round(time.monotonic() - t0, 3), method=method)
    snap = build(raw, source)
    snap = snap.model_copy(update={"source": source.model_copy(
        update={"seconds": round(time.monotonic() - t0, 3)})})
    return apply_limit(snap, limit)


def build_snapshot(raw: dict[str, list[Raw]], source: SnapshotSource) -> Snapshot:
    """Build a Snapshot from recorded endpoint replies (as returned by :func:`read_raw`, or the bare lists:
    cable ends and paths missing from the rows are computed, see :mod:`campusnet.sot.paths`)."""
    annotate(raw, graph_of(raw, foreign=_foreign_links(raw)))
    return build(raw, source)
