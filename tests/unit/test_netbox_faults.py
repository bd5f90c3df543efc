"""NetBox faults without a server (issue 9 section 5): retries with backoff, reads checked against
NetBox's ``count``, ``--limit`` matching nothing, the CLI's catch-all, branch operations without NetBox.

Each fake NetBox is an ``httpx.MockTransport``; the integration twins are in
tests/integration/test_netbox_faults_live.py."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from campusnet.errors import CampusnetError
from campusnet.nornir_inventory import managed_devices
from campusnet.settings import NetBoxTarget
from campusnet.sot import load_or_read
from campusnet.sot.limit import Limit, apply_limit, selected
from campusnet.sot.models import Snapshot
from campusnet.sot.reader import Fetcher

TARGET = NetBoxTarget("http://nb.test", "nbt_abc.secret", "environment")


def pager(n_items: int, max_page: int, *, count_of=None, rows_of=None):  # type: ignore[no-untyped-def]
    """A paging list endpoint; ``count_of(offset)`` / ``rows_of(offset, rows)`` corrupt single pages."""
    def handler(req: httpx.Request) -> httpx.Response:
        q = {k: v[0] for k, v in parse_qs(urlparse(str(req.url)).query).items()}
        limit = int(q.get("limit", 50))
        limit = max_page if limit == 0 else min(limit, max_page)
        offset = int(q.get("offset", 0))
        rows = [{"id": i} for i in range(offset + 1, min(offset + limit, n_items) + 1)]
        if rows_of:
            rows = rows_of(offset, rows)
        nxt = f"http://nb.test{req.url.path}?limit={limit}&offset={offset + limit}" if offset + limit < n_items \
            else None
        count = count_of(offset) if count_of else n_items
        return httpx.Response(200, json={"count": count, "next": nxt, "results": rows})
    return handler


def fetcher(handler, **kw) -> Fetcher:  # type: ignore[no-untyped-def]
    slept: list[float] = []
    f = Fetcher(TARGET, transport=httpx.MockTransport(handler), sleep=slept.append, **kw)
    f.slept = slept  # type: ignore[attr-defined]
    return f


# ---- retries --------------------------------------------------------------------------------------------
def test_a_503_then_200_is_read_after_one_backoff() -> None:
    calls: list[int] = []
    inner = pager(30, 10)

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503, text="restarting") if len(calls) == 1 else inner(req)

    with fetcher(handler, workers=1) as f:
        out = f.list_all(["devices"])
    assert [r["id"] for r in out["devices"]] == list(range(1, 31))
    assert f.retries == 1 and f.slept == [0.5]  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_every_time_is_E113_after_bounded_backoff(status: int) -> None:
    with fetcher(lambda req: httpx.Response(status, text="down"), tries=4, backoff=0.5) as f, \
            pytest.raises(CampusnetError) as exc:
        f.get("/api/dcim/devices/")
    assert exc.value.code == "E113" and "after 4 tries" in str(exc.value) and "dcim/devices" in str(exc.value)
    assert f.slept == [0.5, 1.0, 2.0] and f.requests == 4  # type: ignore[attr-defined]


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ReadTimeout, httpx.ConnectTimeout,
                                   httpx.RemoteProtocolError])
def test_transport_errors_are_retried_then_E110(error: type[httpx.TransportError]) -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        raise error("boom", request=req)

    with fetcher(handler, tries=3, backoff=0.1) as f, pytest.raises(CampusnetError) as exc:
        f.get("/api/status/")
    assert exc.value.code == "E110" and "after 3 tries" in str(exc.value) and error.__name__ in str(exc.value)
    assert f.slept == [0.1, 0.2] and "secret" not in str(exc.value)  # type: ignore[attr-defined]


def test_a_refused_connection_then_an_answer_is_read() -> None:
    calls: list[int] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            raise httpx.ConnectError("refused", request=req)
        return httpx.Response(200, json={"netbox-version": "4.7.3"})

    with fetcher(handler) as f:
        assert f.get("/api/status/") == {"netbox-version": "4.7.3"}
    assert f.retries == 2


def test_4xx_is_not_retried() -> None:
    with fetcher(lambda req: httpx.Response(403, json={"detail": "no"})) as f, pytest.raises(CampusnetError) as e:
        f.get("/api/dcim/devices/")
    assert e.value.code == "E111" and f.requests == 1 and f.slept == []  # type: ignore[attr-defined]


def test_tries_and_backoff_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPUSNET_NETBOX_TRIES", "2")
    monkeypatch.setenv("CAMPUSNET_NETBOX_BACKOFF", "0.25")
    f = Fetcher(TARGET)
    assert (f.tries, f.backoff) == (2, 0.25)
    monkeypatch.setenv("CAMPUSNET_NETBOX_TRIES", "many")
    with pytest.raises(CampusnetError) as exc:
        Fetcher(TARGET)
    assert exc.value.code == "E114" and exc.value.field == "CAMPUSNET_NETBOX_TRIES"


# ---- reads checked against count --------------------------------------------------------------------------
def test_a_short_page_is_an_error_not_a_smaller_list() -> None:
    # the second page comes back with 3 rows fewer than it should: the list would lose 3 interfaces
    h = pager(25, 10, rows_of=lambda off, rows: rows[:-3] if off == 10 else rows)
    with fetcher(h) as f, pytest.raises(CampusnetError) as exc:
        f.list_all(["interfaces"])
    e = exc.value
    assert e.code == "E116" and e.obj == "/api/dcim/interfaces/" and "said 25" in e.message and "held 22" in e.message
    assert f.rereads == 1  # read twice, short both times


def test_a_short_single_page_without_next_is_an_error() -> None:
    h = pager(5, 10, rows_of=lambda off, rows: rows[:2])
    with fetcher(h) as f, pytest.raises(CampusnetError) as exc:
        f.list_all(["devices"])
    assert exc.value.code == "E116" and "said 5" in exc.value.message


def test_a_count_that_changes_between_pages_is_an_error() -> None:
    h = pager(25, 10, count_of=lambda off: 25 if off < 20 else 24)
    with fetcher(h) as f, pytest.raises(CampusnetError) as exc:
        f.list_all(["interfaces"])
    e = exc.value
    assert e.code == "E115" and "first page 25" in e.message and e.obj == "/api/dcim/interfaces/"


def test_a_read_disturbed_once_is_read_again_and_then_complete() -> None:
    # a write during the first read (the count moved on one page); the second read adds up
    seen: list[int] = []

    def count_of(offset: int) -> int:
        seen.append(offset)
        return 24 if len(seen) == 3 else 25

    with fetcher(pager(25, 10, count_of=count_of), workers=1) as f:
        out = f.list_all(["interfaces"])
    assert [r["id"] for r in out["interfaces"]] == list(range(1, 26)) and f.rereads == 1


def test_duplicate_ids_are_an_error() -> None:
    # a row inserted before the offset shifts the rest: one row comes twice, the count still adds up
    h = pager(20, 10, rows_of=lambda off, rows: [{"id": 10}, *rows[1:]] if off == 10 else rows)
    with fetcher(h) as f, pytest.raises(CampusnetError) as exc:
        f.list_all(["cables"])
    assert exc.value.code == "E117" and "10" in exc.value.message and exc.value.obj == "/api/dcim/cables/"


def test_a_reply_without_count_is_an_error() -> None:
    with fetcher(lambda req: httpx.Response(200, json={"results": []})) as f, pytest.raises(CampusnetError) as e:
        f.list_all(["devices"])
    assert e.value.code == "E114" and e.value.field == "count"


def test_a_consistent_read_passes() -> None:
    with fetcher(pager(2300, 1000)) as f:
        out = f.list_all(["interfaces", "devices"])
    assert len(out["interfaces"]) == len(out["devices"]) == 2300 and f.retries == 0


# ---- --limit matching no device -------------------------------------------------------------------------
SMALL = Path(__file__).resolve().parents[1] / "fixtures" / "snapshots" / "small.json"


def run_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``campusnet ARGV`` in-process through the real entry point (main(): coded errors, the catch-all)."""
    from campusnet.cli import main

    monkeypatch.setattr(sys, "argv", ["campusnet", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    code = exc.value.code
    return (code if isinstance(code, int) else (0 if code is None else 1)), capsys.readouterr().err


def test_limit_matching_nothing_is_E206() -> None:
    snap = Snapshot.load(SMALL)
    with pytest.raises(CampusnetError) as exc:
        apply_limit(snap, Limit.parse("name=no-such-*"))
    assert exc.value.code == "E206" and "--limit name=no-such-*" in str(exc.value)
    assert "matches no device" in str(exc.value)
    with pytest.raises(CampusnetError, match="E206"):
        load_or_read(SMALL, limit="site=nowhere")
    with pytest.raises(CampusnetError, match="E206"):
        managed_devices(snap, Limit.parse("role=nothing"))
    assert selected(snap, Limit.parse(snap.devices[0].name))  # a match passes


@pytest.mark.parametrize("verb", [
    ["render", "--out", "{out}"],
    ["validate"],
    ["export", "monitoring", "--out", "{out}/targets.json"],
    ["lab", "plan"],
])
def test_every_verb_with_limit_refuses_a_limit_matching_nothing(
        verb: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a.replace("{out}", str(tmp_path / "out")) for a in verb]
    rc, err = run_cli([*argv, "--snapshot", str(SMALL), "--limit", "name=typo-*"], monkeypatch, capsys)
    assert rc == 2, err
    assert "E206" in err and "typo-*" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing written


def test_render_with_a_matching_limit_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    name = Snapshot.load(SMALL).devices[0].name
    rc, err = run_cli(["render", "--snapshot", str(SMALL), "--out", str(tmp_path / "o"), "--limit", name,
                       "--fake-secrets"], monkeypatch, capsys)
    assert rc in (0, 2) and "E206" not in err


# ---- the catch-all ----------------------------------------------------------------------------------------
def test_an_unexpected_exception_is_one_coded_line_and_a_private_traceback_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import campusnet.cli as cli

    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path / "state"))

    def boom() -> None:
        {}["missing-key"]  # a bug nobody caught

    monkeypatch.setattr(cli, "app", boom)
    rc, err = run_cli(["anything"], monkeypatch, capsys)
    assert rc == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "E999" in lines[0] and "KeyError" in lines[0] and "Traceback" not in err
    files = list((tmp_path / "state" / "errors").glob("*.txt"))
    assert len(files) == 1 and str(files[0]) in err.replace("\n", "")
    assert files[0].stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "state" / "errors").stat().st_mode & 0o777 == 0o700
    text = files[0].read_text()
    assert text.startswith("Traceback") and "missing-key" in text and "boom" in text


def test_coded_errors_and_exits_are_not_caught_as_unexpected(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import campusnet.cli as cli

    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path / "state"))

    def coded() -> None:
        raise CampusnetError("E206", "x")

    monkeypatch.setattr(cli, "app", coded)
    rc, err = run_cli([], monkeypatch, capsys)
    assert rc == 2 and "E206" in err and "E999" not in err and not (tmp_path / "state").exists()


# ---- branch operations without NetBox ---------------------------------------------------------------------
@pytest.mark.parametrize("op", ["get", "list", "create", "delete", "changes", "merge"])
def test_branch_operations_on_a_closed_port_are_coded(op: str) -> None:
    from campusnet import branching as br

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = NetBoxTarget(f"http://127.0.0.1:{port}", "nbt_abc.secret", "environment")
    b = br.Branch(1, "x", "abc", "ready")
    calls = {"get": lambda: br.get_branch(t, "x"), "list": lambda: br.list_branches(t),
             "create": lambda: br.create_branch(t, "x"), "delete": lambda: br.delete_branch(t, b),
             "changes": lambda: br.branch_changes(t, b), "merge": lambda: br.merge_branch(t, b)}
    with pytest.raises(CampusnetError) as exc:
        calls[op]()
    assert exc.value.code == "E118" and f"127.0.0.1:{port}" in str(exc.value) and "secret" not in str(exc.value)


# ---- the local NetBox: durable PostgreSQL, no password on a command line (section 6) ----------------------
class Recorder:
    """Stands in for subprocess.run / Popen: records every argv (``ps`` shows them to every user)."""

    def __init__(self, stdout: str = "") -> None:
        self.argvs: list[list[str]] = []
        self.stdins: list[str] = []
        self.stdout = stdout

    def run(self, argv, *a, **kw):  # type: ignore[no-untyped-def]
        import subprocess

        self.argvs.append([str(x) for x in argv])
        self.stdins.append(str(kw.get("input") or ""))
        out = self.stdout if kw.get("text") else self.stdout.encode()
        return subprocess.CompletedProcess(argv, 0, out, "" if kw.get("text") else b"")


def test_local_netbox_command_lines_carry_no_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from campusnet.localnb import postgres, redis, server

    pw = "S3cretPassw0rdXYZ"
    rec = Recorder(stdout=f'CAMPUSNET-TOKENS {{"automation": "nbt_{pw}"}}\n')
    monkeypatch.setattr(subprocess, "run", rec.run)
    monkeypatch.setattr(postgres, "_run_user", lambda: None)
    monkeypatch.setattr(postgres, "pg_bin", lambda tool: f"/usr/bin/{tool}")
    spawned: list[list[str]] = []
    monkeypatch.setattr(redis, "spawn", lambda argv, **kw: spawned.append([str(x) for x in argv]))
    monkeypatch.setattr(redis.Redis, "ping", lambda self: True)
    monkeypatch.setattr(redis.shutil, "which", lambda name: "/usr/bin/redis-server")

    pg = postgres.Postgres(tmp_path / "pg" / "data", tmp_path / "pg" / "run", tmp_path / "pg" / "log", 5999)
    pg.init(pw)
    pg.start()
    pg.ensure_database("netbox", "netbox", pw)
    pg.dump("netbox", tmp_path / "dump")
    (tmp_path / "dump").write_bytes(b"x")
    pg.restore("netbox", "netbox", tmp_path / "dump")
    r = redis.Redis(tmp_path / "redis", 6999, pw)
    r.start()
    srv = server.NetBoxServer(tmp_path / "nb", 8999)
    srv.secrets_dir.mkdir(parents=True)
    monkeypatch.setattr(server.NetBoxServer, "api_ok", lambda self, token: False)
    srv.ensure_users()

    argvs = rec.argvs + spawned
    assert len(argvs) >= 8
    for argv in argvs:
        assert not any(pw in a for a in argv), argv
    assert any(pw in s for s in rec.stdins)  # the password went on stdin
    conf = tmp_path / "redis" / "redis.conf"
    assert pw in conf.read_text() and conf.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "pg" / ".pwfile").exists()  # initdb's password file is gone after init


def test_postgres_runs_durable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from campusnet.localnb import postgres

    monkeypatch.setattr(postgres, "pg_bin", lambda tool: f"/usr/bin/{tool}")
    pg = postgres.Postgres(tmp_path / "d", tmp_path / "r", tmp_path / "l", 5999)
    opts = pg.start_argv()[pg.start_argv().index("-o") + 1]
    for setting in ("fsync", "synchronous_commit", "full_page_writes"):
        assert f"-c {setting}=on" in opts and f"{setting}=off" not in opts
    assert "--no-sync" not in pg.initdb_argv(tmp_path / "pw")


class _Fake:
    """Records calls; attributes given as keyword arguments answer them."""

    def __init__(self, calls: list[str], name: str, **answers: object) -> None:
        self._calls, self._name, self._answers = calls, name, answers

    def __getattr__(self, attr: str):  # type: ignore[no-untyped-def]
        if attr in ("port", "data_dir"):
            return 1 if attr == "port" else Path("/nonexistent")

        def call(*a: object, **kw: object) -> object:
            self._calls.append(f"{self._name}.{attr}")
            ans = self._answers.get(attr, True)
            return ans() if callable(ans) else ans
        return call


@pytest.mark.parametrize("web_running", [False, True])
def test_netbox_up_restarts_a_postgres_started_with_fsync_off(
        web_running: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An older campusnet started PostgreSQL with fsync off: `netbox up` restarts it durable when NetBox's
    web server is stopped (nothing holds connections), and only warns while NetBox serves."""
    import campusnet.localnb as localnb

    calls: list[str] = []
    durable = iter([False, True])
    pg = _Fake(calls, "pg", initialised=True, pid=123, durable=lambda: next(durable), ensure_database=False)
    srv = _Fake(calls, "srv", web_pid=456 if web_running else None, install=0.0,
                migrated_marker=lambda: tmp_path / "marker", root=tmp_path)
    (tmp_path / "marker").write_text(localnb.SCHEMA_KEY + "\n")
    monkeypatch.setattr(localnb.LocalNetBox, "postgres", property(lambda self: pg))
    monkeypatch.setattr(localnb.LocalNetBox, "server", property(lambda self: srv))
    monkeypatch.setattr(localnb.LocalNetBox, "redis", property(lambda self: _Fake(calls, "redis")))
    monkeypatch.setattr(localnb.LocalNetBox, "_write_state", lambda self: None)
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    logs: list[str] = []
    nb = localnb.LocalNetBox(tmp_path)
    monkeypatch.setattr(srv, "root", tmp_path, raising=False)
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / ".campusnet-collected").write_text(localnb.SCHEMA_KEY + "\n")
    nb.up(log=logs.append)
    if web_running:
        assert "pg.stop" not in calls and any("fsync off" in m for m in logs)
    else:
        assert calls.index("srv.stop") < calls.index("pg.stop") < calls.index("pg.start")
        assert any("restarting PostgreSQL" in m for m in logs)


def test_branch_changes_are_checked_against_count(monkeypatch: pytest.MonkeyPatch) -> None:
    from campusnet import branching as br

    def handler(req: httpx.Request) -> httpx.Response:  # NetBox says 3 changes and sends 2
        return httpx.Response(200, json={"count": 3, "next": None, "results": [{"id": 1}, {"id": 2}]})

    monkeypatch.setattr(br, "TRANSPORT", httpx.MockTransport(handler))
    with pytest.raises(CampusnetError) as exc:
        br.branch_changes(TARGET, br.Branch(7, "b", "abc", "ready"))
    assert exc.value.code == "E116" and "branch_id=7" in str(exc.value)


def test_tests_write_to_a_netbox_named_by_netbox_url_only_with_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("_conftest_copy", Path(__file__).parents[1] / "conftest.py")
    assert spec and spec.loader
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    monkeypatch.delenv("NETBOX_URL", raising=False)
    monkeypatch.delenv("NETBOX_TOKEN", raising=False)
    monkeypatch.delenv("CAMPUSNET_TESTS_MAY_WRITE", raising=False)
    assert conf.may_write() is None  # the local NetBox is the tests' own
    monkeypatch.setenv("NETBOX_URL", "https://netbox.example.edu")
    monkeypatch.setenv("NETBOX_TOKEN", "nbt_x.secret")
    why = conf.may_write()
    assert why and "https://netbox.example.edu" in why and "CAMPUSNET_TESTS_MAY_WRITE=1" in why
    assert "secret" not in why
    monkeypatch.setattr(conf, "ON_CI", False)
    with pytest.raises(pytest.skip.Exception):
        conf.require_write()
    monkeypatch.setattr(conf, "ON_CI", True)
    with pytest.raises(pytest.fail.Exception):
        conf.require_write()
    monkeypatch.setenv("CAMPUSNET_TESTS_MAY_WRITE", "1")
    assert conf.may_write() is None
    conf.require_write()


def test_the_catch_all_end_to_end(tmp_path: Path) -> None:
    """The real `campusnet` process: an exception nobody coded (render into a directory that cannot
    exist) is one line E999 and exit 2; the traceback is in the file it names."""
    import subprocess

    env = {**os.environ, "CAMPUSNET_STATE": str(tmp_path / "state"), "COLUMNS": "80"}
    r = subprocess.run([sys.executable, "-m", "campusnet", "render", "--snapshot", str(SMALL), "--out",
                        "/proc/campusnet-cannot-exist", "--fake-secrets"], capture_output=True, text=True,
                       env=env, timeout=120, check=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error E999: unexpected error "), r.stderr
    path = Path(lines[0].rsplit("(traceback: ", 1)[1].rstrip(")"))
    assert path.parent == tmp_path / "state" / "errors" and path.read_text().startswith("Traceback")
