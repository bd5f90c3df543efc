"""`campusnet verify`: collect each node's state once, judge every check in-process, report through pytest.

1. **Collect** (:mod:`campusnet.verify.collect`): one SSH exec per node runs all of that node's show
   commands (and the drift check's reads) in one batch; every node at once.
2. **Judge**: each expectation's ``valid_*`` reads the collected output in-process; the drift checks
   (``frr-reload.py --test`` on this machine) run in parallel threads.
3. **Report**: pytest runs one test per expectation over those results — JUnit XML (for CI), ``latest.json``
   (for the report, same format as before) and a table on screen.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from campusnet import settings
from campusnet.errors import CampusnetError
from campusnet.private import private_dir, write_private
from campusnet.verify.checks import JUDGES, CheckResult, show_command
from campusnet.verify.collect import NodeState, ReplayConnection, collect
from campusnet.verify.expect import Expectation

# a deploy target (campusnet.deploy's DeployTarget, which that package is reshaping: read through getattr)
DeployTarget = Any

if TYPE_CHECKING:
    from campusnet.deploy.transport import Connection
    from campusnet.lab.plan import LabPlan

# The linux-frr driver's reads for `running()` (campusnet/deploy/drivers/linux_frr.py), put in the batch so
# that the drift check replays them. A read missing here still works (one live round trip, counted in
# latest.json's "live_reads"); tests/unit/test_verify_collect.py proves the list is complete.
FRR_READS = (
    "vtysh -c 'show running-config'",
    "command -v ovs-vsctl >/dev/null && ovs-vsctl --timeout=5 list-br 2>/dev/null || true",
    "ip -j -d link show",
    "ip -j addr show",
)
OVS_READ = ("ovs-vsctl --timeout=5 -f json --columns=name,tag,trunks,bond_mode,lacp,other_config,interfaces "
            "list Port && echo '@@' && ovs-vsctl --timeout=5 -f json --columns=_uuid,name list Interface && "
            "echo '@@' && ovs-vsctl --timeout=5 -f json --columns=name,ports list Bridge && echo '@@' && "
            "ovs-vsctl --timeout=5 -f json --columns=_uuid,name list Port")


def drift_reads(target: DeployTarget | None) -> list[str]:
    """The reads the drift check needs on a node (the OVS query only where the intent has OVS)."""
    from campusnet.deploy.drivers.linux_frr import _VPN_ALIVE
    from campusnet.vpn import MATERIAL_FILES, REMOTE_VPN_DIR

    d = shlex.quote(REMOTE_VPN_DIR)
    vpn = (f"[ -f {d}/openvpn.conf ] && cat {d}/openvpn.conf; echo @@; {_VPN_ALIVE} && echo running; "
           f"echo @@; [ -f {d}/ca.crt ] && (cd {d} && cat {' '.join(MATERIAL_FILES)} 2>/dev/null | "
           "sha256sum); true")
    reads = list(FRR_READS)
    if target is not None and target.expected.ovs.strip():
        reads.append(OVS_READ)
    reads.append(vpn)
    return reads


def node_commands(expectations: list[Expectation], targets: dict[str, DeployTarget]) -> dict[str, list[str]]:
    """Lab node → the commands of its batch, each once (pings first: they take longest)."""
    out: dict[str, list[str]] = {}
    for e in expectations:
        cmds = out.setdefault(e.node, [])
        new = drift_reads(targets.get(e.node)) if e.check == "config-sync" else [show_command(e)]
        for c in new:
            if c not in cmds:
                if c.startswith("ping "):
                    cmds.insert(0, c)
                else:
                    cmds.append(c)
    return out


@dataclass
class VerifyContext:
    plan: LabPlan
    expectations: list[Expectation]
    targets: dict[str, DeployTarget]  # lab node → what it should run (for the config-sync check)
    state: dict[str, NodeState] | None = None  # collected per node (set by collect_state, or given: recorded)
    via: str = "ssh"  # the collector: "ssh" (paramiko exec) or "pyats" (Unicon sessions, verify.session)
    out_dir: Path | None = None  # set by run_verify: results and session transcripts (sessions/)
    results: list[CheckResult] = field(default_factory=list)
    judged: dict[str, CheckResult] = field(default_factory=dict)  # expectation id → result
    timings: dict[str, float] = field(default_factory=dict)
    live_reads: dict[str, list[str]] = field(default_factory=dict)  # drift reads the batch did not have
    _live: dict[str, Connection] = field(default_factory=dict)

    def collect_state(self) -> None:
        """One batch per node, all nodes at once; connections kept open only where drift is checked."""
        from campusnet.deploy.transport import Credentials

        t = time.monotonic()
        Credentials.from_environment()  # no key: one clear error (E410) rather than one per check
        cmds = node_commands(self.expectations, self.targets)
        drift_nodes = frozenset(e.node for e in self.expectations if e.check == "config-sync")
        logs = private_dir(self.out_dir / "sessions") if self.out_dir else None
        if logs is not None:
            for old in list(logs.glob("*.log")) + list(logs.glob("*.json")):
                old.unlink(missing_ok=True)  # the last run's transcripts only
        if self.via == "pyats":
            from campusnet.verify.session import collect_pyats

            self.state, self._live = collect_pyats(self.plan, cmds, log_dir=logs, keep_open=drift_nodes)
        elif self.via == "ssh":
            self.state, self._live = collect(self.plan, cmds, log_dir=logs, keep_open=drift_nodes)
        else:
            raise CampusnetError("E438", f"unknown collector {self.via!r}: use 'pyats' or 'ssh'",
                                 obj="VerifyContext", field="via")
        self.timings["collect_s"] = round(time.monotonic() - t, 2)

    def judge_all(self) -> None:
        """Every expectation judged in-process over the collected state (drift checks in parallel)."""
        t = time.monotonic()
        if self.state is None:
            self.collect_state()
        try:
            drift = [e for e in self.expectations if e.check == "config-sync"]
            for e in self.expectations:
                if e.check != "config-sync":
                    self.judged[e.id] = self._safe(e)
            with ThreadPoolExecutor(max_workers=8) as pool:
                for e, r in zip(drift, pool.map(self._safe, drift), strict=True):
                    self.judged[e.id] = r
        finally:
            self.close()
        self.timings["judge_s"] = round(time.monotonic() - t, 2)

    def close(self) -> None:
        for c in self._live.values():
            c.close()
        self._live = {}

    def evaluate(self, e: Expectation) -> CheckResult:
        r = self.judged.get(e.id)
        if r is None:
            r = self._safe(e)
        self.results.append(r)
        return r

    def _safe(self, e: Expectation) -> CheckResult:
        try:
            return self._evaluate(e)
        except CampusnetError as exc:
            return CheckResult(e.check, e.node, e.subject, ",".join(e.expected) or "-", "error", False, str(exc))

    def _node(self, node: str) -> NodeState:
        st = (self.state or {}).get(node)
        if st is None:
            raise CampusnetError("E433", "nothing was collected from this node", obj=f"node {node}")
        return st

    def _evaluate(self, e: Expectation) -> CheckResult:
        if e.check == "config-sync":
            return self._config_sync(e)
        return JUDGES[e.check](e, self._node(e.node).output(show_command(e)))

    def _config_sync(self, e: Expectation) -> CheckResult:
        from campusnet.compare import count_diff_lines
        from campusnet.deploy.drivers import driver_for

        target = self.targets.get(e.node)
        if target is None:
            return CheckResult(e.check, e.node, e.subject, "in sync", "no intended config", False,
                               f"{e.node}: nothing rendered for this node")
        st = self._node(e.node)
        st.output(FRR_READS[0])  # raises (E432) when the node could not be collected
        drv = driver_for(target.driver)
        conn: Any = ReplayConnection(st, self._live.get(e.node))
        running = drv.running(conn)
        diff = same_frr_diff(running, target)
        if diff is None:
            diff = drv.diff(conn, target.files, running, target)
        if conn.misses:
            self.live_reads[e.node] = list(conn.misses)
        n = count_diff_lines(diff)
        return CheckResult(e.check, e.node, e.subject, "in sync with NetBox", "in sync" if not n else
                           f"{n} lines differ", not n,
                           f"{e.node}: " + ("configuration matches NetBox" if not n else
                                            "DRIFT — running config differs from NetBox:\n" + diff))


def same_frr_diff(running: str, target: DeployTarget) -> str | None:
    """The drift diff without ``frr-reload.py``, when FRR's running text already equals the intended text
    (the driver's own comparison form): the other sections compared as the driver compares them. ``None``
    when the FRR texts differ (or the target is not linux-frr): then the driver's full diff decides.

    frr-reload.py costs ~0.1-0.6 s per node (it runs vtysh on the intended file); a node in sync needs none."""
    if getattr(target, "driver", None) != "linux-frr":
        return None
    from campusnet.deploy.drivers import linux_frr as lf

    run = lf._sections(running)
    if lf._frr_clean(run.get("frr", "")) != lf._frr_clean(target.files["frr.conf"]):
        return None
    want = lf.expected_sections(target)
    parts: list[str] = []
    for sec in lf.SECTIONS:
        if sec in want:
            d = lf._set_diff(run.get(sec, ""), want[sec])
            if d:
                parts.append(f"--- {sec} (running)\n+++ {sec} (intended)\n{d}")
    return "\n".join(parts)


class VerifyPlugin:
    """Parametrizes the checks over the context's expectations."""

    def __init__(self, ctx: VerifyContext):
        self.ctx = ctx

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "expectation" in metafunc.fixturenames:
            exps = self.ctx.expectations
            metafunc.parametrize("expectation", exps, ids=[e.id for e in exps])


#: the context of the run in progress (pytest.main is not re-entrant: one run at a time)
CURRENT: VerifyContext | None = None


@pytest.fixture(scope="session")
def verify_ctx() -> Any:
    """The shared context: every node collected and every check judged once, before the first test."""
    ctx = CURRENT
    assert ctx is not None, "run through campusnet.verify.run.run_verify"
    if not ctx.judged:
        ctx.judge_all()
    yield ctx
    ctx.close()


def run_verify(ctx: VerifyContext, *, out_dir: Path | None = None, quiet: bool = True,
               extra_args: list[str] | None = None) -> tuple[int, list[CheckResult], Path]:
    out = out_dir or settings.state_dir() / "verify"
    private_dir(out)  # drift diffs in the results are configuration text
    junit = out / "latest.xml"
    module = Path(__file__).with_name("netcheck.py")
    args = [str(module), f"--junitxml={junit}", "-p", "no:cacheprovider", "-o", "junit_family=xunit2",
            "-W", "ignore::DeprecationWarning",
            "--rootdir", str(module.parent), "-o", "python_files=netcheck.py", "--tb=line"]
    args += ["-q", "--no-header"] if quiet else ["-v"]
    args += extra_args or []
    global CURRENT
    CURRENT = ctx
    ctx.out_dir = out
    t0 = time.monotonic()
    try:
        if not ctx.judged:
            ctx.judge_all()  # before pytest: a coded error (no lab key, E410) reaches the caller as itself
        rc = pytest.main(args, plugins=[VerifyPlugin(ctx), sys.modules[__name__]])
    finally:
        CURRENT = None
    took = time.monotonic() - t0
    n = len(ctx.results)
    data = {"finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(took, 1),
            "passed": sum(r.passed for r in ctx.results), "failed": sum(not r.passed for r in ctx.results),
            "per_check_s": round(took / n, 4) if n else None, "nodes": len(ctx.state or {}), "via": ctx.via,
            **ctx.timings, "live_reads": ctx.live_reads, "checks": [r.as_dict() for r in ctx.results]}
    write_private(out / "latest.json", json.dumps(data, indent=2) + "\n")
    return int(rc), ctx.results, out / "latest.json"
