"""netmiko vs. scrapli for the VRP / Comware drivers, measured on what this machine has: no real device, so a
tiny paramiko SSH server on 127.0.0.1 plays the recorded VRP device (tests/fixtures/vendor/huawei-vrp: the
same :class:`~campusnet.deploy.replay.ReplayDevice` the unit tests use) behind a real SSH shell with VRP
prompts (``<jpl-core-1>``, ``[~jpl-core-1]``, ``[~jpl-core-1-vlan101]``).

    .venv/bin/python -m benchmarks.transports [--rounds N]

Per library: import time and RSS after import (a fresh interpreter each), SSH connect (login, prompt,
paging off), ``display current-configuration`` (1,008 lines; how many each round read back), and a config
push — netmiko through the real driver (``HuaweiVrpDriver.apply``: remediation, ``commit trial 120``),
scrapli 2 through ``send_input`` of two lines in configuration mode. Figures only: nothing here asserts on
times.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paramiko

from campusnet.deploy.replay import ReplayDevice, ReplaySession, Transcript
from campusnet.errors import CampusnetError

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "tests" / "fixtures" / "vendor"
PREP = ("screen-length 0 temporary", "screen-width 255", "screen-width 512", "y", "")  # session set-up, answered ""


class _Server(paramiko.ServerInterface):  # type: ignore[misc]
    """Accepts any login (loopback only): the benchmark measures the transport, not authentication."""

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey"

    def check_auth_password(self, username: str, password: str) -> int:
        return int(paramiko.AUTH_SUCCESSFUL)

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        return int(paramiko.AUTH_SUCCESSFUL)

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return int(paramiko.OPEN_SUCCEEDED)

    def check_channel_pty_request(self, *args: Any) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        return True


def _prompt(s: ReplaySession) -> str:
    views = s._views  # the replayer's view stack: [] user view, ["system", sections…]
    host = s.device
    if not views:
        return f"<{host}>"
    if len(views) == 1:
        return f"[~{host}]"
    return f"[~{host}-{views[-1].split()[0]}{''.join(views[-1].split()[1:2])}]"


def _shell(chan: paramiko.Channel, s: ReplaySession) -> None:
    """A line-mode VRP shell: echo, answer from the replayer, print the prompt (not after a [Y/N] question)."""
    chan.sendall(b"\r\nInfo: The max number of VTY users is 21.\r\n" + _prompt(s).encode())
    buf = b""
    while True:
        data = chan.recv(65536)
        if not data:
            return
        chan.sendall(data.replace(b"\n", b"\r\n"))  # echo
        buf += data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            cmd = line.decode(errors="replace").strip()
            if cmd in ("exit", "quit") and not s._views:
                chan.close()
                return
            try:
                reply = "" if cmd in PREP else s.send(cmd)
            except CampusnetError:
                reply = "Error: Unrecognized command found at '^' position."
            text = reply.replace("\n", "\r\n")
            tail = "" if reply.rstrip().endswith("]:") else _prompt(s)
            chan.sendall(("\r\n" + text + ("\r\n" if text and not text.endswith("\n") else "") + tail).encode())


def serve(dev: ReplayDevice) -> tuple[int, threading.Event]:
    """An SSH server on 127.0.0.1 (a free port), one thread per connection, each a session to ``dev``."""
    key = paramiko.RSAKey.generate(2048)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    stop = threading.Event()

    def one(client: socket.socket) -> None:
        t = paramiko.Transport(client)
        t.add_server_key(key)
        t.start_server(server=_Server())
        chan = t.accept(20)
        if chan is None:
            return
        s = dev.session()
        s.open()
        try:
            _shell(chan, s)
        except (OSError, EOFError):
            pass
        finally:
            t.close()

    def loop() -> None:
        sock.settimeout(0.5)
        while not stop.is_set():
            try:
                client, _ = sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=one, args=(client,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return int(sock.getsockname()[1]), stop


def import_cost(module: str) -> dict[str, float]:
    """Seconds to import ``module`` and the interpreter's max RSS after it (MiB), in a fresh interpreter."""
    code = ("import time, resource; t = time.perf_counter(); import " + module + "; d = time.perf_counter() - t; "
            "print(d, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    base = subprocess.run([sys.executable, "-c", "import resource; print(0, resource.getrusage("
                           "resource.RUSAGE_SELF).ru_maxrss / 1024)"], capture_output=True, text=True, check=True)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, rss = (float(x) for x in out.stdout.split())
    return {"import_s": round(seconds, 3), "rss_mib": round(rss, 1),
            "rss_over_bare_mib": round(rss - float(base.stdout.split()[1]), 1)}


def bench_netmiko(port: int, dev: ReplayDevice) -> dict[str, float]:
    from campusnet.deploy.drivers.cli import NetmikoSession
    from campusnet.deploy.drivers.huawei_vrp import HuaweiVrpDriver
    from campusnet.deploy.production import production_targets
    from campusnet.deploy.transport import Credentials
    from campusnet.pipeline import Pipeline

    pipe = Pipeline.load(snapshot=ROOT / "tests" / "fixtures" / "snapshots" / "campus.json")
    target = production_targets(pipe.intents, ["jpl-core-1"], lambda name: "campusnet-fixture")["jpl-core-1"]
    key = Path(tempfile.mkdtemp(prefix="campusnet-bench")) / "id_rsa"  # the server accepts any key
    paramiko.RSAKey.generate(2048).write_private_key_file(str(key))
    creds = Credentials("bench", key, None, accept_new=True)
    s = NetmikoSession("jpl-core-1", "127.0.0.1", creds, "huawei_vrpv8", port=port)
    t0 = time.perf_counter()
    s.open()
    connect = time.perf_counter() - t0
    drv = HuaweiVrpDriver()
    t0 = time.perf_counter()
    text = drv.running(s)
    show = time.perf_counter() - t0
    t0 = time.perf_counter()
    drv.apply(s, target.files, target, confirm_timeout=120)
    push = time.perf_counter() - t0
    s.close()
    return {"connect_s": round(connect, 3), "show_running_s": round(show, 3), "push_s": round(push, 3),
            "show_lines": len(text.splitlines())}


def bench_scrapli(port: int) -> dict[str, float]:
    from scrapli import AuthOptions, Cli
    from scrapli.transport import BinOptions

    cli = Cli(host="127.0.0.1", port=port, definition_file_or_name="huawei_vrp",
              auth_options=AuthOptions(username="bench", password="bench"),  # noqa: S106 - loopback benchmark
              transport_options=BinOptions(enable_strict_key=False))
    t0 = time.perf_counter()
    cli.open()
    connect = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = cli.send_input("display current-configuration")
    show = time.perf_counter() - t0
    t0 = time.perf_counter()
    for line in ("ntp-service unicast-server 10.30.30.11", "commit trial 120"):
        cli.send_input(line, requested_mode="configuration")
    push = time.perf_counter() - t0
    cli.close()
    return {"connect_s": round(connect, 3), "show_running_s": round(show, 3), "push_s": round(push, 3),
            "show_lines": len(str(res.result).splitlines())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.transports")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    results: dict[str, Any] = {"netmiko": import_cost("netmiko"), "scrapli": import_cost("scrapli.cli")}
    for lib in ("netmiko", "scrapli"):
        runs: list[dict[str, float]] = []
        for _ in range(args.rounds):
            dev = ReplayDevice(Transcript.load(VENDOR / "huawei-vrp"))
            port, stop = serve(dev)
            try:
                runs.append(bench_netmiko(port, dev) if lib == "netmiko" else bench_scrapli(port))
            except Exception as exc:  # noqa: BLE001 - a library that cannot do the flow is a finding
                results[lib]["error"] = f"{type(exc).__name__}: {exc}"[:300]
                break
            finally:
                stop.set()
        for k in ("connect_s", "show_running_s", "push_s"):
            if runs:
                results[lib][k] = round(statistics.median(r[k] for r in runs), 3)
        # lines of `display current-configuration` read per round (the device prints 1,008; fewer: cut short)
        results[lib]["show_lines"] = [r["show_lines"] for r in runs]
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
