"""The reader without a server: paging against a mock NetBox, normalisation from recorded replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from campusnet.errors import CampusnetError
from campusnet.settings import NetBoxTarget
from campusnet.sot.models import Endpoint, SnapshotSource
from campusnet.sot.reader import ENDPOINTS, Fetcher, build_snapshot

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "netbox"
TARGET = NetBoxTarget("http://nb.test", "nbt_abc.secret", "environment", branch="br_123")


def fake_netbox(n_items: int, max_page: int, seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        q = {k: v[0] for k, v in parse_qs(urlparse(str(req.url)).query).items()}
        limit = int(q.get("limit", 50))
        limit = max_page if limit == 0 else min(limit, max_page)
        offset = int(q.get("offset", 0))
        rows = [{"id": i} for i in range(offset + 1, min(offset + limit, n_items) + 1)]
        nxt = (f"http://nb.test{req.url.path}?limit={limit}&offset={offset + limit}"
               if offset + limit < n_items else None)
        return httpx.Response(200, json={"count": n_items, "next": nxt, "results": rows})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("max_page", [1000, 250, 7])
def test_pages_follow_the_server_page_size(max_page: int) -> None:
    seen: list[httpx.Request] = []
    with Fetcher(TARGET, transport=fake_netbox(2300, max_page, seen)) as f:
        out = f.list_all(["interfaces", "devices"])
    assert [r["id"] for r in out["interfaces"]] == list(range(1, 2301))
    pages = -(-2300 // max_page)
    assert f.requests == 2 * pages and f.page_sizes == {"interfaces": max_page, "devices": max_page}
    first = seen[0]
    assert first.headers["X-NetBox-Branch"] == "br_123" and first.headers["Authorization"].startswith("Bearer ")
    assert "fields=" in str(first.url) and "limit=0" in str(first.url)


def test_http_errors_name_the_endpoint_not_the_token() -> None:
    t = httpx.MockTransport(lambda req: httpx.Response(403, json={"detail": "nope"}))
    with Fetcher(TARGET, transport=t) as f, pytest.raises(CampusnetError) as exc:
        f.get("/api/dcim/devices/")
    assert "dcim/devices" in str(exc.value) and "secret" not in str(exc.value)


def test_build_from_recorded_replies() -> None:
    rec = json.loads((FIXTURES / "mini_raw.json").read_text())
    assert set(rec["endpoints"]) == set(ENDPOINTS)
    src = SnapshotSource(url="http://127.0.0.1:8470", read_at=datetime(2026, 1, 1, tzinfo=UTC),
                         netbox_version=rec["netbox_version"])
    snap = build_snapshot(rec["endpoints"], src)
    core1 = snap.device("rdr-core-1")
    assert core1.vc_master and core1.virtual_chassis == "rdr-core" and core1.rack == "rdr-site/rdr-R01"
    assert snap.interface("rdr-acc-1:XGE1/0/50").peer == Endpoint(kind="interface", device="rdr-core-2",
                                                                  name="10GE2/0/1")
    assert snap.interface("rdr-acc-1:BAGG1").tagged_vids == (110, 120)
    ct = snap.circuit("rdr-carrier/RDR-0001")
    assert ct is not None and ct.termination_a is not None
    assert ct.termination_a.interface == Endpoint(kind="interface", device="rdr-core-1", name="10GE1/0/47")
    g = snap.fhrp_group(snap.interface("rdr-core-1:Vlanif110").fhrp[0].group)
    assert g is not None and g.vips == ("10.99.110.1/24",) and g.has_auth_key
    assert snap.power_ports_of("rdr-core-1")[0].feed == "rdr-PP-A/rdr-R01-A"
    assert snap.owners("circuits.circuit", "rdr-carrier/RDR-0001") == ["rdr NOC duty"]
