"""The local NetBox as `campusnet netbox up` leaves it: isolated, secrets 0600, users with the right powers."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from campusnet import settings
from campusnet.settings import NetBoxTarget

pytestmark = pytest.mark.integration

local_only = pytest.mark.skipif(
    bool(settings.os.environ.get("NETBOX_URL")), reason="checks the local NetBox's files"
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "campusnet", *args], capture_output=True, text=True, check=False)


@local_only
def test_status_json_names_url_tokens_and_pids(netbox_up: NetBoxTarget) -> None:
    r = _cli("netbox", "status", "--json")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["url"].startswith("http://127.0.0.1:")
    assert st["answering"] is True
    for name in ("gunicorn", "rqworker", "postgres", "redis"):
        assert isinstance(st["pids"][name], int), name
    # status never prints a secret
    token = settings.netbox_target().token
    assert token not in r.stdout


@local_only
def test_secrets_are_0600_and_configuration_is_isolated(netbox_up: NetBoxTarget) -> None:
    base = settings.state_dir() / "netbox"
    for f in (base / "secrets").iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    conf = base / "root" / "conf" / "configuration.py"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    text = conf.read_text()
    for line in ("CENSUS_REPORTING_ENABLED = False", "ISOLATED_DEPLOYMENT = True", "RELEASE_CHECK_URL = None"):
        assert line in text


@local_only
def test_services_listen_on_loopback_only(netbox_up: NetBoxTarget) -> None:
    from campusnet.localnb import LocalNetBox

    ports = LocalNetBox.load().ports
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    for name, port in ports.items():
        listeners = [ln.split()[3] for ln in out.splitlines() if ln.split()[3].endswith(f":{port}")]
        assert listeners, f"{name} is not listening on {port}"
        assert all(addr.startswith("127.0.0.1:") for addr in listeners), (name, listeners)


@local_only
def test_second_up_is_fast_and_changes_nothing(netbox_up: NetBoxTarget) -> None:
    token_before = settings.netbox_target().token
    t0 = time.monotonic()
    r = _cli("netbox", "up")
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert "is up at" in r.stdout
    assert settings.netbox_target().token == token_before  # tokens kept
    print(f"warm `netbox up`: {took:.1f} s")


def test_auditor_token_reads_but_cannot_write(netbox_writable: NetBoxTarget) -> None:
    """The auditor's token is refused every write: POST, PATCH and DELETE (the latter two on a probe
    object the automation token creates, so a token that could write would only touch the probe).
    A writing test: with a NETBOX_URL it needs CAMPUSNET_TESTS_MAY_WRITE=1 (tests/conftest.py)."""
    auditor = settings.netbox_target(role="auditor")
    t = settings.netbox_target()
    assert auditor.token != t.token, "the auditor token is the automation token: set NETBOX_AUDITOR_TOKEN"
    slug = f"cn-audit-probe-{time.time_ns()}"
    with httpx.Client(base_url=t.url, headers=t.headers(), timeout=30) as rw, \
            httpx.Client(base_url=auditor.url, headers=auditor.headers(), timeout=30) as c:
        probe = rw.post("/api/extras/tags/", json={"name": slug, "slug": slug})
        assert probe.status_code == 201, probe.text
        url = f"/api/extras/tags/{probe.json()['id']}/"
        try:
            assert c.get("/api/dcim/sites/").status_code == 200
            assert c.get(url).status_code == 200  # it can see the probe ...
            r = c.post("/api/dcim/sites/", json={"name": "audit-probe", "slug": "audit-probe"})
            assert r.status_code == 403, r.text
            r = c.post("/api/tenancy/tenants/", json={"name": "audit-probe", "slug": "audit-probe"})
            assert r.status_code == 403, r.text
            r = c.patch(url, json={"description": "changed by the auditor"})  # ... but not change it
            assert r.status_code == 403, r.text
            r = c.delete(url)  # ... nor delete it
            assert r.status_code == 403, r.text
            r = c.patch("/api/extras/tags/", json=[{"id": probe.json()["id"], "description": "bulk"}])
            assert r.status_code == 403, r.text  # nor in bulk
            r = c.request("DELETE", "/api/extras/tags/", json=[{"id": probe.json()["id"]}])
            assert r.status_code == 403, r.text
            after = rw.get(url)
            assert after.status_code == 200 and after.json()["description"] == ""
        finally:
            rw.delete(url)


def test_automation_token_can_write(netbox_writable: NetBoxTarget) -> None:
    t = settings.netbox_target()
    with httpx.Client(base_url=t.url, headers=t.headers(), timeout=30) as c:
        r = c.post("/api/extras/tags/", json={"name": "cn-probe", "slug": "cn-probe"})
        assert r.status_code == 201, r.text
        assert c.delete(f"/api/extras/tags/{r.json()['id']}/").status_code == 204


@local_only
def test_postgres_runs_durable(netbox_up: NetBoxTarget) -> None:
    """fsync, synchronous_commit and full_page_writes are on in the running server (SHOW, not our argv)."""
    from campusnet.localnb import LocalNetBox

    pg = LocalNetBox.load().postgres
    assert pg.settings() == {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    assert _cli("netbox", "status", "--json").stdout and json.loads(
        _cli("netbox", "status", "--json").stdout)["postgres_durable"] is True


@local_only
def test_no_password_on_any_command_line(netbox_up: NetBoxTarget) -> None:
    """No running process shows a local NetBox secret in its argv (``ps`` shows argv to every user)."""
    from pathlib import Path

    from campusnet.localnb import LocalNetBox

    nb = LocalNetBox.load()
    secrets = [f.read_text().strip() for f in nb.server.secrets_dir.iterdir() if f.is_file()]
    secrets = [x for x in secrets if len(x) >= 16]
    assert secrets, "no secrets found to look for"
    pids = [p for p in nb.status()["pids"].values() if p]
    assert len(pids) == 4  # gunicorn, rqworker, postgres, redis
    seen = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        seen += 1
        for secret in secrets:
            assert secret not in argv, f"a local NetBox secret is on the command line of pid {proc.name}"
    assert seen > 10


def _edited_campus(tmp_path: Path) -> Path:
    """A copy of the reference campus with one site description changed."""
    edited = tmp_path / "campus-edited"
    shutil.copytree(settings.inventory_dir() / "campus", edited)
    f = edited / "organisation.yml"
    text = f.read_text()
    assert 'description: "campus with the modular machine room"' in text
    f.write_text(text.replace('description: "campus with the modular machine room"',
                              'description: "campus with the modular machine room (edited)"'))
    return edited


def test_seeded_cache_key_follows_the_yaml(tmp_path: Path) -> None:
    from campusnet.localnb import seeded_key

    campus = settings.inventory_dir() / "campus"
    assert seeded_key(campus) == seeded_key(campus)
    assert seeded_key(_edited_campus(tmp_path)) != seeded_key(campus)


@local_only
@pytest.mark.slow
def test_seeded_cache_restores_and_seed_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three fresh state directories beside the shared NetBox (own ports): A seeds and caches (unless the
    machine's cache already holds this campus), B with a changed YAML must start from the bare schema,
    C restores the seeded dump and the real seed then writes nothing."""
    from campusnet.design.seed import seed
    from campusnet.localnb import LocalNetBox

    campus = settings.inventory_dir() / "campus"
    monkeypatch.delenv("NETBOX_URL", raising=False)
    monkeypatch.delenv("NETBOX_TOKEN", raising=False)
    started: list[LocalNetBox] = []

    def fresh(name: str, design: Path) -> LocalNetBox:
        monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path / name))
        nb = LocalNetBox.load()
        started.append(nb)
        nb.up(log=lambda m: None, seeded=design)
        return nb

    try:
        a = fresh("a", campus)
        if a.origin == "created":
            first = seed(settings.netbox_target(), campus)
            assert not first.errors, first.errors[:5]
            assert a.cache_seeded(campus) == a.seeded_cache(campus)
        assert a.seeded_cache(campus).exists()
        assert stat.S_IMODE(a.seeded_cache(campus).stat().st_mode) == 0o600
        a_token = a.server.token_file("automation").read_text()
        a.down()

        edited = _edited_campus(tmp_path)
        b = fresh("b", edited)
        assert b.origin == "created"  # another key: the bare schema, never the cached data
        r = httpx.get(f"{b.server.url}/api/dcim/sites/", headers=settings.netbox_target().headers())
        assert r.status_code == 200 and r.json()["count"] == 0
        b.down()

        c = fresh("c", campus)
        assert c.origin == "seeded-cache"
        assert c.server.token_file("automation").read_text() != a_token  # fresh tokens per state dir
        again = seed(settings.netbox_target(), campus)
        assert not again.errors and again.writes == 0, again.changes[:10]
        assert set(again.requests) == {"GET"}
        assert c.cache_seeded(campus) is None  # a restored database is never re-cached
    finally:  # purge: as root the clusters live in /var/lib/campusnet (tmp_path is not postgres's)
        for nb in started:
            nb.purge()
