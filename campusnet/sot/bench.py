"""Compare the ways of reading NetBox in bulk (for the record in the report; not used at run time).

``python -m campusnet.sot.bench`` prints requests, seconds and bytes for: REST with ``fields=`` (the
reader's default) in parallel, REST full objects in parallel, REST ``fields=`` sequential (one worker),
and — for devices + interfaces, the two lists that grow with the campus — GraphQL with explicit
offset/limit pages against REST ``fields=`` on the same two lists.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from campusnet import settings
from campusnet.settings import NetBoxTarget
from campusnet.sot.reader import ENDPOINTS, Fetcher, read_raw

GQL_PAGE = 1000  # NetBox's GraphQL stops at MAX_PAGE_SIZE items without an error: always page explicitly

GQL_DEVICES = """query($o:Int!,$l:Int!){device_list(pagination:{offset:$o,limit:$l}){id name role{slug}
 device_type{model slug u_height manufacturer{slug}} platform{slug} site{slug} location{slug} rack{id name}
 position face status tenant{slug} virtual_chassis{id name master{id}} vc_position primary_ip4{address}
 oob_ip{address} serial tags{slug} custom_field_data config_context}}"""
GQL_INTERFACES = """query($o:Int!,$l:Int!){interface_list(pagination:{offset:$o,limit:$l}){id name
 device{id name} type enabled mtu speed mode untagged_vlan{id vid} tagged_vlans{id vid} lag{id name}
 parent{id name} vrf{name} mgmt_only description tags{slug} cable{id}}}"""


def _gql_all(c: httpx.Client, query: str, key: str) -> tuple[list[Any], int]:
    rows: list[Any] = []
    n = 0
    while True:
        n += 1
        r = c.post("/graphql/", json={"query": query, "variables": {"o": len(rows), "l": GQL_PAGE}})
        r.raise_for_status()
        page = r.json()["data"][key]
        rows += page
        if len(page) < GQL_PAGE:
            return rows, n


def compare(target: NetBoxTarget) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for label, mode, workers in (("rest fields= x4", "fields", 4), ("rest full x4", "full", 4),
                                 ("rest fields= x8", "fields", 8), ("rest fields= x1", "fields", 1)):
        t0 = time.monotonic()
        raw, f, _ = read_raw(target, mode=mode, workers=workers)  # type: ignore[arg-type]
        out.append({"approach": f"all {len(ENDPOINTS)} lists, {label}", "requests": f.requests,
                    "seconds": round(time.monotonic() - t0, 2),
                    "objects": sum(len(v) for v in raw.values())})
    two = {k: ENDPOINTS[k] for k in ("devices", "interfaces")}
    t0 = time.monotonic()
    with Fetcher(target) as f:
        raw = f.list_all(two, endpoints=two)
    out.append({"approach": "devices+interfaces, rest fields= x4", "requests": f.requests,
                "seconds": round(time.monotonic() - t0, 2), "objects": sum(len(v) for v in raw.values())})
    t0 = time.monotonic()
    with httpx.Client(base_url=target.url, headers=target.headers(), timeout=600) as c:
        d, n1 = _gql_all(c, GQL_DEVICES, "device_list")
        i, n2 = _gql_all(c, GQL_INTERFACES, "interface_list")
    out.append({"approach": "devices+interfaces, graphql paged (no cable paths)", "requests": n1 + n2,
                "seconds": round(time.monotonic() - t0, 2), "objects": len(d) + len(i)})
    return out


if __name__ == "__main__":
    for row in compare(settings.netbox_target()):
        print(f"{row['approach']:<55} {row['requests']:>5} req {row['seconds']:>8.2f} s {row['objects']:>7} objects")
