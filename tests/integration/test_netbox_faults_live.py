"""NetBox faults against the real NetBox (issue 9 section 5, and the drill "stop NetBox during render and
during check-change").

A small TCP proxy on 127.0.0.1 stands between campusnet and the real NetBox: it drops a connection or
answers 503 where a test asks for it, and tells the drill when a read has begun. The unit twins (mock
transports) are in tests/unit/test_netbox_faults.py.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from campusnet.settings import NetBoxTarget
from campusnet.sot.reader import Fetcher

pytestmark = pytest.mark.integration


class Proxy:
    """A TCP proxy to ``upstream``. Each new connection takes the next fault from ``faults``:
    ``"drop"`` (accept, then close without a word) or ``"503"`` (read the request, answer 503, close);
    with no fault left it forwards. ``reading`` is set when a request for ``trigger`` passes."""

    def __init__(self, upstream: str, faults: list[str] | None = None, trigger: bytes = b"GET /api/dcim/") -> None:
        u = urlparse(upstream)
        self.upstream = (u.hostname or "127.0.0.1", u.port or 80)
        self.faults = list(faults or [])
        self.trigger = trigger
        self.reading = threading.Event()
        self.served: list[str] = []
        self.is_cut = False
        self._live: list[socket.socket] = []
        self._lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.sock.close()

    def cut(self) -> None:
        """NetBox unreachable from now on: every open connection closed, every new one refused."""
        with self._lock:
            self.is_cut = True
            live, self._live = self._live, []
        for s in live:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                fault = "drop" if self.is_cut else self.faults.pop(0) if self.faults else "forward"
                self.served.append(fault)
                self._live.append(conn)
            threading.Thread(target=self._handle, args=(conn, fault), daemon=True).start()

    def _handle(self, conn: socket.socket, fault: str) -> None:
        with conn:
            if fault == "drop":
                return
            if fault == "503":
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: 11\r\nConnection: close\r\n\r\nunavailable")
                return
            try:
                up = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                return  # NetBox is down: the client sees the connection closed
            up.settimeout(None)
            with up:
                t = threading.Thread(target=self._pump, args=(up, conn, False), daemon=True)
                t.start()
                self._pump(conn, up, True)
                t.join(timeout=600)

    def _pump(self, src: socket.socket, dst: socket.socket, watch: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if watch and self.trigger in data:
                    self.reading.set()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (dst, src):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxy_factory(netbox_up: NetBoxTarget) -> Iterator[type[Proxy]]:
    made: list[Proxy] = []

    class _P(Proxy):
        def __init__(self, faults: list[str] | None = None, trigger: bytes = b"GET /api/dcim/") -> None:
            super().__init__(netbox_up.url, faults, trigger)
            made.append(self)

    yield _P
    for p in made:
        p.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "campusnet", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)


def env_for(url: str, token: str, state: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETBOX_")}
    return env | {"NETBOX_URL": url, "NETBOX_TOKEN": token, "CAMPUSNET_STATE": str(state),
                  "CAMPUSNET_NETBOX_BACKOFF": "0.2", "COLUMNS": "200"} | extra


def one_coded_line(stderr: str, code: str) -> str:
    """The single error line; no traceback anywhere."""
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip().startswith("error ")]
    assert len(lines) == 1 and f"error {code}:" in lines[0], stderr
    return lines[0]


# ---- retries against the real NetBox ------------------------------------------------------------------------
def test_a_dropped_connection_and_a_503_are_retried(proxy_factory: type[Proxy], netbox_up: NetBoxTarget) -> None:
    names = ["devices", "interfaces", "cables", "ip_addresses"]
    with Fetcher(netbox_up) as f:
        direct = f.list_all(names)
    p = proxy_factory(["drop", "503"])
    via = NetBoxTarget(p.url, netbox_up.token, "environment")
    with Fetcher(via, workers=1) as f:
        f.get("/api/status/")
        got = f.list_all(names)
    assert p.served[:2] == ["drop", "503"] and f.retries == 2
    for name in names:
        assert sorted(r["id"] for r in got[name]) == sorted(r["id"] for r in direct[name]), name


def test_a_netbox_that_keeps_answering_503_is_E113_from_the_cli(proxy_factory: type[Proxy],
                                                               netbox_up: NetBoxTarget, tmp_path: Path) -> None:
    p = proxy_factory(["503"] * 20)
    r = cli(["snapshot", "--out", str(tmp_path / "snap.json")], env_for(p.url, netbox_up.token, tmp_path / "st"))
    assert r.returncode == 2
    line = one_coded_line(r.stderr, "E113")
    assert "HTTP 503" in line and "after 4 tries" in line and netbox_up.token not in r.stderr
    assert not (tmp_path / "snap.json").exists()


# ---- a NetBox that is not there -------------------------------------------------------------------------------
@pytest.mark.parametrize("verb", [["snapshot", "--out", "{tmp}/snap.json"], ["render", "--out", "{tmp}/out"],
                                  ["validate"]])
def test_connection_refused_is_E110_exit_2(verb: list[str], tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    t0 = time.monotonic()
    r = cli([a.replace("{tmp}", str(tmp_path)) for a in verb], env_for(url, "nbt_x.not-a-secret", tmp_path / "st"))
    assert r.returncode == 2
    line = one_coded_line(r.stderr, "E110")
    assert url in line and "ConnectError" in line and "after 4 tries" in line
    assert time.monotonic() - t0 < 60  # bounded: 0.2 + 0.4 + 0.8 s of backoff
    assert not (tmp_path / "out").exists() and not (tmp_path / "snap.json").exists()


def test_branch_operations_without_netbox_are_E118(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    r = cli(["check-change", "--branch", "anything", "--out", str(tmp_path / "cc")],
            env_for(url, "nbt_x.not-a-secret", tmp_path / "st"))
    assert r.returncode == 2
    line = one_coded_line(r.stderr, "E118")
    assert url in line and "branch" in line
    assert not (tmp_path / "cc").exists()


def test_limit_matching_nothing_in_netbox_is_E206(netbox_up: NetBoxTarget, tmp_path: Path) -> None:
    """A --limit that selects none of NetBox's devices: E206, exit 2, no snapshot file (not "0 devices")."""
    r = cli(["snapshot", "--out", str(tmp_path / "snap.json"), "--limit", "name=no-such-device-*"],
            env_for(netbox_up.url, netbox_up.token, tmp_path / "st"))
    assert r.returncode == 2
    line = one_coded_line(r.stderr, "E206")
    assert "no-such-device-*" in line and "matches no device" in line
    assert not (tmp_path / "snap.json").exists()


# ---- the drill: stop NetBox during render and during check-change -----------------------------------------
def _interrupted(args: list[str], proxy: Proxy, token: str, state: Path, stop: Callable[[], None],
                 start: Callable[[], None]) -> subprocess.CompletedProcess[str]:
    """Run ``campusnet ARGS`` through ``proxy``; ``stop`` NetBox as soon as the read has begun, ``start``
    it again in any case."""
    proc = subprocess.Popen([sys.executable, "-m", "campusnet", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env_for(proxy.url, token, state))
    try:
        assert proxy.reading.wait(120), "the command never began to read NetBox"
        stop()
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        start()
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def _drill(args: list[str], proxy: Proxy, token: str, state: Path) -> subprocess.CompletedProcess[str]:
    """The local NetBox's web server (gunicorn only: the RQ worker, PostgreSQL and Redis stay) stopped
    as soon as the read has begun, and started again at once (the machine is shared)."""
    from campusnet.localnb import LocalNetBox

    srv = LocalNetBox.load().server

    def stop() -> None:
        assert srv.stop_web(), "gunicorn was not running"

    return _interrupted(args, proxy, token, state, stop, srv.start)


def test_netbox_unreachable_mid_read_render_and_check_change(netbox: NetBoxTarget, proxy_factory: type[Proxy],
                                                             tmp_path: Path) -> None:
    """The drill's cheap twin, safe to run any time: the proxy cuts NetBox off mid-read (NetBox itself
    keeps running). Same outcome: one coded line E110, exit 2, no traceback, no file written."""
    from campusnet.branching import create_branch, delete_branch, get_branch

    out = tmp_path / "out"
    p = proxy_factory()
    r = _interrupted(["render", "--out", str(out), "--fake-secrets"], p, netbox.token, tmp_path / "st",
                     p.cut, lambda: None)
    assert r.returncode == 2, r.stdout + r.stderr
    one_coded_line(r.stderr, "E110")
    assert not out.exists() or not any(x.is_file() for x in out.rglob("*")), "render wrote files"

    name = f"cn-cut-{uuid.uuid4().hex[:6]}"
    b = create_branch(netbox, name, "campusnet test: NetBox cut off during check-change (deleted afterwards)")
    try:
        cc = tmp_path / "cc"
        p = proxy_factory()
        r = _interrupted(["check-change", "--branch", name, "--out", str(cc), "--quiet"], p, netbox.token,
                         tmp_path / "st", p.cut, lambda: None)
        assert r.returncode == 2, r.stdout + r.stderr
        one_coded_line(r.stderr, "E110")
        assert not cc.exists() or not any(x.is_file() for x in cc.rglob("*")), "check-change wrote files"
    finally:
        delete_branch(netbox, get_branch(netbox, name) or b)


def test_drill_stop_netbox_during_render_and_check_change(netbox: NetBoxTarget, proxy_factory: type[Proxy],
                                                          tmp_path: Path) -> None:
    """Render and check-change each stop with one coded line (E110), exit 2, no traceback and no file
    written, when NetBox's web server goes away mid-read; NetBox answers again afterwards."""
    if netbox.source != "local":
        pytest.skip("the drill stops the local NetBox's web server")
    from campusnet.branching import create_branch, delete_branch, get_branch
    from campusnet.localnb import LocalNetBox

    out = tmp_path / "out"
    r = _drill(["render", "--out", str(out), "--fake-secrets"], proxy_factory(), netbox.token, tmp_path / "st")
    assert r.returncode == 2, r.stdout + r.stderr
    line = one_coded_line(r.stderr, "E110")
    assert "/api/" in line
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*")), "render wrote files"
    assert LocalNetBox.load().server.answering()

    name = f"cn-drill-{uuid.uuid4().hex[:6]}"
    b = create_branch(netbox, name, "campusnet drill: NetBox stopped during check-change (deleted afterwards)")
    try:
        cc = tmp_path / "cc"
        r = _drill(["check-change", "--branch", name, "--out", str(cc), "--quiet"], proxy_factory(),
                   netbox.token, tmp_path / "st")
        assert r.returncode == 2, r.stdout + r.stderr
        one_coded_line(r.stderr, "E110")
        assert not cc.exists() or not any(p.is_file() for p in cc.rglob("*")), "check-change wrote files"
    finally:
        cur = get_branch(netbox, name) or b
        delete_branch(netbox, cur)
    assert LocalNetBox.load().server.answering()
