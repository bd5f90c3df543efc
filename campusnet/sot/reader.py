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
from typing import Any, Literal, cast
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
from pydantic import ValidationError

from campusnet.errors import CampusnetError, DataError
from campusnet.settings import NetBoxTarget
from campusnet.sot.limit import Limit, apply_limit
from campusnet.sot.models import (
    ASN,
    L2VPN,
    VLAN,
    VRF,
    Cable,
    Circuit,
    CircuitTermination,
    ConfigContext,
    Contact,
    ContactAssignment,
    Device,
    DeviceRole,
    DeviceType,
    Endpoint,
    FhrpAssignment,
    FHRPGroup,
    FrontPort,
    Interface,
    IPAddress,
    L2VPNTermination,
    Location,
    Platform,
    PowerFeed,
    PowerOutlet,
    PowerPanel,
    PowerPort,
    Prefix,
    Provider,
    ProviderNetwork,
    Rack,
    RearPort,
    Region,
    Site,
    Snapshot,
    SnapshotSource,
    Tag,
    Tenant,
    TenantGroup,
    VirtualChassis,
    VLANGroup,
    iface_key,
    vrf_key,
)
from campusnet.sot.paths import CABLED_LISTS, PATH_FIELDS, PEER_FIELDS, WITH_PATH, Node, annotate, graph_of

Raw = dict[str, Any]
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
# Normalisation helpers
# --------------------------------------------------------------------------------------------------------
def _v(x: Any) -> Any:
    """A choice field's value ({"value":..,"label":..}) or the plain value."""
    return x.get("value") if isinstance(x, dict) else x


def _slug(x: Any) -> str | None:
    return cast(str, x.get("slug")) if isinstance(x, dict) else None


def _name(x: Any) -> str | None:
    return cast(str, x.get("name")) if isinstance(x, dict) else None


def _id(x: Any) -> int | None:
    return cast(int, x.get("id")) if isinstance(x, dict) else None


def _tags(o: Raw) -> tuple[str, ...]:
    return tuple(sorted(t["slug"] for t in o.get("tags") or ()))


def _addr(x: Any) -> str | None:
    return cast(str, x.get("address")) if isinstance(x, dict) else None


def _cf_value(v: Any) -> Any:
    """Object custom fields come as nested objects: keep their natural value."""
    if isinstance(v, list):
        return [_cf_value(i) for i in v]
    if isinstance(v, dict) and "id" in v and "url" in v:
        for k in ("asn", "slug", "name", "address", "prefix", "vid", "cid", "display"):
            if k in v:
                return v[k]
        return v["id"]
    return v


def _cf_name(o: Raw, name: str) -> str | None:
    v = (o.get("custom_fields") or {}).get(name)
    if isinstance(v, dict):
        return cast(str | None, v.get("name") or v.get("display"))
    return str(v) if v else None


@dataclass
class _Ctx:
    """Id → natural key maps, built from the raw lists before the objects that need them."""

    raw: dict[str, list[Raw]]
    device_by_id: dict[int, str] = field(default_factory=dict)
    rack_by_id: dict[int, str] = field(default_factory=dict)
    panel_by_id: dict[int, Raw] = field(default_factory=dict)
    feed_by_id: dict[int, str] = field(default_factory=dict)
    vlan_by_id: dict[int, str] = field(default_factory=dict)
    circuit_by_id: dict[int, str] = field(default_factory=dict)
    ct_by_id: dict[int, Raw] = field(default_factory=dict)
    site_by_id: dict[int, str] = field(default_factory=dict)
    location_by_id: dict[int, str] = field(default_factory=dict)
    region_by_id: dict[int, str] = field(default_factory=dict)
    provider_by_id: dict[int, str] = field(default_factory=dict)
    pn_by_id: dict[int, str] = field(default_factory=dict)
    prefix_by_id: dict[int, str] = field(default_factory=dict)
    ip_by_id: dict[int, str] = field(default_factory=dict)
    iface_by_id: dict[int, str] = field(default_factory=dict)

    def device_name(self, d: Any) -> str | None:
        if not isinstance(d, dict):
            return None
        return self.device_by_id.get(d["id"]) or d.get("name") or f"device-{d['id']}"

    def endpoint(self, kind: str | None, o: Raw) -> Endpoint:
        k = (kind or "").rpartition(".")[2]
        if k in ("interface", "frontport", "rearport", "powerport", "poweroutlet", "consoleport",
                 "consoleserverport"):
            return Endpoint(kind=cast(Any, k), device=self.device_name(o.get("device")), name=o.get("name"))
        if k == "circuittermination":
            ct = self.ct_by_id.get(o["id"], o)
            cid = _id(ct.get("circuit"))
            return Endpoint(kind="circuittermination",
                            circuit=self.circuit_by_id.get(cid, str(cid)) if cid is not None else None,
                            term_side=ct.get("term_side"))
        if k == "powerfeed":
            return Endpoint(kind="powerfeed", name=self.feed_by_id.get(o["id"], o.get("name")))
        if k == "providernetwork":
            return Endpoint(kind="providernetwork", name=self.pn_by_id.get(o["id"], o.get("name")))
        return Endpoint(kind="other", name=str(o.get("display") or o.get("name") or o.get("id")))

    def endpoints(self, kind: str | None, objs: Any) -> tuple[Endpoint, ...]:
        return tuple(self.endpoint(kind, o) for o in objs or () if isinstance(o, dict))

    def scope_key(self, scope_type: str | None, scope_id: int | None, scope: Any) -> str | None:
        if scope_type is None or scope_id is None:
            return None
        table = {"dcim.site": self.site_by_id, "dcim.location": self.location_by_id,
                 "dcim.region": self.region_by_id}.get(scope_type)
        if table is not None and scope_id in table:
            return table[scope_id]
        return _slug(scope) or _name(scope)

    def object_key(self, object_type: str, object_id: int, obj: Any) -> str:
        table: dict[int, str] | None = {
            "dcim.device": self.device_by_id, "dcim.site": self.site_by_id, "dcim.location": self.location_by_id,
            "dcim.region": self.region_by_id, "dcim.rack": self.rack_by_id, "ipam.vlan": self.vlan_by_id,
            "ipam.prefix": self.prefix_by_id, "ipam.ipaddress": self.ip_by_id,
            "circuits.circuit": self.circuit_by_id, "circuits.provider": self.provider_by_id,
            "dcim.powerfeed": self.feed_by_id, "dcim.interface": self.iface_by_id,
        }.get(object_type)
        if table is not None and object_id in table:
            return table[object_id]
        if isinstance(obj, dict):
            for k in ("slug", "name", "display"):
                if obj.get(k):
                    return str(obj[k])
        return f"{object_type}#{object_id}"


def _build(raw: dict[str, list[Raw]], source: SnapshotSource) -> Snapshot:
    c = _Ctx(raw)
    g = raw.get
    c.site_by_id = {o["id"]: o["slug"] for o in g("sites", [])}
    c.region_by_id = {o["id"]: o["slug"] for o in g("regions", [])}
    c.location_by_id = {o["id"]: f"{_slug(o['site'])}/{o['slug']}" for o in g("locations", [])}
    c.provider_by_id = {o["id"]: o["slug"] for o in g("providers", [])}
    c.pn_by_id = {o["id"]: f"{_slug(o['provider'])}/{o['name']}" for o in g("provider_networks", [])}
    for o in g("devices", []):
        c.device_by_id[o["id"]] = o.get("name") or f"device-{o['id']}"
    c.rack_by_id = {o["id"]: f"{_slug(o['site'])}/{o['name']}" for o in g("racks", [])}
    c.panel_by_id = {o["id"]: o for o in g("power_panels", [])}
    c.feed_by_id = {o["id"]: f"{_name(o['power_panel'])}/{o['name']}" for o in g("power_feeds", [])}
    vlan_groups = {o["id"]: o["slug"] for o in g("vlan_groups", [])}
    for o in g("vlans", []):
        grp = vlan_groups.get(_id(o.get("group")) or -1) or _slug(o.get("group"))
        c.vlan_by_id[o["id"]] = f"{grp or _slug(o.get('site')) or 'global'}:{o['vid']}"
    c.circuit_by_id = {o["id"]: f"{_slug(o['provider'])}/{o['cid']}" for o in g("circuits", [])}
    c.ct_by_id = {o["id"]: o for o in g("circuit_terminations", [])}
    c.prefix_by_id = {o["id"]: vrf_key(_name(o.get("vrf")), o["prefix"]) for o in g("prefixes", [])}
    c.ip_by_id = {o["id"]: vrf_key(_name(o.get("vrf")), o["address"]) for o in g("ip_addresses", [])}
    c.iface_by_id = {o["id"]: iface_key(c.device_name(o["device"]) or "?", o["name"]) for o in g("interfaces", [])}

    def tenant(o: Raw) -> str | None:
        return _slug(o.get("tenant"))

    # IP addresses per interface / FHRP group, FHRP assignments per interface
    ips_by_iface: dict[int, list[str]] = {}
    vips: dict[int, list[str]] = {}
    ip_objs: list[IPAddress] = []
    for o in g("ip_addresses", []):
        at, aid, ao = o.get("assigned_object_type"), o.get("assigned_object_id"), o.get("assigned_object")
        dev = ifname = None
        fhrp = None
        if at == "dcim.interface" and isinstance(ao, dict) and aid is not None:
            dev, ifname = c.device_name(ao.get("device")), ao.get("name")
            ips_by_iface.setdefault(aid, []).append(o["address"])
        elif at == "ipam.fhrpgroup" and aid is not None:
            fhrp = aid
            vips.setdefault(aid, []).append(o["address"])
        ip_objs.append(IPAddress(
            id=o["id"], address=o["address"], vrf=_name(o.get("vrf")), tenant=tenant(o), role=_v(o.get("role")),
            status=_v(o["status"]), dns_name=o.get("dns_name") or "", description=o.get("description") or "",
            assigned_type=at, device=dev, interface=ifname, fhrp_group=fhrp, tags=_tags(o)))
    fhrp_by_group: dict[int, Raw] = {o["id"]: o for o in g("fhrp_groups", [])}
    fhrp_by_iface: dict[int, list[FhrpAssignment]] = {}
    for o in g("fhrp_assignments", []):
        if o.get("interface_type") != "dcim.interface":
            continue
        fg: Raw = fhrp_by_group.get(_id(o["group"]) or -1) or o["group"]
        fhrp_by_iface.setdefault(o["interface_id"], []).append(FhrpAssignment(
            group=fg["id"], protocol=_v(fg.get("protocol")), group_id=fg.get("group_id", 0),
            priority=o.get("priority", 0)))

    devtypes = {o["id"]: o for o in g("device_types", [])}
    vc_raw = {o["id"]: o for o in g("virtual_chassis", [])}
    devices: list[Device] = []
    for o in g("devices", []):
        name = c.device_by_id[o["id"]]
        dt: Raw = devtypes.get(_id(o["device_type"]) or -1) or o["device_type"]
        vc = o.get("virtual_chassis")
        vc_full = vc_raw.get(_id(vc) or -1, vc) if vc else None
        cfs = {k: _cf_value(v) for k, v in (o.get("custom_fields") or {}).items()}
        asn = cfs.get("bgp_asn")
        if asn is not None and not isinstance(asn, int):
            try:
                asn = int(str(asn).removeprefix("AS"))
            except ValueError:
                raise DataError(f"bgp_asn {asn!r} is not an ASN", obj=f"device {name}",
                                field="custom_fields.bgp_asn") from None
        try:
            devices.append(Device(
                id=o["id"], name=name, role=_slug(o.get("role")) or "", platform=_slug(o.get("platform")),
                device_type=DeviceType(
                    manufacturer=_slug(dt.get("manufacturer")) or "", model=dt.get("model", ""),
                    slug=dt.get("slug", ""), u_height=float(dt.get("u_height", 1) or 0),
                    is_full_depth=bool(dt.get("is_full_depth", True))),
                site=_slug(o["site"]) or "", location=(c.location_by_id.get(_id(o.get("location")) or -1)
                                                       or "").partition("/")[2] or None,
                rack=c.rack_by_id.get(_id(o.get("rack")) or -1), position=o.get("position"),
                face=_v(o.get("face")) or None, status=_v(o["status"]), tenant=tenant(o),
                owner=_name(o.get("owner")),
                virtual_chassis=_name(vc_full), vc_position=o.get("vc_position"),
                vc_master=bool(vc_full and _id(vc_full.get("master")) == o["id"]),
                primary_ip4=_addr(o.get("primary_ip4")), primary_ip6=_addr(o.get("primary_ip6")),
                oob_ip=_addr(o.get("oob_ip")), serial=o.get("serial") or "", asset_tag=o.get("asset_tag"),
                description=o.get("description") or "", tags=_tags(o), custom_fields=cfs, bgp_asn=asn,
                config_context=o.get("config_context") or {}))
        except ValidationError as exc:
            raise _data_error(exc, f"device {name}") from None

    vcs = []
    for o in g("virtual_chassis", []):
        members = sorted((d for d in devices if d.virtual_chassis == o["name"]),
                         key=lambda d: (d.vc_position or 0, d.name))
        vcs.append(VirtualChassis(id=o["id"], name=o["name"], domain=o.get("domain") or "",
                                  master=c.device_by_id.get(_id(o.get("master")) or -1),
                                  members=tuple(d.name for d in members)))

    interfaces: list[Interface] = []
    for o in g("interfaces", []):
        dev = c.device_name(o["device"]) or "?"
        uv, tv = o.get("untagged_vlan"), o.get("tagged_vlans") or []
        mac = o.get("primary_mac_address")
        try:
            interfaces.append(Interface(
                id=o["id"], device=dev, name=o["name"], label=o.get("label") or "", type=_v(o["type"]),
                enabled=o.get("enabled", True), mtu=o.get("mtu"), speed=o.get("speed"), mode=_v(o.get("mode")),
                untagged_vid=uv["vid"] if uv else None,
                untagged_vlan=c.vlan_by_id.get(uv["id"]) if uv else None,
                tagged_vids=tuple(sorted(v["vid"] for v in tv)),
                tagged_vlans=tuple(sorted(c.vlan_by_id.get(v["id"], str(v["vid"])) for v in tv)),
                lag=_name(o.get("lag")), parent=_name(o.get("parent")), vrf=_name(o.get("vrf")),
                mgmt_only=bool(o.get("mgmt_only")), description=o.get("description") or "",
                mac_address=mac.get("mac_address") if isinstance(mac, dict) else None, tags=_tags(o),
                ip_addresses=tuple(ips_by_iface.get(o["id"], ())), cable=_id(o.get("cable")),
                link_peers=c.endpoints(o.get("link_peers_type"), o.get("link_peers")),
                connected_endpoints=c.endpoints(o.get("connected_endpoints_type"), o.get("connected_endpoints")),
                connected_reachable=o.get("connected_endpoints_reachable"),
                fhrp=tuple(sorted(fhrp_by_iface.get(o["id"], ()), key=lambda a: a.group))))
        except ValidationError as exc:
            raise _data_error(exc, f"interface {dev}:{o.get('name')}") from None

    front_ports = []
    rear_by_id = {o["id"]: o for o in g("rear_ports", [])}
    for o in g("front_ports", []):
        maps = o.get("rear_ports") or []
        rp = rear_by_id.get(maps[0]["rear_port"]) if maps else None
        front_ports.append(FrontPort(
            id=o["id"], device=c.device_name(o["device"]) or "?", name=o["name"], type=_v(o["type"]),
            rear_port=rp["name"] if rp else None,
            rear_port_position=maps[0].get("rear_port_position") if maps else None,
            cable=_id(o.get("cable")), link_peers=c.endpoints(o.get("link_peers_type"), o.get("link_peers"))))
    rear_ports = [RearPort(
        id=o["id"], device=c.device_name(o["device"]) or "?", name=o["name"], type=_v(o["type"]),
        positions=o.get("positions") or 1, cable=_id(o.get("cable")),
        link_peers=c.endpoints(o.get("link_peers_type"), o.get("link_peers"))) for o in g("rear_ports", [])]

    def feed_of(o: Raw) -> str | None:
        for ep in c.endpoints(o.get("connected_endpoints_type"), o.get("connected_endpoints")):
            if ep.kind == "powerfeed":
                return ep.name
        return None

    def peer_key(o: Raw) -> str | None:
        eps = c.endpoints(o.get("link_peers_type"), o.get("link_peers"))
        return eps[0].key if eps and eps[0].kind != "powerfeed" else (eps[0].name if eps else None)

    power_ports = [PowerPort(
        id=o["id"], device=c.device_name(o["device"]) or "?", name=o["name"], type=_v(o.get("type")),
        allocated_draw=o.get("allocated_draw"), maximum_draw=o.get("maximum_draw"), cable=_id(o.get("cable")),
        feed=feed_of(o), link_peer=peer_key(o)) for o in g("power_ports", [])]
    power_outlets = [PowerOutlet(
        id=o["id"], device=c.device_name(o["device"]) or "?", name=o["name"], power_port=_name(o.get("power_port")),
        feed_leg=_v(o.get("feed_leg")), cable=_id(o.get("cable")), link_peer=peer_key(o))
        for o in g("power_outlets", [])]

    def term(e: Raw) -> Endpoint | None:
        obj = e.get("object")
        if not isinstance(obj, dict):
            return None
        return c.endpoint(e.get("object_type"), obj)

    # (termination type, id) -> endpoint, for the flat cable-terminations list
    comp_rows: dict[str, list[Raw]] = {"dcim.interface": g("interfaces", []), "dcim.frontport": g("front_ports", []),
                                       "dcim.rearport": g("rear_ports", []), "dcim.powerport": g("power_ports", []),
                                       "dcim.poweroutlet": g("power_outlets", []),
                                       "circuits.circuittermination": g("circuit_terminations", []),
                                       "dcim.powerfeed": g("power_feeds", [])}
    by_type_id = {(tt, r["id"]): r for tt, rows in comp_rows.items() for r in rows}
    cable_end_map: dict[tuple[int, str], list[Endpoint]] = {}
    for ctr in g("cable_terminations", []):
        tt, tid = str(ctr.get("termination_type")), ctr.get("termination_id")
        row = by_type_id.get((tt, tid))
        ep = c.endpoint(tt, row) if row is not None else Endpoint(kind="other", name=f"{tt}#{tid}")
        cable_id = _id(ctr.get("cable")) or ctr.get("cable") or -1
        cable_end_map.setdefault((cable_id, ctr.get("cable_end") or "?"), []).append(ep)

    def cable_ends(o: Raw, side: str) -> tuple[Endpoint, ...]:
        if f"{side.lower()}_terminations" in o:
            return tuple(t for t in map(term, o.get(f"{side.lower()}_terminations") or ()) if t)
        return tuple(cable_end_map.get((o["id"], side), ()))

    cables = [Cable(
        id=o["id"], label=o.get("label") or "", type=o.get("type") or None, status=_v(o["status"]),
        tenant=tenant(o), color=o.get("color") or "", length=o.get("length"), length_unit=_v(o.get("length_unit")),
        a_terminations=cable_ends(o, "A"), b_terminations=cable_ends(o, "B"), tags=_tags(o))
        for o in g("cables", [])]

    # circuit terminations: the device interface behind them (through patch panels)
    fp_idx = {p.key: p for p in front_ports}
    rp_idx = {p.key: p for p in rear_ports}
    fp_by_rear: dict[tuple[str | None, str | None, int], FrontPort] = {
        (p.device, p.rear_port, p.rear_port_position or 1): p for p in front_ports}
    def through_patch(ep: Endpoint, depth: int = 0) -> Endpoint:
        """Follow front port → rear port → cable → rear port → front port → its peer, to an interface."""
        if depth > 8 or ep.kind not in ("frontport", "rearport"):
            return ep
        if ep.kind == "frontport":
            fp = fp_idx.get(ep.key)
            rp = rp_idx.get(iface_key(fp.device, fp.rear_port)) if fp and fp.rear_port else None
            pos = (fp.rear_port_position or 1) if fp else 1
        else:
            rp, pos = rp_idx.get(ep.key), 1
        if rp is None or not rp.link_peers:
            return ep
        far = rp.link_peers[0]
        if far.kind == "rearport":
            far_fp = fp_by_rear.get((far.device, far.name, pos))
            if far_fp is None or not far_fp.link_peers:
                return far
            return through_patch(far_fp.link_peers[0], depth + 1)
        return through_patch(far, depth + 1)

    circuit_terms: dict[tuple[str, str], CircuitTermination] = {}
    for o in g("circuit_terminations", []):
        peers = c.endpoints(o.get("link_peers_type"), o.get("link_peers"))
        ends = tuple(e for e in (through_patch(p) for p in peers) if e.kind == "interface")
        ttype, tid = o.get("termination_type"), o.get("termination_id")
        site = loc = pn = None
        if ttype == "dcim.site":
            site = c.site_by_id.get(tid or -1)
        elif ttype == "dcim.location":
            loc = c.location_by_id.get(tid or -1)
            site = loc.partition("/")[0] if loc else None
        elif ttype == "circuits.providernetwork":
            pn = c.pn_by_id.get(tid or -1)
        ck = c.circuit_by_id.get(_id(o["circuit"]) or -1, "?")
        circuit_terms[(ck, o["term_side"])] = CircuitTermination(
            id=o["id"], term_side=o["term_side"], site=site, location=loc.partition("/")[2] if loc else None,
            provider_network=pn, port_speed=o.get("port_speed"), xconnect_id=o.get("xconnect_id") or "",
            cable=_id(o.get("cable")), link_peers=peers, connected_endpoints=ends)

    circuits = []
    for o in g("circuits", []):
        k = c.circuit_by_id[o["id"]]
        circuits.append(Circuit(
            id=o["id"], cid=o["cid"], provider=_slug(o["provider"]) or "", type=_slug(o.get("type")) or "",
            status=_v(o["status"]), tenant=tenant(o), owner=_name(o.get("owner")),
            commit_rate=o.get("commit_rate"),
            description=o.get("description") or "", tags=_tags(o),
            termination_a=circuit_terms.get((k, "A")), termination_z=circuit_terms.get((k, "Z"))))

    l2_terms: dict[int, list[L2VPNTermination]] = {}
    for o in g("l2vpn_terminations", []):
        at, aid, ao = o.get("assigned_object_type"), o.get("assigned_object_id"), o.get("assigned_object") or {}
        if at == "ipam.vlan":
            t = L2VPNTermination(id=o["id"], kind="vlan", vlan=c.vlan_by_id.get(aid or -1), vid=ao.get("vid"))
        elif at == "dcim.interface":
            t = L2VPNTermination(id=o["id"], kind="interface", device=c.device_name(ao.get("device")),
                                 interface=ao.get("name"))
        elif at == "virtualization.vminterface":
            t = L2VPNTermination(id=o["id"], kind="vminterface", interface=ao.get("name"))
        else:
            t = L2VPNTermination(id=o["id"], kind="other")
        l2_terms.setdefault(_id(o["l2vpn"]) or -1, []).append(t)

    def contact_groups(o: Raw) -> tuple[str, ...]:
        gs = o.get("groups")
        if gs is None and o.get("group"):
            gs = [o["group"]]
        return tuple(sorted(x["name"] for x in gs or ()))

    try:
        return Snapshot(
            source=source,
            tenant_groups=tuple(TenantGroup(id=o["id"], slug=o["slug"], name=o["name"], parent=_slug(o.get("parent")))
                                for o in g("tenant_groups", [])),
            tenants=tuple(Tenant(id=o["id"], slug=o["slug"], name=o["name"], group=_slug(o.get("group")),
                                 description=o.get("description") or "", tags=_tags(o)) for o in g("tenants", [])),
            contacts=tuple(Contact(id=o["id"], name=o["name"], groups=contact_groups(o), title=o.get("title") or "",
                                   email=o.get("email") or "", phone=o.get("phone") or "")
                           for o in g("contacts", [])),
            contact_assignments=tuple(ContactAssignment(
                id=o["id"], object_type=o["object_type"], object_id=o["object_id"],
                object_key=c.object_key(o["object_type"], o["object_id"], o.get("object")),
                contact=_name(o["contact"]) or "?", role=_slug(o.get("role")), priority=_v(o.get("priority")) or None)
                for o in g("contact_assignments", [])),
            regions=tuple(Region(id=o["id"], slug=o["slug"], name=o["name"], parent=_slug(o.get("parent")))
                          for o in g("regions", [])),
            sites=tuple(Site(id=o["id"], slug=o["slug"], name=o["name"], status=_v(o["status"]),
                             region=_slug(o.get("region")), tenant=tenant(o), facility=o.get("facility") or "",
                             asns=tuple(sorted(a["asn"] for a in o.get("asns") or ())), tags=_tags(o))
                        for o in g("sites", [])),
            locations=tuple(Location(id=o["id"], site=_slug(o["site"]) or "", slug=o["slug"], name=o["name"],
                                     parent=_slug(o.get("parent")), status=_v(o.get("status")) or "active",
                                     tenant=tenant(o)) for o in g("locations", [])),
            racks=tuple(Rack(id=o["id"], name=o["name"], site=_slug(o["site"]) or "",
                             location=_slug(o.get("location")), status=_v(o["status"]), role=_slug(o.get("role")),
                             tenant=tenant(o), u_height=o.get("u_height") or 42,
                             starting_unit=o.get("starting_unit") or 1, desc_units=bool(o.get("desc_units")),
                             facility_id=o.get("facility_id"), tags=_tags(o)) for o in g("racks", [])),
            power_panels=tuple(PowerPanel(id=o["id"], name=o["name"], site=_slug(o["site"]) or "",
                                          location=_slug(o.get("location"))) for o in g("power_panels", [])),
            power_feeds=tuple(PowerFeed(
                id=o["id"], name=o["name"], power_panel=_name(o["power_panel"]) or "",
                site=_slug(c.panel_by_id.get(_id(o["power_panel"]) or -1, {}).get("site")) or "",
                rack=c.rack_by_id.get(_id(o.get("rack")) or -1), status=_v(o["status"]), type=_v(o["type"]),
                supply=_v(o["supply"]), phase=_v(o["phase"]), voltage=o["voltage"], amperage=o["amperage"],
                max_utilization=o["max_utilization"], available_power=o.get("available_power"), tenant=tenant(o),
                cable=_id(o.get("cable")), tags=_tags(o)) for o in g("power_feeds", [])),
            power_ports=tuple(power_ports),
            power_outlets=tuple(power_outlets),
            tags=tuple(Tag(id=o["id"], slug=o["slug"], name=o["name"], color=o.get("color") or "")
                       for o in g("tags", [])),
            platforms=tuple(Platform(id=o["id"], slug=o["slug"], name=o["name"],
                                     manufacturer=_slug(o.get("manufacturer"))) for o in g("platforms", [])),
            device_roles=tuple(DeviceRole(id=o["id"], slug=o["slug"], name=o["name"])
                               for o in g("device_roles", [])),
            virtual_chassis=tuple(vcs),
            devices=tuple(devices),
            interfaces=tuple(interfaces),
            front_ports=tuple(front_ports),
            rear_ports=tuple(rear_ports),
            cables=tuple(cables),
            vlan_groups=tuple(VLANGroup(
                id=o["id"], slug=o["slug"], name=o["name"], scope_type=o.get("scope_type"),
                scope=c.scope_key(o.get("scope_type"), o.get("scope_id"), o.get("scope")),
                vid_ranges=tuple((int(r[0]), int(r[1])) for r in o.get("vid_ranges") or ()), tenant=tenant(o))
                for o in g("vlan_groups", [])),
            vlans=tuple(VLAN(id=o["id"], vid=o["vid"], name=o["name"], site=_slug(o.get("site")),
                             group=_slug(o.get("group")), tenant=tenant(o), owner=_name(o.get("owner")),
                             owner_contact=_cf_name(o, "owner_contact"),
                             custom_fields={k: _cf_value(v) for k, v in (o.get("custom_fields") or {}).items()},
                             role=_slug(o.get("role")),
                             status=_v(o["status"]), description=o.get("description") or "", tags=_tags(o))
                        for o in g("vlans", [])),
            vrfs=tuple(VRF(id=o["id"], name=o["name"], rd=o.get("rd"), tenant=tenant(o),
                           enforce_unique=bool(o.get("enforce_unique", True))) for o in g("vrfs", [])),
            prefixes=tuple(_prefix(c, o) for o in g("prefixes", [])),
            ip_addresses=tuple(ip_objs),
            fhrp_groups=tuple(FHRPGroup(
                id=o["id"], protocol=_v(o["protocol"]), group_id=o["group_id"], name=o.get("name") or "",
                auth_type=_v(o.get("auth_type")) or None, has_auth_key=bool(o.get("auth_type")),
                vips=tuple(sorted(vips.get(o["id"], [a["address"] for a in o.get("ip_addresses") or ()]))),
                description=o.get("description") or "") for o in g("fhrp_groups", [])),
            asns=tuple(ASN(id=o["id"], asn=o["asn"], rir=_slug(o.get("rir")), tenant=tenant(o),
                           description=o.get("description") or "") for o in g("asns", [])),
            providers=tuple(Provider(id=o["id"], slug=o["slug"], name=o["name"],
                                     asns=tuple(sorted(a["asn"] for a in o.get("asns") or ())),
                                     description=o.get("description") or "") for o in g("providers", [])),
            provider_networks=tuple(ProviderNetwork(id=o["id"], name=o["name"], provider=_slug(o["provider"]) or "")
                                    for o in g("provider_networks", [])),
            circuits=tuple(circuits),
            l2vpns=tuple(L2VPN(id=o["id"], slug=o["slug"], name=o["name"], type=_v(o["type"]),
                               identifier=o.get("identifier"), status=_v(o.get("status")) or "active",
                               tenant=tenant(o), tags=_tags(o), terminations=tuple(l2_terms.get(o["id"], ())))
                         for o in g("l2vpns", [])),
            config_contexts=tuple(ConfigContext(id=o["id"], name=o["name"], weight=o.get("weight", 1000),
                                                is_active=o.get("is_active", True), data=o.get("data") or {})
                                  for o in g("config_contexts", [])),
        )
    except ValidationError as exc:
        raise _data_error(exc, "snapshot") from None
    except (KeyError, TypeError) as exc:
        raise DataError(f"unexpected NetBox reply shape ({type(exc).__name__}: {exc})", obj="snapshot",
                        code="E204") from None


def _prefix(c: _Ctx, o: Raw) -> Prefix:
    st, sid = o.get("scope_type"), o.get("scope_id")
    scope = c.scope_key(st, sid, o.get("scope"))
    site = scope if st == "dcim.site" else (scope.partition("/")[0] if st == "dcim.location" and scope else None)
    return Prefix(id=o["id"], prefix=o["prefix"], vrf=_name(o.get("vrf")), scope_type=st, scope=scope, site=site,
                  vlan=c.vlan_by_id.get(_id(o.get("vlan")) or -1), tenant=_slug(o.get("tenant")),
                  owner=_name(o.get("owner")),
                  role=_slug(o.get("role")), status=_v(o["status"]), is_pool=bool(o.get("is_pool")),
                  mark_utilized=bool(o.get("mark_utilized")), description=o.get("description") or "",
                  tags=_tags(o))


def _data_error(exc: ValidationError, obj: str) -> DataError:
    first = exc.errors()[0]
    return DataError(f"{first['msg']} (value {first.get('input')!r})", obj=obj,
                     field=".".join(str(x) for x in first["loc"]), code="E204")


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
    snap = _build(raw, source)
    snap = snap.model_copy(update={"source": source.model_copy(
        update={"seconds": round(time.monotonic() - t0, 3)})})
    return apply_limit(snap, limit)


def build_snapshot(raw: dict[str, list[Raw]], source: SnapshotSource) -> Snapshot:
    """Build a Snapshot from recorded endpoint replies (as returned by :func:`read_raw`, or the bare lists:
    cable ends and paths missing from the rows are computed, see :mod:`campusnet.sot.paths`)."""
    annotate(raw, graph_of(raw, foreign=_foreign_links(raw)))
    return _build(raw, source)
