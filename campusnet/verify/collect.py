"""Collect once per node: one SSH exec per node runs every show command of that node in one batch.

Where verify's time went (reference lab, 106 checks, 44-47 s): a pyATS/Unicon session per node (~6 s to
open 20, ~2.6 s to close them), then one prompt round trip per command (~0.2 s each, checks run one after
the other under pytest), the drift check's six reads per node through the same prompt, and three pings per
reachability check at 0.2 s intervals, one check at a time.

Now each node gets one SSH exec (paramiko, the deploy transport: same key, same host-key checks) of a
shell script (:func:`batch_script`) that runs the node's commands concurrently (pings with a deadline) and
prints each one's exit code and output between random boundary lines; that becomes one JSON document per
node (``sessions/<node>.json``, the format of the recorded fixtures in tests/fixtures/verify/)::

    {"node": "...", "seconds": 0.4, "error": null, "commands": {"<command>": {"rc": 0, "out": "...", "err": ""}}}

Every node is collected at once (threads). The checks then judge that state in-process
(:mod:`campusnet.verify.checks`); the drift check replays the driver's reads from it
(:class:`ReplayConnection`).

Each node's transcript (every command and its output, running configurations included) goes to
``<verify out>/sessions/<node>.log`` and the raw batch to ``sessions/<node>.json`` (0600, in a 0700
directory): the last run's only.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campusnet.errors import CampusnetError
from campusnet.private import private_dir, write_private

if TYPE_CHECKING:
    from campusnet.deploy.transport import CommandResult, Connection
    from campusnet.lab.plan import LabPlan

#: per-command limit on the node (a ping has its own, shorter deadline)
COMMAND_TIMEOUT = 30


def batch_script(commands: list[str], boundary: str, timeout: int = COMMAND_TIMEOUT) -> str:
    """The shell script of one node's batch: every command in the background (with a time limit), then each
    one's exit code, stdout and stderr between ``boundary`` lines. POSIX sh and coreutils only (no Python on
    the node: its start-up alone cost ~0.1 s of CPU per node on this 2-core machine)."""
    lines = ['T=$(mktemp -d /tmp/cn-verify.XXXXXX) || exit 70', "trap 'rm -rf \"$T\"' EXIT"]
    for i, c in enumerate(commands):
        lines.append(f'{{ timeout {timeout} sh -c {shlex.quote(c)} >"$T/{i}.o" 2>"$T/{i}.e" </dev/null; '
                     f'echo $? >"$T/{i}.r"; }} &')
    lines.append("wait")
    for i in range(len(commands)):
        lines.append(f'printf \'\\n%s out {i} %s\\n\' {boundary} "$(cat "$T/{i}.r")"; cat "$T/{i}.o"; '
                     f'printf \'\\n%s err {i}\\n\' {boundary}; cat "$T/{i}.e"')
    lines.append(f"printf '\\n%s end\\n' {boundary}")
    return "\n".join(lines) + "\n"


def parse_batch_output(node: str, commands: list[str], boundary: str, stdout: str) -> dict[str, dict[str, Any]]:
    """The batch's printout → ``{command: {"rc", "out", "err"}}``. The boundary is random per run, so no
    command's output can forge a section."""
    parts = re.split(rf"\n{re.escape(boundary)} (out \d+ -?\d*|err \d+|end)\n", "\n" + stdout)
    if len(parts) < 2 or parts[-2] != "end":
        raise CampusnetError("E434", f"the batch's printout is cut short: {stdout.strip()[-300:] or '(nothing)'}",
                             obj=f"node {node}", field="stdout")
    out: dict[str, dict[str, Any]] = {}
    for tag, body in zip(parts[1::2], parts[2::2], strict=False):
        words = tag.split()
        if words[0] == "end":
            break
        cmd = commands[int(words[1])]
        if words[0] == "out":
            out[cmd] = {"rc": int(words[2]) if len(words) > 2 and words[2] else 255, "out": body, "err": ""}
        else:
            out.setdefault(cmd, {"rc": 255, "out": ""})["err"] = body
    missing = [c for c in commands if c not in out]
    if missing:
        raise CampusnetError("E434", f"the batch's printout lacks {len(missing)} command(s), first `{missing[0]}`",
                             obj=f"node {node}", field="stdout")
    return out


@dataclass
class NodeState:
    """What one node's batch returned: each command's exit code and output (or why there is none)."""

    node: str
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0  # wall time of the node's collection, connection included

    def output(self, command: str) -> str:
        if self.error is not None:
            raise CampusnetError("E432", f"could not collect the node's state: {self.error}", obj=f"node {self.node}")
        if command not in self.commands:
            raise CampusnetError("E433", f"`{command}` is not in the node's batch (a verify bug: the batch is "
                                 "built from the same expectations)", obj=f"node {self.node}", field="command")
        return str(self.commands[command].get("out", ""))

    @classmethod
    def from_batch(cls, node: str, data: dict[str, Any]) -> NodeState:
        """A recorded or received batch document (see the module docstring)."""
        cmds = data.get("commands")
        if not isinstance(cmds, dict):
            raise CampusnetError("E434", "the batch output has no 'commands' object", obj=f"node {node}",
                                 field="commands")
        return cls(node, {str(k): dict(v) for k, v in cmds.items()}, None, float(data.get("seconds") or 0.0))


def _connect(plan: LabPlan, node: str) -> Connection:
    from campusnet.deploy.transport import Connection, Credentials

    return Connection(node, plan.node(node).mgmt_address, Credentials.from_environment(), timeout=8.0, retries=2)


def collect_node(plan: LabPlan, node: str, commands: list[str], *, keep_open: bool = False
                 ) -> tuple[NodeState, Connection | None]:
    """One SSH exec on ``node``. ``keep_open``: hand the connection back (the drift check may need a read the
    batch did not have)."""
    t = time.monotonic()
    conn: Connection | None = None
    try:
        conn = _connect(plan, node)
        boundary = "@@cn-" + secrets.token_hex(8)
        r = conn.run(batch_script(commands, boundary), timeout=COMMAND_TIMEOUT + 30)
        if r.rc != 0:
            raise CampusnetError("E434", f"the batch exited {r.rc}: {(r.stderr or r.stdout).strip()[-300:]}",
                                 obj=f"node {node}")
        state = NodeState(node, parse_batch_output(node, commands, boundary, r.stdout))
    except CampusnetError as exc:
        state = NodeState(node, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one node's failure is reported by its checks, not a traceback
        state = NodeState(node, error=f"{type(exc).__name__}: {exc}")
    state.seconds = round(time.monotonic() - t, 3)
    if conn is not None and (not keep_open or state.error is not None):
        conn.close()
        conn = None
    return state, conn


def collect(plan: LabPlan, commands: dict[str, list[str]], *, log_dir: Path | None = None, workers: int = 32,
            keep_open: frozenset[str] = frozenset()) -> tuple[dict[str, NodeState], dict[str, Connection]]:
    """Every node's batch at once. Returns the states and the connections kept open (``keep_open`` nodes)."""
    states: dict[str, NodeState] = {}
    conns: dict[str, Connection] = {}

    def one(node: str) -> None:
        st, c = collect_node(plan, node, commands[node], keep_open=node in keep_open)
        states[node] = st
        if c is not None:
            conns[node] = c

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(commands)))) as pool:
        list(pool.map(one, sorted(commands)))
    if log_dir is not None:
        write_transcripts(private_dir(log_dir), states)
    return states, conns


def write_transcripts(log_dir: Path, states: dict[str, NodeState]) -> None:
    for node, st in states.items():
        lines = [f"# {node}: collected in {st.seconds:.2f} s"]
        if st.error:
            lines.append(f"# ERROR: {st.error}")
        for cmd, res in st.commands.items():
            lines += [f"$ {cmd}", str(res.get("out", "")).rstrip("\n")]
            if res.get("err"):
                lines.append(f"[stderr] {str(res['err']).rstrip()}")
            lines.append(f"[rc={res.get('rc')} {res.get('s', 0)} s]")
        write_private(log_dir / f"{node}.log", "\n".join(lines) + "\n")
        write_private(log_dir / f"{node}.json",
                      json.dumps({"node": node, "seconds": st.seconds, "error": st.error, "commands": st.commands},
                                 indent=1) + "\n")


class ReplayConnection:
    """The deploy driver's connection interface over a collected batch: a read the batch has is answered
    from it; any other goes to the live connection (when there is one) and is counted in ``misses``."""

    def __init__(self, state: NodeState, live: Connection | None = None):
        self.state = state
        self.device = state.node
        self.live = live
        self.misses: list[str] = []

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def run(self, command: str, *, check: bool = False, timeout: float = 120.0, stdin: str | None = None
            ) -> CommandResult:
        from campusnet.deploy.transport import CommandResult

        rec = self.state.commands.get(command) if stdin is None else None
        if rec is None:
            self.misses.append(command)
            if self.live is None:
                raise CampusnetError("E433", f"`{command}` is not in the node's batch and there is no live session",
                                     obj=f"node {self.device}", field="command")
            return self.live.run(command, check=check, timeout=timeout, stdin=stdin)
        res = CommandResult(command, int(rec.get("rc", 0)), str(rec.get("out", "")), str(rec.get("err", "")))
        if check and res.rc != 0:
            raise CampusnetError("E435", f"`{command}` exited {res.rc}: {(res.stderr or res.stdout).strip()[-800:]}",
                                 obj=f"device {self.device}")
        return res

    def put(self, text: str, path: str, mode: int = 0o600) -> None:
        raise CampusnetError("E436", "verify never writes to a node", obj=f"node {self.device}", field=path)
