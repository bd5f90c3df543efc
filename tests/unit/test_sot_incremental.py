"""Incremental snapshots against a mock NetBox built from recorded replies (tests/fixtures/netbox/mini_raw.json).

The base state is the recorded read; "NetBox now" is a modified copy of it, answered per list (by id, counts)
with a changelog in NetBox's reply shape. The incremental snapshot must equal a full build of "now"; each
fallback case must say its code.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from campusnet.settings import NetBoxTarget
from campusnet.sot import incremental as inc
from campusnet.sot.models import ChangelogMark, Snapshot, SnapshotSource
from campusnet.sot.reader import ENDPOINTS, build_snapshot

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "netbox"
TARGET = NetBoxTarget("http://nb.test", "nbt_abc.secret", "environment")
SRC = SnapshotSource(url="http://nb.test", read_at=datetime(2026, 1, 1, tzinfo=UTC), netbox_version="4.7.3",
                     changelog=ChangelogMark(change_id=100))
PATHS = {f"/api/{p}/": name for name, (p, _f) in ENDPOINTS.items()}


def _recorded() -> dict[str, list[dict[str, Any]]]:
    rec = json.loads((FIXTURES / "mini_raw.json").read_text())
    raw: dict[str, list[dict[str, Any]]] = rec["endpoints"]
    return raw


def _strip(raw: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """What NetBox answers (no client-side path fields), as the reader asks for it."""
    keep = {name: set(fields.split(",")) for name, (_p, fields) in ENDPOINTS.items()}
    return {n: [{k: v for k, v in r.items() if k in keep.get(n, set(r))} for r in rows] for n, rows in raw.items()}


def _snap(raw: dict[str, list[dict[str, Any]]]) -> Snapshot:
    return build_snapshot(copy.deepcopy(raw), SRC)


class FakeNetBox:
    def __init__(self, now: dict[str, list[dict[str, Any]]], changes: list[dict[str, Any]],
                 oldest: int = 1, newest: int | None = None, short_changelog: bool = False):
        self.now, self.changes, self.oldest = now, changes, oldest
        self.newest = newest if newest is not None else max([100, *(c["id"] for c in changes)])
        self.short = short_changelog
        self.requests: list[str] = []

    def __call__(self, req: httpx.Request) -> httpx.Response:
        self.requests.append(str(req.url))
        q = parse_qs(urlparse(str(req.url)).query)
        path = req.url.path
        if path == "/api/status/":
            return httpx.Response(200, json={"netbox-version": "4.7.3"})
        if path == inc.CHANGES:
            return self._changes(q)
        name = PATHS[path]
        rows = self.now.get(name, [])
        if "id" in q:
            ids = {int(i) for i in q["id"]}
            rows = [r for r in rows if r["id"] in ids]
        limit = int(q.get("limit", ["0"])[0]) or len(rows)
        return httpx.Response(200, json={"count": len(rows), "next": None, "results": rows[:limit]})

    def _changes(self, q: dict[str, list[str]]) -> httpx.Response:
        order = q.get("ordering", ["id"])[0]
        if q.get("limit") == ["1"] and "id__gt" not in q:
            edge = self.oldest if order == "id" else self.newest
            return httpx.Response(200, json={"count": 1, "next": None, "results": [
                {"id": edge, "time": "2026-12-06T10:00:00+08:00"}]})
        since = int(q.get("id__gt", ["0"])[0])
        rows = [c for c in self.changes if c["id"] > since]
        count = len(rows) + (1 if self.short else 0)
        return httpx.Response(200, json={"count": count, "next": None, "results": rows})


def change(cid: int, ctype: str, oid: int, action: str = "update", pre: dict[str, Any] | None = None,
           post: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ObjectChange in NetBox 4.7's reply shape (fields the reader asks for)."""
    return {"id": cid, "time": "2026-12-06T14:24:59.807023+08:00", "action": {"value": action, "label": action},
            "changed_object_type": ctype, "changed_object_id": oid,
            "prechange_data": pre or {}, "postchange_data": post or {}}


@pytest.fixture()
def base() -> inc.State:
    raw = _recorded()
    snap = build_snapshot(raw, SRC)  # annotates raw (the cable paths) as a read does
    return inc.State(url=TARGET.url, snapshot=snap, raw=raw, change_id=100)


@pytest.fixture()
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeNetBox]]:
    holder: list[FakeNetBox] = []

    def transport() -> httpx.MockTransport:
        return httpx.MockTransport(lambda req: holder[0](req))
    monkeypatch.setattr(inc, "TRANSPORT", transport())
    yield holder


def _equal(a: Snapshot, b: Snapshot) -> None:
    assert a.model_dump(exclude={"source"}) == b.model_dump(exclude={"source"})


def _no_full_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reasons: list[str] = []

    def fake_full(target: NetBoxTarget, *, workers: int = 4, reason: str | None = None,
                  log: Any = None) -> tuple[Snapshot, inc.State]:
        reasons.append(reason or "")
        raise SystemExit("full read")
    monkeypatch.setattr(inc, "full_read", fake_full)
    return reasons


def test_an_interface_edit_is_read_alone_and_equals_a_full_read(base: inc.State, fake: list[FakeNetBox]) -> None:
    now = _strip(_recorded())
    iface = next(r for r in now["interfaces"] if r.get("name") == "XGE1/0/50")
    iface["description"] = "uplink, moved"
    fake.append(FakeNetBox(now, [change(101, "dcim.interface", iface["id"], pre={"description": ""},
                                        post={"description": "uplink, moved"})]))
    snap, state = inc.read_incremental(TARGET, state=base, save=False)
    _equal(snap, _snap(now))
    mark = snap.source.changelog
    assert mark is not None and mark.mode == "incremental" and mark.reread == 1 and mark.change_id == 101
    assert state.change_id == 101
    by_id = [u for u in fake[0].requests if "/api/dcim/interfaces/" in u and "id=" in u]
    assert by_id == [by_id[0]] and f"id={iface['id']}" in by_id[0]


def test_a_deleted_vlan_re_reads_the_interfaces_netbox_nulled_silently(base: inc.State,
                                                                       fake: list[FakeNetBox]) -> None:
    now = _strip(_recorded())
    users = [r for r in now["interfaces"] if r.get("untagged_vlan")]
    vlan_id = users[0]["untagged_vlan"]["id"]
    now["vlans"] = [v for v in now["vlans"] if v["id"] != vlan_id]
    for r in now["interfaces"]:  # SET_NULL: no change record for these
        if (r.get("untagged_vlan") or {}).get("id") == vlan_id:
            r["untagged_vlan"] = None
        r["tagged_vlans"] = [v for v in r.get("tagged_vlans") or [] if v["id"] != vlan_id]
    for p in now["prefixes"]:
        if (p.get("vlan") or {}).get("id") == vlan_id:
            p["vlan"] = None
    fake.append(FakeNetBox(now, [change(101, "ipam.vlan", vlan_id, "delete", pre={"vid": 1}, post={})]))
    snap, _ = inc.read_incremental(TARGET, state=base, save=False)
    _equal(snap, _snap(now))


def test_a_removed_cable_re_traces_both_ends(base: inc.State, fake: list[FakeNetBox]) -> None:
    now = _strip(_recorded())
    cable = now["cables"][0]["id"]
    gone = [t["id"] for t in now["cable_terminations"] if (t["cable"]["id"] if isinstance(t["cable"], dict)
                                                           else t["cable"]) == cable]
    now["cables"] = [c for c in now["cables"] if c["id"] != cable]
    now["cable_terminations"] = [t for t in now["cable_terminations"] if t["id"] not in gone]
    changes = [change(101, "dcim.cable", cable, "delete")] + [
        change(102 + i, "dcim.cabletermination", t, "delete") for i, t in enumerate(gone)]
    fake.append(FakeNetBox(now, changes))
    snap, _ = inc.read_incremental(TARGET, state=base, save=False)
    _equal(snap, _snap(now))
    assert snap.cable(cable) is None and base.snapshot.cable(cable) is not None


@pytest.mark.parametrize(("case", "code"), [
    ("pruned", "E231"), ("reset", "E231"), ("short changelog", "E232"), ("count", "E233"),
    ("unknown type", "E234"), ("site slug", "E234")])
def test_fallbacks_say_why(case: str, code: str, base: inc.State, fake: list[FakeNetBox],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    now = _strip(_recorded())
    changes: list[dict[str, Any]] = []
    kw: dict[str, Any] = {}
    if case == "pruned":
        kw["oldest"] = 150
    elif case == "reset":
        kw["newest"] = 40
    elif case == "short changelog":
        changes = [change(101, "dcim.interface", now["interfaces"][0]["id"])]
        kw["short_changelog"] = True
    elif case == "count":  # an interface NetBox has that no change record mentions (an ORM write)
        extra = copy.deepcopy(now["interfaces"][0])
        extra["id"], extra["name"] = 99999, "GE9/9/9"
        now["interfaces"].append(extra)
    elif case == "unknown type":
        changes = [change(101, "dcim.manufacturer", 3, pre={"name": "a"}, post={"name": "b"})]
    elif case == "site slug":
        site = now["sites"][0]["id"]
        changes = [change(101, "dcim.site", site, pre={"slug": "a"}, post={"slug": "b"})]
    fake.append(FakeNetBox(now, changes, **kw))
    reasons = _no_full_read(monkeypatch)
    with pytest.raises(SystemExit):
        inc.read_incremental(TARGET, state=base, save=False)
    assert len(reasons) == 1 and reasons[0].startswith(code), reasons


def test_no_cache_is_a_full_read_that_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reasons = _no_full_read(monkeypatch)
    with pytest.raises(SystemExit):
        inc.read_incremental(TARGET, cache=tmp_path / "none.json", save=False)
    assert reasons[0].startswith("E230") and "no cached snapshot" in reasons[0]


def test_the_cache_round_trips_private(base: inc.State, tmp_path: Path) -> None:
    base.snapshot = base.snapshot.model_copy(update={"source": SRC})
    path = base.save(tmp_path / "snapshots" / "c.json")
    assert path.stat().st_mode & 0o777 == 0o600
    back = inc.State.load(path, TARGET.url)
    assert back.change_id == 100 and back.raw == json.loads(json.dumps(base.raw))
    _equal(back.snapshot, base.snapshot)
    with pytest.raises(inc.Fallback) as exc:
        inc.State.load(path, "http://other")
    assert exc.value.code == "E230"
