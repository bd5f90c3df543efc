"""`campusnet report` against the real NetBox, read with the auditor's read-only token.

A secret is planted in a config context (with the automation token; removed in teardown) and a secret
config line in a backup; neither may appear anywhere in the generated site. The context is scoped to a
tag no device carries, so no other stage renders it. That the auditor token cannot write is proven by
tests/integration/test_local_netbox.py::test_auditor_token_reads_but_cannot_write (not repeated here).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from campusnet import settings
from campusnet.report import REDACTED, generate
from campusnet.report.linkcheck import broken_refs
from campusnet.report.site import PAGES
from campusnet.settings import NetBoxTarget

pytestmark = pytest.mark.integration

PROBE = f"cn-report-probe-{secrets.token_hex(3)}"
CONTEXT_SECRET = f"PlantedCommunity{secrets.token_hex(4)}"
CONTEXT_KEY_SECRET = f"PlantedTacacs{secrets.token_hex(4)}"
LINE_SECRET = f"BackupSecret{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def planted(netbox: NetBoxTarget) -> Iterator[int]:
    """A config context holding literal secrets, on a tag no device has (so nothing else renders it)."""
    with httpx.Client(base_url=netbox.url, headers=netbox.headers(), timeout=30) as c:
        tag = c.post("/api/extras/tags/", json={"name": PROBE, "slug": PROBE})
        assert tag.status_code == 201, tag.text
        ctx = c.post("/api/extras/config-contexts/", json={
            "name": PROBE, "weight": 5000, "tags": [PROBE],
            "data": {"cn_report_probe": {"snmp": {"community": CONTEXT_SECRET},
                                         "aaa": {"tacacs": {"shared_key": CONTEXT_KEY_SECRET}},
                                         "ref": {"secret_ref": "tacacs_key"}}}})
        assert ctx.status_code == 201, ctx.text
        try:
            yield int(ctx.json()["id"])
        finally:
            c.delete(f"/api/extras/config-contexts/{ctx.json()['id']}/")
            c.delete(f"/api/extras/tags/{tag.json()['id']}/")


def _state(tmp: Path) -> Path:
    st = tmp / "state"
    b = st / "backups" / "jpl-core-1"
    b.mkdir(parents=True)
    (b / "20260101T000000.000000Z.cfg").write_text(
        f"sysname jpl-core-1\n#\nsnmp-agent community read cipher {LINE_SECRET}\n#\nreturn\n")
    return st


@pytest.fixture(scope="module")
def report_site(planted: int, tmp_path_factory: pytest.TempPathFactory,
                auditor_target: NetBoxTarget) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("report-nb")
    roles: list[str] = []
    real = settings.netbox_target

    def spy(role: str = "automation") -> NetBoxTarget:
        roles.append(role)
        return real(role)

    mp = pytest.MonkeyPatch()
    mp.setattr(settings, "netbox_target", spy)
    try:
        res = generate(tmp / "site", state=_state(tmp))
    finally:
        mp.undo()
    assert roles and set(roles) == {"auditor"}, roles  # only the read-only token was asked for
    print(f"report from NetBox: {res.pages} pages, {res.files} files, build {res.seconds:.2f} s, "
          f"{res.netbox_requests} extra requests")
    yield tmp / "site"


def test_report_pages_and_counts_match_netbox(report_site: Path, auditor_target: NetBoxTarget) -> None:
    for rel, _l, _w in PAGES:
        assert (report_site / rel).is_file(), rel
    summary = json.loads((report_site / "data" / "report.json").read_text())
    with httpx.Client(base_url=auditor_target.url, headers=auditor_target.headers(), timeout=30) as c:
        for key, path in (("devices", "dcim/devices"), ("racks", "dcim/racks"), ("cables", "dcim/cables"),
                          ("prefixes", "ipam/prefixes"), ("vlans", "ipam/vlans")):
            n = c.get(f"/api/{path}/", params={"limit": 1}).json()["count"]
            assert summary["counts"][key] == n, key
    assert summary["counts"]["changes"] > 0
    assert "Modular Room" in (report_site / "inventory.html").read_text()


def test_planted_secrets_appear_nowhere(report_site: Path) -> None:
    text = "\n".join(f.read_text(encoding="utf-8", errors="replace") for f in report_site.rglob("*") if f.is_file())
    for s in (CONTEXT_SECRET, CONTEXT_KEY_SECRET, LINE_SECRET):
        assert s not in text, s
    assert PROBE in text  # the context itself is shown (compliance page, change log) ...
    assert REDACTED in text  # ... with its secrets redacted
    assert "tacacs_key" in text  # and references kept


def test_change_log_shows_the_planting_request(report_site: Path) -> None:
    changes = json.loads((report_site / "data" / "changes.json").read_text())
    probe = [c for c in changes if c["object"] == PROBE and c["object_type"] == "extras.configcontext"]
    assert probe and probe[0]["action"] == "create" and probe[0]["request_id"]
    assert f'id="req-{probe[0]["request_id"]}"' in (report_site / "changes.html").read_text()


def test_no_broken_or_external_links(report_site: Path) -> None:
    assert broken_refs(report_site) == []


def test_monitoring_export_from_netbox(netbox: NetBoxTarget, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from campusnet.cli import app

    out = tmp_path / "sd.json"
    r = CliRunner().invoke(app, ["export", "monitoring", "--out", str(out)])
    assert r.exit_code == 0, r.output
    entries = json.loads(out.read_text())
    with httpx.Client(base_url=netbox.url, headers=netbox.headers(), timeout=30) as c:
        devs = c.get("/api/dcim/devices/", params={"limit": 0, "fields": "name,oob_ip"}).json()["results"]
    want = {d["name"]: d["oob_ip"]["address"].split("/")[0] for d in devs if d.get("oob_ip")}
    assert {e["labels"]["device"]: e["targets"][0] for e in entries} == want
    assert all(set(e["labels"]) == {"site", "role", "tenant", "device", "platform"} for e in entries)
