"""Issue 10, item 1: one path to intents (``Pipeline``) and one NetBox client (``Fetcher``, with write verbs)."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest

from campusnet.errors import CampusnetError
from campusnet.intent import IntentErrors
from campusnet.pipeline import Pipeline, read_snapshot
from campusnet.settings import NetBoxTarget
from campusnet.sot.models import Snapshot
from campusnet.sot.reader import Fetcher

ROOT = Path(__file__).parents[2]
SMALL = ROOT / "tests" / "fixtures" / "snapshots" / "small.json"
CAMPUS = SMALL.with_name("campus.json")
TARGET = NetBoxTarget("http://nb.test", "nbt_abc.secret", "environment")


def broken(snap: Snapshot) -> tuple[Snapshot, str]:
    """A copy in which one leaf has lost its ASN (``bgp_asn``: an E2xx naming the device and field)."""
    victim = "ytg-leaf-1"
    devices = tuple(d.model_copy(update={"bgp_asn": None}) if d.name == victim else d for d in snap.devices)
    return snap.model_copy(update={"devices": devices}), victim


# ---- Pipeline: one error policy -------------------------------------------------------------------------
def test_a_device_that_cannot_be_built_is_collected_with_its_code_and_field() -> None:
    snap, victim = broken(Snapshot.load(SMALL))
    pipe = Pipeline.build(snap)
    assert victim not in pipe.intents and pipe.intents  # the others are built
    err = pipe.errors_by_device[victim]
    assert err.code.startswith("E2") and err.device == victim and err.field == "bgp_asn"
    with pytest.raises(IntentErrors) as exc:
        pipe.check()
    assert exc.value.code == "E211" and victim in str(exc.value)


def test_load_is_strict_by_default_and_collects_on_request(tmp_path: Path) -> None:
    snap, victim = broken(Snapshot.load(SMALL))
    f = tmp_path / "snap.json"
    snap.save(f)
    with pytest.raises(IntentErrors) as exc:
        Pipeline.load(snapshot=f)
    assert exc.value.code == "E211" and [e.device for e in exc.value.errors] == [victim]
    pipe = Pipeline.load(snapshot=f, strict=False)
    assert [e.device for e in pipe.errors] == [victim] and pipe.read_seconds >= 0


def test_limit_selects_devices_and_a_limit_matching_nothing_is_E206() -> None:
    snap = Snapshot.load(SMALL)
    full = Pipeline.build(snap)
    name = sorted(full.intents)[0]
    one = Pipeline.build(snap, limit=f"name={name}")
    assert set(one.intents) <= set(full.intents) and name in one.intents
    assert one.intents[name] == full.intents[name]  # derivations still see the whole campus
    with pytest.raises(CampusnetError) as exc:
        Pipeline.build(snap, limit="name=no-such-device")
    assert exc.value.code == "E206"


def test_plan_is_the_snapshots_lab_plan_and_read_snapshot_passes_objects_through() -> None:
    from campusnet.lab.plan import plan_from_snapshot

    snap = Snapshot.load(CAMPUS)
    assert read_snapshot(snap) is snap
    assert Pipeline.build(snap).plan == plan_from_snapshot(snap)


def test_no_module_builds_intents_or_reads_a_snapshot_its_own_way() -> None:
    """The five former copies (and the Ansible inventory, ``lab``, check-change) go through campusnet.pipeline."""
    copies = ["campusnet/cli/render.py", "campusnet/change/sources.py", "campusnet/nornir_inventory.py",
              "campusnet/report/compliance.py", "playbooks/library/campusnet_intents.py",
              "inventory/plugins/campusnet_inventory.py", "campusnet/cli/lab.py", "campusnet/change/run.py"]
    for rel in copies:
        tree = ast.parse((ROOT / rel).read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert not names & {"build_intents", "build_intents_collect", "load_or_read", "plan_from_snapshot"}, rel
        assert "importlib" not in {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}, rel


def test_only_the_reader_opens_an_http_client_to_netbox() -> None:
    offenders = []
    for p in [*(ROOT / "campusnet").rglob("*.py"), *(ROOT / "playbooks").rglob("*.py"),
              *(ROOT / "inventory").rglob("*.py")]:
        text = p.read_text()
        if ("httpx.Client(" in text or "urllib.request.Request(" in text) and p.name != "reader.py":
            offenders.append(str(p.relative_to(ROOT)))
    assert offenders == []


# ---- Fetcher: write verbs, retried only where safe ------------------------------------------------------
def fetcher(handler, **kw) -> Fetcher:  # type: ignore[no-untyped-def]
    return Fetcher(TARGET, transport=httpx.MockTransport(handler), sleep=lambda _s: None, tries=3, **kw)


def test_a_post_answered_503_or_timed_out_is_not_sent_again() -> None:
    calls: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req.method)
        return httpx.Response(503, text="restarting")

    with fetcher(handler) as f, pytest.raises(CampusnetError) as exc:
        f.post("/api/dcim/sites/", {"name": "x"})
    assert calls == ["POST"] and exc.value.code == "E113" and "POST /api/dcim/sites/" in str(exc.value)

    calls.clear()

    def slow(req: httpx.Request) -> httpx.Response:
        calls.append(req.method)
        raise httpx.ReadTimeout("slow", request=req)  # it may have arrived: never twice

    with fetcher(slow) as f, pytest.raises(CampusnetError) as exc:
        f.post("/api/dcim/sites/", {"name": "x"})
    assert calls == ["POST"] and exc.value.code == "E110"


def test_a_post_whose_connection_was_refused_is_tried_again() -> None:
    calls: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req.method)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=req)
        return httpx.Response(201, json={"id": 7})

    with fetcher(handler) as f:
        assert f.post("/api/dcim/sites/", {"name": "x"}) == {"id": 7}
        assert f.retries == 1
    assert calls == ["POST", "POST"]


def test_patch_and_delete_are_retried_and_a_deleted_object_is_not_an_error() -> None:
    calls: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req.method)
        if len(calls) % 2 == 1:
            return httpx.Response(502, text="proxy")
        return httpx.Response(200, json=[{"id": 1}]) if req.method == "PATCH" else httpx.Response(404)

    with fetcher(handler) as f:
        assert f.patch("/api/dcim/devices/", [{"id": 1, "status": "active"}]) == [{"id": 1}]
        assert f.delete("/api/dcim/devices/1/") is None
    assert calls == ["PATCH", "PATCH", "DELETE", "DELETE"]


def test_a_refused_write_token_is_E111_and_never_printed() -> None:
    with fetcher(lambda req: httpx.Response(403, json={"detail": "no"})) as f, pytest.raises(CampusnetError) as e:
        f.patch("/api/dcim/devices/", [])
    assert e.value.code == "E111" and "secret" not in str(e.value)
