"""The auditor's site from a hand-built campus and a hand-built state directory (no NetBox)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_sot_models import dev, mini
from typer.testing import CliRunner

from campusnet.errors import CampusnetError
from campusnet.report import ReportInputs, build_site
from campusnet.report.compliance import compare, intended_from_dir
from campusnet.report.linkcheck import PageParser, broken_refs, parse_page
from campusnet.report.netbox import ChangeLog, NetBoxExtras, parse_change, sanitize_svg
from campusnet.report.redact import REDACTED, Redactor
from campusnet.report.site import PAGES, group_changes
from campusnet.report.state import Backup
from campusnet.report.tables import prefix_utilisation
from campusnet.sot.models import ConfigContext, ContactAssignment, Location, Snapshot

PLANTED = "PlantedSnmpCommunity42"
PLANTED_LINE_SECRET = "BackupTacacsKey77"


# --------------------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------------------
def campus() -> Snapshot:
    """mini() + the Modular Room location, a config context with a literal secret, an unowned device."""
    s = mini()
    racks = tuple(r.model_copy(update={"location": "modular-room"}) for r in s.racks)
    stray = dev("yt-stray-1", "access-switch", tenant=None)
    return s.model_copy(update={
        "locations": (Location(id=1, site="yuntang", slug="modular-room", name="Modular Room"),),
        "racks": racks,
        "devices": (*s.devices, stray),
        "config_contexts": (ConfigContext(id=1, name="services-yuntang", weight=1000, data={
            "services": {"snmp": {"community": PLANTED, "location": "Yuntang"},
                         "aaa": {"tacacs": {"key": {"secret_ref": "tacacs_key"}}}}}),),
        "contact_assignments": (*s.contact_assignments, ContactAssignment(
            id=99999, object_type="dcim.device", object_id=0, object_key="yt-stray-1", contact="NOC",
            role="technical")),
    })


FRR_INTENDED = "hostname yt-b01-acc-1\n!\nrouter ospf\n ospf router-id 10.255.0.11\n!\nline vty\n!\n"


def state_dir(tmp: Path) -> Path:
    st = tmp / "state"
    b = st / "backups" / "yt-b01-acc-1"
    b.mkdir(parents=True)
    (b / "20260101T000000.000000Z.cfg").write_text("hostname old\n")
    (b / "20260102T000000.000000Z.cfg").write_text(
        "frr version 8.4\nhostname yt-b01-acc-1\n!\nrouter ospf\n ospf router-id 10.255.0.99\n!\n"
        f"hwtacacs-server shared-key cipher {PLANTED_LINE_SECRET}\nline vty\n!\n"
        "!! campusnet-section ovs\nbridge br0\n!! campusnet-section links\nlo up\n")
    (b / "20260102T000000.000000Z.json").write_text(json.dumps({"platform": "linux-frr", "run_id": "r1"}))
    b2 = st / "backups" / "yt-egress-1"
    b2.mkdir(parents=True)
    (b2 / "20260102T000000.000000Z.cfg").write_text("sysname yt-egress-1\n#\ninterface GE1/0/1\n#\nreturn\n")
    for rid, diff in (("20260101T000000Z-aaaaaa", ""),
                      ("20260102T000000Z-bbbbbb", f"+ hwtacacs-server shared-key cipher {PLANTED_LINE_SECRET}\n")):
        r = st / "runs" / rid
        (r / "diffs").mkdir(parents=True)
        (r / "rendered" / "yt-b01-acc-1").mkdir(parents=True)
        (r / "diffs" / "yt-b01-acc-1.diff").write_text(diff)
        (r / "rendered" / "yt-b01-acc-1" / "frr.conf").write_text(FRR_INTENDED + ("" if not diff else "! v2\n"))
        (r / "summary.json").write_text(json.dumps({
            "run_id": rid, "started": "2026-01-02T00:00:00+00:00", "finished": "2026-01-02T00:01:00+00:00",
            "commit": True, "devices": {"yt-b01-acc-1": {"status": "changed" if diff else "unchanged",
                                                         "diff_lines": 1, "backup": "x.cfg", "error": None}}}))
        (r / "netbox.json").write_text(json.dumps({"url": "http://127.0.0.1:8470",
                                                   "request_ids": ["req-1", "req-unknown"]}))
        (r / "verify.json").write_text(json.dumps([
            {"check": "bgp-session", "device": "yt-b01-acc-1", "expected": "Established", "found": "Idle",
             "passed": False, "message": "session down"},
            {"check": "link-up", "device": "yt-b01-acc-1", "expected": "up", "found": "up", "passed": True,
             "message": ""}]))
    (st / "verify").mkdir()
    (st / "verify" / "latest.json").write_text(json.dumps([
        {"check": "link-up", "device": "yt-core-1", "expected": "up", "found": "up", "passed": True, "message": ""},
        {"check": "drift", "device": "yt-b01-acc-1", "expected": "no diff", "found": "1 line", "passed": False,
         "message": "config drifted"}]))
    return st


def changes(red: Redactor) -> ChangeLog:
    raw = [
        {"id": 3, "time": "2026-01-02T10:00:00+08:00", "user_name": "automation", "request_id": "req-1",
         "action": {"value": "update", "label": "Updated"}, "changed_object_type": "extras.configcontext",
         "changed_object_id": 1, "object_repr": "services-yuntang", "message": "",
         "prechange_data": {"data": {"snmp": {"community": {"secret_ref": "snmp_ro"}}}},
         "postchange_data": {"data": {"snmp": {"community": "ChangeLogSecret55"}}}},
        {"id": 2, "time": "2026-01-02T10:00:00+08:00", "user_name": "automation", "request_id": "req-1",
         "action": {"value": "create"}, "changed_object_type": "dcim.device", "changed_object_id": 5,
         "object_repr": "yt-core-1", "prechange_data": None, "postchange_data": {"name": "yt-core-1"}},
        {"id": 1, "time": "2026-01-01T09:00:00+08:00", "user_name": "design", "request_id": "req-0",
         "action": {"value": "create"}, "changed_object_type": "ipam.fhrpgroup", "changed_object_id": 900,
         "object_repr": "VRRP 1", "prechange_data": None, "postchange_data": {"auth_key": "FhrpKeyX99"}},
    ]
    return ChangeLog(changes=[parse_change(o, red) for o in raw], total=3, requests=1)


NETBOX_SVG = """<?xml version="1.0" encoding="utf-8" ?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:ev="http://www.w3.org/2001/xml-events"
 xmlns:xlink="http://www.w3.org/1999/xlink" class="rack" height="700" width="230">
<defs><style>@import url(https://cdn.example.com/x.css); .slot{fill:#fff;background:url(http://evil/x.png)}</style>
<clipPath id="clip-1"><rect height="22" width="200"/></clipPath></defs>
<script>fetch('https://example.com')</script>
<a href="http://127.0.0.1:8470/dcim/devices/{dev_id}/" target="_parent"><rect class="slot" height="22" width="200"/>
<text clip-path="url(#clip-1)" class="label">yt-core-1</text></a>
<a href="http://127.0.0.1:8470/dcim/devices/add/?site=1&amp;rack=1&amp;position=3" target="_parent">
<text>add device</text></a>
<a xlink:href="https://netbox.example.org/dcim/rack-reservations/4/"><rect height="1" width="1"/></a>
<image href="https://cdn.example.com/front.png" height="10" width="10"/>
<text onclick="alert(1)">snmp-agent community read cipher SvgSecret12</text>
</svg>"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    snap = campus()
    red = Redactor()
    core = snap.device("yt-core-1")
    svg = sanitize_svg(NETBOX_SVG.replace("{dev_id}", str(core.id)),
                       {core.id: "../inventory.html#dev-yt-core-1"}.get, red)
    extras = NetBoxExtras(changes=changes(red), elevations={("yuntang/R01", "front"): svg},
                          elevation_errors={("yuntang/R01", "rear"): "HTTP 500"}, requests=3, url="http://x")
    intended_dir = tmp / "intended"
    (intended_dir / "yt-b01-acc-1").mkdir(parents=True)
    (intended_dir / "yt-b01-acc-1" / "frr.conf").write_text(FRR_INTENDED)
    (intended_dir / "yt-b01-acc-1" / "yt-b01-acc-1.cfg").write_text("sysname yt-b01-acc-1\n")
    (intended_dir / "yt-egress-1.cfg").write_text("sysname yt-egress-1\n#\ninterface GE1/0/1\n#\nreturn\n")
    (intended_dir / "yt-core-1.cfg").write_text("sysname yt-core-1\n")
    inputs = ReportInputs(snapshot=snap, state=state_dir(tmp), extras=extras,
                          intended=intended_from_dir(intended_dir), intended_source="test files")
    out = tmp / "site"
    build_site(inputs, out, red)
    return out


# --------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------
def parse(path: Path) -> PageParser:
    return parse_page(path.read_text(encoding="utf-8"))


def check_links(site: Path) -> list[str]:
    return broken_refs(site)


def all_text(site: Path) -> str:
    return "\n".join(f.read_text(encoding="utf-8", errors="replace") for f in site.rglob("*") if f.is_file())


# --------------------------------------------------------------------------------------------------------
# the site
# --------------------------------------------------------------------------------------------------------
def test_every_main_page_exists_with_its_heading(site: Path) -> None:
    for rel, _label, _what in PAGES:
        p = site / rel
        assert p.is_file(), rel
        assert parse(p).headings, rel


def test_no_broken_or_external_links(site: Path) -> None:
    assert check_links(site) == []


def test_no_secret_anywhere(site: Path) -> None:
    text = all_text(site)
    for s in (PLANTED, PLANTED_LINE_SECRET, "ChangeLogSecret55", "FhrpKeyX99", "SvgSecret12"):
        assert s not in text, s
    assert REDACTED in text
    assert "tacacs_key" in text  # a secret_ref names a secret, and stays visible


def test_nothing_loads_from_the_internet(site: Path) -> None:
    text = all_text(site)
    for bad in ("https://", "cdn.example.com", "<script", "@import", "netbox.example.org"):
        assert bad not in text, bad


def test_inventory_shows_modular_room_racks_and_devices(site: Path) -> None:
    html = (site / "inventory.html").read_text()
    assert "Modular Room" in html
    assert 'id="rack-yuntang-R01"' in html
    assert 'id="dev-yt-core-1"' in html
    assert "Not in a rack" in html  # the access switch


def test_elevations_netbox_sanitised_and_fallback_drawn(site: Path) -> None:
    front = (site / "elevations" / "yuntang-R01-front.svg").read_text()
    rear = (site / "elevations" / "yuntang-R01-rear.svg").read_text()
    assert "../inventory.html#dev-yt-core-1" in front
    assert "add device" in front and "dcim/devices/add" not in front
    assert "url(#clip-1)" in front and "onclick" not in front
    assert "yt-core-1" in rear  # drawn from the snapshot where NetBox failed
    assert "1 drawn from the snapshot" in (site / "racks.html").read_text()


def test_power_budget_per_rack_and_feed(site: Path) -> None:
    feeds = {r["feed"]: r for r in json.loads((site / "data" / "power_feeds.json").read_text())}
    assert feeds["PP-A/R01-A"]["capacity_w"] == 2944  # 230 V x 16 A x 80 %
    assert feeds["PP-A/R01-A"]["load_w"] == 900  # through the PDU: 600 + 300
    racks = {r["rack"]: r for r in json.loads((site / "data" / "racks.json").read_text())}
    assert racks["yuntang/R01"]["draw_w"] == 900
    assert racks["yuntang/R01"]["capacity_w"] == 2944  # A/B: the smaller side
    html = (site / "power.html").read_text()
    assert html.count("<svg") >= 2 and "feed load vs. capacity" in html


def test_ipam_utilisation_counts_like_netbox() -> None:
    util = prefix_utilisation(campus())
    assert util["global:10.0.0.0/24"] == (2, 254)
    assert util["global:10.10.110.0/24"] == (3, 254)  # two SVIs and the VRRP VIP
    assert util["mgmt:10.254.0.0/24"] == (1, 254)


def test_vlan_plan_lists_gateways_and_vip(site: Path) -> None:
    vlans = {r["vid"]: r for r in json.loads((site / "data" / "vlans.json").read_text())}
    assert "yt-core-1 Vlanif110 10.10.110.2/24" in vlans[110]["gateways"]
    assert "VIP 10.10.110.1/24" in vlans[110]["gateways"]
    assert vlans[110]["prefixes"] == "" and vlans[110]["owners"] == "NOC"


def test_ownership_lists_the_unowned_prominently(site: Path) -> None:
    unowned = json.loads((site / "data" / "unowned.json").read_text())
    assert unowned == [{"type": "device", "object": "yt-stray-1", "tenant": "", "owners": "",
                        "missing": "tenant and owner contact"}]
    html = (site / "ownership.html").read_text()
    assert 'class="alert"' in html and "yt-stray-1" in html
    assert "1 object(s) without a tenant or an owner" in (site / "index.html").read_text()


def test_cabling_lists_both_ends(site: Path) -> None:
    rows = json.loads((site / "data" / "cables.json").read_text())
    assert len(rows) == 5 and all("status" in r for r in rows)


def test_changes_grouped_by_request_id(site: Path) -> None:
    html = (site / "changes.html").read_text()
    assert 'id="req-req-1"' in html and 'id="req-req-0"' in html
    groups = group_changes(changes(Redactor()))
    assert [g.request_id for g in groups] == ["req-1", "req-0"]
    assert len(groups[0].changes) == 2


def test_compliance_states_and_diff(site: Path) -> None:
    rows = {r["device"]: r for r in json.loads((site / "data" / "compliance.json").read_text())}
    assert rows["yt-b01-acc-1"]["state"] == "drift"
    assert rows["yt-b01-acc-1"]["intended_file"] == "frr.conf"  # a lab backup is compared with frr.conf
    assert rows["yt-egress-1"]["state"] == "compliant"
    assert rows["yt-core-1"]["state"] == "no-backup"
    html = (site / "compliance.html").read_text()
    assert "10.255.0.99" in html and "no backup yet" in html
    assert "services-yuntang" in html  # config contexts, redacted


def test_run_evidence_bundle(site: Path) -> None:
    runs = sorted((site / "runs").glob("*.html"))
    assert [p.name for p in runs] == ["20260101T000000Z-aaaaaa.html", "20260102T000000Z-bbbbbb.html"]
    html = runs[1].read_text()
    assert '../changes.html#req-req-1' in html and "req-unknown" in html
    assert "this/yt-b01-acc-1/frr.conf" in html  # rendered diff against the previous run
    assert "session down" in html
    bundle = json.loads((site / "runs" / "20260102T000000Z-bbbbbb.json").read_text())
    assert bundle["request_ids"] == ["req-1", "req-unknown"]


def test_verify_page(site: Path) -> None:
    html = (site / "verify.html").read_text()
    assert "config drifted" in html and "1 failed" in html


# --------------------------------------------------------------------------------------------------------
# missing inputs: "none yet", never a crash
# --------------------------------------------------------------------------------------------------------
def test_empty_state_and_offline_render_none_yet(tmp_path: Path) -> None:
    out = tmp_path / "site"
    res = build_site(ReportInputs(snapshot=campus(), state=tmp_path / "nothing", offline_reason="--offline"), out)
    assert res.pages == len(PAGES) + 1
    assert "none yet" in (out / "runs.html").read_text()
    assert "none yet" in (out / "verify.html").read_text()
    assert "Not read: --offline" in (out / "changes.html").read_text()
    assert "drawn from the snapshot" in (out / "racks.html").read_text()
    assert check_links(out) == []
    assert PLANTED not in all_text(out)


def test_empty_snapshot_renders(tmp_path: Path) -> None:
    s = mini()
    empty = Snapshot(source=s.source)
    build_site(ReportInputs(snapshot=empty, state=tmp_path), tmp_path / "site")
    assert "none yet" in (tmp_path / "site" / "power.html").read_text()


def test_refuses_to_overwrite_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(CampusnetError) as e:
        build_site(ReportInputs(snapshot=mini(), state=tmp_path / "x"), tmp_path)
    assert e.value.code == "E506"
    assert (tmp_path / "mine.txt").exists()


def test_a_leak_fails_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If a secret slipped past the printing path, the leak check catches it and deletes the file."""
    from campusnet.report import site as site_mod

    red = Redactor()
    red.data({"community": "SneakySecret1"})
    real = site_mod.SiteWriter.page

    def leaky(self: Any, rel: str, template: str, title: str, **ctx: Any) -> None:
        real(self, rel, template, title, **ctx)
        if rel == "index.html":
            (self.out / rel).write_text("SneakySecret1")

    monkeypatch.setattr(site_mod.SiteWriter, "page", leaky)
    with pytest.raises(CampusnetError) as e:
        build_site(ReportInputs(snapshot=mini(), state=tmp_path / "x"), tmp_path / "site", red)
    assert e.value.code == "E502" and "index.html" in str(e.value)
    assert not (tmp_path / "site" / "index.html").exists()


def test_compare_linux_frr_sections_and_missing_intended() -> None:
    b = Backup("d", Path("x.cfg"), "t", FRR_INTENDED + "!! campusnet-section ovs\nbridge br0\n",
               {"platform": "linux-frr"})
    assert compare("d", {"frr.conf": FRR_INTENDED, "d.cfg": "sysname d\n"}, b, "huawei-vrp").state == "compliant"
    assert compare("d", {"d.cfg": "sysname d\n"}, b, "huawei-vrp").state == "no-intended"
    assert compare("d", None, None, "huawei-vrp").state == "no-backup"


def test_cli_offline_from_snapshot_file(tmp_path: Path) -> None:
    from campusnet.cli import app

    snap_file = campus().save(tmp_path / "snap.json")
    out = tmp_path / "site"
    r = CliRunner().invoke(app, ["report", "--offline", "--snapshot", str(snap_file), "--out", str(out),
                                 "--state", str(tmp_path / "state"), "--intended", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert (out / "index.html").is_file()
    assert PLANTED not in all_text(out)


def test_cli_offline_needs_a_snapshot(tmp_path: Path) -> None:
    from campusnet.cli import app

    r = CliRunner().invoke(app, ["report", "--offline", "--out", str(tmp_path / "o")])
    assert r.exit_code != 0
    assert isinstance(r.exception, CampusnetError) and r.exception.code == "E507"


def test_library_render_uses_placeholders_never_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report renders intended configs without resolving a secret."""
    import types

    from campusnet.report import compliance as comp

    seen: dict[str, Any] = {}

    def render_device(intent: Any, *, secrets: Any = None, lab: bool = True, emulation: Any = None) -> dict[str, str]:
        seen["secret"] = secrets("snmp-ro")
        return {f"{intent}.cfg": f"snmp-agent community read cipher {seen['secret']}\n"}

    monkeypatch.setitem(__import__("sys").modules, "campusnet.render",
                        types.SimpleNamespace(render_device=render_device))
    monkeypatch.setattr("campusnet.intent.build_intents_collect", lambda snap, **kw: ({"d": "d"}, []))
    got = comp.intended_from_library(mini())
    assert got is not None
    assert seen["secret"] == "secret-ref-snmp-ro"
    assert got[0] == {"d": {"d.cfg": "snmp-agent community read cipher secret-ref-snmp-ro\n"}}
