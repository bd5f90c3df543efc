"""pyATS connections to the lab: a testbed generated from NetBox, one Unicon session per node.

``campusnet verify --via pyats`` collects through these (:func:`collect_pyats`; the default, ``--via ssh``,
is ~2x faster on a 2-core controller: docs/benchmarks.md): every
node's Unicon session is opened at once (threads), and each runs the node's whole batch
(:func:`campusnet.verify.collect.batch_script`) with ONE ``device.execute()``, then disconnects with the
zero-wait settings. The batch's printout travels gzip'd and base64'd on one line
(:func:`pyats_command`): an interactive shell's output is matched against Unicon's loose Linux prompt
pattern, and JSON ending in ``]`` or a config line ending in ``#`` would end the read early; base64 has
none of the prompt characters. ``--via ssh`` runs the same batch over a plain paramiko exec instead.

Credentials come from the lab's state directory (key pair written by ``campusnet lab up``, 0600), never
from the repository. The testbed is written to ``<state>/verify/testbed.yaml`` for people who want to
use it with pyATS directly (it holds paths to keys, not keys).

Each session's transcript (Unicon's log: every command and its output, running configurations included)
goes to ``<verify out>/sessions/<node>.log`` — one file per node, the last run's, in a 0700 directory —
never to Unicon's default of a new world-readable file in /tmp per connection.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import os
import secrets
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campusnet import settings
from campusnet.errors import CampusnetError
from campusnet.lab.plan import LabPlan
from campusnet.private import private_dir
from campusnet.verify.collect import COMMAND_TIMEOUT, NodeState, batch_script, parse_batch_output, write_transcripts

if TYPE_CHECKING:
    from campusnet.deploy.transport import Connection

PYATS_SETTINGS = {
    "POST_DISCONNECT_WAIT_SEC": 0,
    "GRACEFUL_DISCONNECT_WAIT_SEC": 0,
    "LINUX_INIT_EXEC_COMMANDS": ["bind 'set enable-bracketed-paste off' 2>/dev/null", "export TERM=dumb",
                                 "stty cols 4096 2>/dev/null"],
}


def ssh_dir() -> Path:
    return settings.state_dir() / "lab" / "ssh"


def testbed_dict(plan: LabPlan, nodes: list[str] | None = None) -> dict[str, Any]:
    key = ssh_dir() / "id_ed25519"
    kh = ssh_dir() / "known_hosts"
    if not key.exists():
        raise CampusnetError("E430", f"no lab SSH key at {key}: is the lab up? (`campusnet lab up`)")
    opts = (f"-i {key} -o IdentitiesOnly=yes -o UserKnownHostsFile={kh} -o StrictHostKeyChecking=yes "
            "-o ConnectTimeout=10 -o LogLevel=ERROR")
    devices: dict[str, Any] = {}
    for n in plan.nodes:
        if nodes is not None and n.name not in nodes:
            continue
        devices[n.name] = {
            "os": "linux",
            "type": "linux",
            "platform": "linux",
            "credentials": {"default": {"username": "root", "password": ""}},
            "custom": {"netbox_devices": list(n.devices), "kind": n.kind},
            "connections": {
                "defaults": {"class": "unicon.Unicon", "via": "cli"},
                "cli": {"protocol": "ssh", "ip": n.mgmt_address, "ssh_options": opts,
                        "settings": dict(PYATS_SETTINGS), "arguments": {"learn_hostname": False,
                                                                        "connection_timeout": 20}},
            },
        }
    return {"testbed": {"name": "campusnet-lab"}, "devices": devices}


@dataclass
class LabSessions:
    """pyATS devices, connected lazily and in parallel; ``run`` caches outputs per (node, command)."""

    plan: LabPlan
    log_dir: Path | None = None  # session transcripts; default <state>/verify/sessions
    testbed: Any = None
    _cache: dict[tuple[str, str], str] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def connect(self, nodes: list[str]) -> None:
        from genie.testbed import load

        self.testbed = load(testbed_dict(self.plan))
        for n in nodes:
            self._locks.setdefault(n, threading.Lock())
        logs = self.session_log_dir()

        def one(name: str) -> None:
            dev = self.testbed.devices[name]
            log = logs / f"{name}.log"
            log.unlink(missing_ok=True)  # the last run's transcript only
            try:
                dev.connect(log_stdout=False, learn_hostname=False, init_config_commands=[],
                            connection_timeout=20, mit=True, logfile=str(log))
            except Exception as exc:  # noqa: BLE001 - recorded per node, reported by each check
                self.errors[name] = f"{type(exc).__name__}: {exc}"
            if log.exists():
                log.chmod(0o600)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(one, nodes))

    def session_log_dir(self) -> Path:
        return private_dir(self.log_dir or settings.state_dir() / "verify" / "sessions")

    def run(self, node: str, command: str, *, cache: bool = True) -> str:
        if node in self.errors:
            raise CampusnetError("E431", f"no pyATS session: {self.errors[node]}", obj=f"node {node}")
        key = (node, command)
        if cache and key in self._cache:
            return self._cache[key]
        lock = self._locks.setdefault(node, threading.Lock())
        with lock:
            out = str(self.testbed.devices[node].execute(command, timeout=60))
        self._cache[key] = out
        return out

    def close(self) -> None:
        if self.testbed is None:
            return
        for dev in self.testbed.devices.values():
            try:
                if dev.is_connected():
                    dev.disconnect()
            except Exception:  # noqa: BLE001, S110 - closing is best effort
                pass


class PyatsConnection:
    """Adapter: the deploy driver's connection interface over a pyATS session (for the drift check)."""

    def __init__(self, sessions: LabSessions, node: str):
        self.sessions = sessions
        self.device = node

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def run(self, command: str, *, check: bool = False, timeout: float = 120.0, stdin: str | None = None) -> Any:
        from campusnet.deploy.transport import CommandResult

        if stdin is not None:
            marker = "CN_EOF_7f3a"
            command = f"{command} <<'{marker}'\n{stdin}{'' if stdin.endswith(chr(10)) else chr(10)}{marker}"
        out = self.sessions.run(self.device, f"{command}; echo __cn_rc=$?", cache=False)
        rc = 0
        lines = out.splitlines()
        for i in range(len(lines) - 1, -1, -1):
            if lines[i].startswith("__cn_rc="):
                rc = int(lines[i].split("=", 1)[1] or 0)
                lines = lines[:i]
                break
        res = CommandResult(command, rc, "\n".join(lines) + "\n", "")
        if check and rc != 0:
            raise CampusnetError("E413", f"`{command}` exited {rc}: {res.stdout.strip()[-800:]}",
                                 obj=f"device {self.device}")
        return res

    def put(self, text: str, path: str, mode: int = 0o600) -> None:
        self.run(f"umask 077; cat > {path} && chmod {mode:o} {path}", stdin=text, check=True)


def pyats_command(script: str, mark: str) -> str:
    """The batch as ONE shell line for ``device.execute()``: the script travels gzip'd and base64'd (a ~5 KB
    script becomes ~1 KB: no multi-line input for the prompt to answer between lines), and its printout comes
    back the same way between two ``mark`` lines. The marks are echoed from two quoted halves, so the echoed
    command line never contains them; and the line has no prompt character (``> $ % ~ # ]``), so a read
    that stops mid-echo cannot look like a prompt."""
    blob = base64.b64encode(gzip.compress(("exec 2>&1\n" + script).encode(), 9)).decode()
    a, b = mark[:4], mark[4:]
    return (f"echo '{a}''{b} begin'; echo {blob} | base64 -d | gunzip | sh | gzip -1 | base64 -w0; echo; "
            f"echo '{a}''{b} end'")


def decode_pyats_output(node: str, commands: list[str], boundary: str, mark: str, text: str
                        ) -> dict[str, dict[str, Any]]:
    """``device.execute()``'s text → ``{command: {"rc", "out", "err"}}`` (the parser of the ssh path)."""
    text = text.replace("\r", "")
    begin, end = text.find(f"{mark} begin\n"), text.find(f"\n{mark} end")
    if begin < 0 or end < begin:
        tail = text.strip()[-300:] or "(nothing)"
        raise CampusnetError("E434", f"the batch's printout is cut short (no {'begin' if begin < 0 else 'end'} "
                             f"line): {tail}", obj=f"node {node}", field="stdout")
    payload = "".join(text[begin + len(mark) + 7:end].split())
    try:
        raw = gzip.decompress(base64.b64decode(payload, validate=True))
    except (binascii.Error, OSError, EOFError, zlib.error) as exc:
        raise CampusnetError("E437", f"the batch's printout through pyATS is not gzip+base64 "
                             f"({type(exc).__name__}: {exc}); {len(payload)} characters received",
                             obj=f"node {node}", field="stdout") from exc
    return parse_batch_output(node, commands, boundary, raw.decode("utf-8", errors="replace"))


class _KeptConnection(PyatsConnection):
    """The drift check's way back to a node for a read the batch did not have: the session is closed after
    the batch (closing 14 kept sessions one after the other cost 1.8 s) and opened again on such a read."""

    def close(self) -> None:
        self.sessions.close()


def _private_log(path: Path) -> Path:
    """Unicon appends to ``logfile``: create it 0600 first (its default is a 0666 file in /tmp)."""
    path.unlink(missing_ok=True)  # the last run's transcript only
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    return path


def collect_pyats(plan: LabPlan, commands: dict[str, list[str]], *, log_dir: Path | None = None,
                  workers: int = 32, keep_open: frozenset[str] = frozenset()
                  ) -> tuple[dict[str, NodeState], dict[str, Connection]]:
    """Every node's batch through its own Unicon session, all at once: connect, one ``execute()``,
    disconnect (zero-wait settings). Unicon's own transcript goes to ``<log_dir>/<node>.unicon.log`` (0600);
    the decoded batch to ``<node>.log`` / ``<node>.json`` as on the ssh path."""
    from genie.testbed import load

    testbed = load(testbed_dict(plan, nodes=sorted(commands)))
    logs = private_dir(log_dir or settings.state_dir() / "verify" / "sessions")
    states: dict[str, NodeState] = {}
    conns: dict[str, Connection] = {}

    def one(node: str) -> None:
        t = time.monotonic()
        dev = testbed.devices[node]
        connect_kw = {"log_stdout": False, "learn_hostname": False, "init_exec_commands": [],
                      "init_config_commands": [], "connection_timeout": 20,
                      "logfile": str(_private_log(logs / f"{node}.unicon.log"))}
        try:
            # no init commands (LINUX_INIT_EXEC_COMMANDS: 3 prompt round trips, ~0.65 s per node): the batch's
            # printout is base64 between marks, so escape codes and line wrapping cannot touch it
            dev.connect(**connect_kw)
            boundary, mark = "@@cn-" + secrets.token_hex(8), "@@cn" + secrets.token_hex(6)
            text = dev.execute(pyats_command(batch_script(commands[node], boundary), mark),
                               timeout=COMMAND_TIMEOUT + 30)
            state = NodeState(node, decode_pyats_output(node, commands[node], boundary, mark, str(text)))
            if node in keep_open:
                conns[node] = _KeptConnection(_OneDevice(plan, dev, connect_kw), node)  # type: ignore[assignment]
        except CampusnetError as exc:
            state = NodeState(node, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - one node's failure is reported by its checks, not a traceback
            state = NodeState(node, error=f"{type(exc).__name__}: {exc}")
        state.seconds = round(time.monotonic() - t, 3)
        states[node] = state
        _disconnect(dev)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(commands)))) as pool:
        list(pool.map(one, sorted(commands)))
    write_transcripts(logs, states)
    return states, conns


def _disconnect(dev: Any) -> None:
    try:
        if dev.is_connected():
            dev.disconnect()
    except Exception:  # noqa: BLE001, S110 - closing is best effort
        pass


class _OneDevice(LabSessions):
    """:class:`LabSessions` over one device, (re)connected on its first command."""

    def __init__(self, plan: LabPlan, dev: Any, connect_kw: dict[str, Any]):
        super().__init__(plan)
        self.testbed = type("_Testbed", (), {"devices": {dev.name: dev}})()
        self.connect_kw = connect_kw

    def run(self, node: str, command: str, *, cache: bool = True) -> str:
        dev = self.testbed.devices[node]
        if not dev.is_connected():
            dev.connect(**self.connect_kw)
        return super().run(node, command, cache=cache)

    def close(self) -> None:
        for dev in self.testbed.devices.values():
            _disconnect(dev)
