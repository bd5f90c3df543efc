"""Compare the ways of reading NetBox in bulk (for the record in docs/benchmarks.md; not used at run time).

``python -m campusnet.sot.bench [--scale]`` prints, per object type, requests / seconds / bytes of:

- REST ``fields=`` as the reader asks them (no cable-path fields: paths are computed client side),
- for the component lists, REST with NetBox's own path fields (``link_peers``, ``connected_endpoints``),
- for the big lists (interfaces, IP addresses, VLAN assignments), GraphQL with explicit offset/limit pages
  of ≤ 1,000 in parallel (NetBox's GraphQL stops silently at ``MAX_PAGE_SIZE`` items otherwise),

each alone (one type at a time, 4 workers), so that the figures are per type. ``--scale`` measures the scale
NetBox (``.campusnet/scale``) instead of the local one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from campusnet import settings
from campusnet.settings import NetBoxTarget
from campusnet.sot.reader import ENDPOINTS, ENDPOINTS_NETBOX_PATHS, Fetcher

GQL_PAGE = 1000  # NetBox's GraphQL stops at MAX_PAGE_SIZE items without an error: always page explicitly

#: GraphQL selections giving the same data as the reader's REST ``fields=`` for the big lists
GQL: dict[str, tuple[str, str]] = {
    "interfaces": ("interface_list", "id name label type enabled mtu speed mode device{id name} untagged_vlan{id vid}"
                                     " tagged_vlans{id vid} lag{id name} parent{id name} vrf{id name} mgmt_only"
                                     " description primary_mac_address{mac_address} tags{slug}"),
    "interfaces (no VLANs)": ("interface_list", "id name label type enabled mtu speed mode device{id name} lag{id name}"
                                                " parent{id name} vrf{id name} mgmt_only description"
                                                " primary_mac_address{mac_address} tags{slug}"),
    "VLAN assignments": ("interface_list", "id untagged_vlan{id vid} tagged_vlans{id vid}"),
    "ip_addresses": ("ip_address_list", "id address vrf{id name} tenant{slug} status role dns_name description"
                                        " tags{slug} assigned_object{__typename ... on InterfaceType{id name"
                                        " device{id name}} ... on FHRPGroupType{id} ... on VMInterfaceType{id name}}"),
}
REST_OF_GQL = {"interfaces": "interfaces", "interfaces (no VLANs)": "interfaces", "VLAN assignments": "interfaces",
               "ip_addresses": "ip_addresses"}


def _timed(fn: Callable[[], tuple[int, int, int]]) -> dict[str, Any]:
    t0 = time.perf_counter()
    requests, rows, nbytes = fn()
    return {"seconds": round(time.perf_counter() - t0, 2), "requests": requests, "rows": rows, "bytes": nbytes}


def rest_one(target: NetBoxTarget, name: str, endpoints: dict[str, tuple[str, str]] = ENDPOINTS,
             workers: int = 4) -> dict[str, Any]:
    def run() -> tuple[int, int, int]:
        with Fetcher(target, workers=workers) as f:
            out = f.list_all([name], endpoints=endpoints)
        return f.requests, len(out[name]), 0
    return _timed(run)


def graphql_one(target: NetBoxTarget, label: str, count: int, workers: int = 4,
                page: int = GQL_PAGE) -> dict[str, Any]:
    key, sel = GQL[label]
    query = f"query($o:Int!,$l:Int!){{{key}(pagination:{{offset:$o,limit:$l}}){{{sel}}}}}"

    def run() -> tuple[int, int, int]:
        with Fetcher(target, timeout=600) as c:
            def get(off: int) -> tuple[int, int]:
                r = c.request("POST", "/graphql/", json={"query": query, "variables": {"o": off, "l": page}})
                r.raise_for_status()
                body = r.json()
                if body.get("errors"):
                    raise RuntimeError(str(body["errors"])[:300])
                return len(body["data"][key]), len(r.content)
            with ThreadPoolExecutor(workers) as pool:
                got = list(pool.map(get, range(0, count, page)))
        return len(got), sum(g[0] for g in got), sum(g[1] for g in got)
    return _timed(run)


def compare(target: NetBoxTarget, log: Callable[[str], None] = print) -> Iterator[dict[str, Any]]:
    with Fetcher(target) as f:
        counts = {n: int(f.get(f"/api/{p}/", {"limit": 1, "fields": "id"}, missing_ok=True).get("count") or 0)
                  for n, (p, _) in ENDPOINTS.items()}
    for name in ENDPOINTS:
        row = {"type": name, "count": counts[name], "how": "rest fields="} | rest_one(target, name)
        log(_fmt(row))
        yield row
        if ENDPOINTS_NETBOX_PATHS[name] != ENDPOINTS[name]:
            row = {"type": name, "count": counts[name], "how": "rest fields= + NetBox paths"} | rest_one(
                target, name, ENDPOINTS_NETBOX_PATHS)
            log(_fmt(row))
            yield row
    for label, rest in REST_OF_GQL.items():
        row = {"type": label, "count": counts[rest], "how": f"graphql pages of {GQL_PAGE}"} | graphql_one(
            target, label, counts[rest])
        log(_fmt(row))
        yield row


def _fmt(row: dict[str, Any]) -> str:
    return (f"{row['type']:<30} {row['how']:<30} {row['count']:>7} obj {row['requests']:>4} req "
            f"{row['seconds']:>8.2f} s {row['rows']:>7} rows {row['bytes'] / 1e6:>6.1f} MB")


def main(argv: list[str]) -> None:
    ctx: AbstractContextManager[Any] = nullcontext()
    if "--scale" in argv:
        from campusnet.scale.loader import scale_env
        ctx = scale_env()
    with ctx:
        list(compare(settings.netbox_target()))


if __name__ == "__main__":
    main(sys.argv[1:])
