"""pyATS connections to the lab: a testbed generated from NetBox, one SSH session per node.

``campusnet verify`` no longer collects through these (:mod:`campusnet.verify.collect`: one SSH batch per
node — Unicon's session setup and prompt round trips were most of verify's time); they stay for people
who drive the lab with pyATS/Genie directly.

Credentials come from the lab's state directory (key pair written by ``campusnet lab up``, 0600), never
from the repository. The testbed is written to ``<state>/verify/testbed.yaml`` for people who want to
use it with pyATS directly (it holds paths to keys, not keys).

Each session's transcript (Unicon's log: every command and its output, running configurations included)
goes to ``<verify out>/sessions/<node>.log`` — one file per node, the last run's, in a 0700 directory —
never to Unicon's default of a new world-readable file in /tmp per connection.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from campusnet import settings
from campusnet.errors import CampusnetError
from campusnet.lab.plan import LabPlan
from campusnet.private import private_dir

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


def write_testbed(plan: LabPlan) -> Path:
    path = settings.state_dir() / "verify" / "testbed.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(testbed_dict(plan), sort_keys=False))
    return path


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
