"""Check a loaded scale NetBox: counts through REST, a cable path end to end, the search index.

Every check returns ``(name, passed, detail)``; :func:`verify` runs them all inside :func:`scale_env`.
"""

from __future__ import annotations

from typing import Any

from campusnet.errors import CampusnetError
from campusnet.settings import NetBoxTarget
from campusnet.sot.reader import Fetcher

Check = tuple[str, bool, str]
#: plan kinds whose counts are compared with the REST API's ``count``
COUNTED = ("dcim.devices", "dcim.interfaces", "dcim.cables", "ipam.vlans", "ipam.prefixes", "ipam.ip-addresses",
           "circuits.circuits", "tenancy.contact-assignments", "vpn.l2vpns")


def _get(client: Fetcher, path: str, **params: Any) -> Any:
    r = client.request("GET", path, params=params)
    if r.status_code >= 400:
        raise CampusnetError("E704", f"NetBox answered HTTP {r.status_code} for {path}", obj="scale verify")
    return r.json()


def check_counts(client: Fetcher, expected: dict[str, int]) -> list[Check]:
    out: list[Check] = []
    for kind in COUNTED:
        if kind not in expected:
            continue
        got = _get(client, f"/api/{kind.replace('.', '/', 1)}/", limit=1, brief=1)["count"]
        out.append((f"count {kind}", got == expected[kind], f"REST {got}, plan {expected[kind]}"))
    return out


def check_cable_path(client: Fetcher, device: str) -> Check:
    """The access switch's LAG members: each traced end to end (``/trace/``) to an interface on a core member,
    and ``connected_endpoints`` (the cached path) says the same."""
    lags = _get(client, "/api/dcim/interfaces/", device=device, type="lag", brief=1)["results"]
    if not lags:
        return ("cable path", False, f"{device} has no LAG")
    members = _get(client, "/api/dcim/interfaces/", lag_id=lags[0]["id"], limit=10)["results"]
    seen = []
    for mbr in members:
        trace = _get(client, f"/api/dcim/interfaces/{mbr['id']}/trace/")
        far = trace[-1][2] if trace and trace[-1][2] else []
        far_dev = far[0].get("device", {}).get("name") if far else None
        cached = mbr.get("connected_endpoints") or []
        cached_dev = cached[0].get("device", {}).get("name") if cached else None
        if not far_dev or far_dev != cached_dev or not mbr.get("connected_endpoints_reachable"):
            return ("cable path", False, f"{device} {mbr['name']}: trace ends on {far_dev!r}, cached path "
                                         f"{cached_dev!r}")
        seen.append(f"{mbr['name']} → {far_dev} {far[0].get('name')}")
    ok = len(seen) == 2 and len({s.split(' → ')[1].split()[0] for s in seen}) == 2
    return ("cable path", ok, f"{device}: " + "; ".join(seen))


def check_search(device: str) -> Check:
    """NetBox's own search backend finds the device by name (the index the loader built)."""
    from campusnet.localnb import LocalNetBox

    out = LocalNetBox.load().server.manage("shell", "--no-imports", stdin=(
        "from netbox.search.backends import search_backend\n"
        f"hits = [r for r in search_backend.search({device!r}, lookup='iexact')]\n"
        "print('CAMPUSNET-SEARCH', len(hits), sorted({str(getattr(h, 'object', h)) for h in hits})[:3])\n"))
    line = next((ln for ln in out.splitlines() if ln.startswith("CAMPUSNET-SEARCH ")), "CAMPUSNET-SEARCH 0")
    n = int(line.split()[1])
    return ("search", n >= 1 and device in line, line.split(" ", 1)[1])


def verify(target: NetBoxTarget, expected: dict[str, int], device: str) -> list[Check]:
    with Fetcher(target, timeout=120) as client:
        checks = check_counts(client, expected)
        checks.append(check_cable_path(client, device))
    checks.append(check_search(device))
    return checks
