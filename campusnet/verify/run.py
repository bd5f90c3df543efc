"""`campusnet verify`: pytest drives pyATS sessions through the checks derived from intent.

Results: JUnit XML (for CI), ``verify.json`` (for the report), and a table on screen.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from campusnet import settings
from campusnet.errors import CampusnetError
from campusnet.private import private_dir, write_private
from campusnet.verify.checks import JUDGES, CheckResult, show_command
from campusnet.verify.expect import Expectation
from campusnet.verify.session import LabSessions, PyatsConnection

if TYPE_CHECKING:
    from campusnet.deploy.engine import DeployTarget
    from campusnet.lab.plan import LabPlan


@dataclass
class VerifyContext:
    plan: LabPlan
    expectations: list[Expectation]
    targets: dict[str, DeployTarget]  # lab node → what it should run (for the config-sync check)
    sessions: LabSessions | None = None
    out_dir: Path | None = None  # set by run_verify: results and session transcripts (sessions/)
    results: list[CheckResult] = field(default_factory=list)

    def evaluate(self, e: Expectation) -> CheckResult:
        try:
            r = self._evaluate(e)
        except CampusnetError as exc:
            r = CheckResult(e.check, e.node, e.subject, ",".join(e.expected) or "-", "error", False, str(exc))
        self.results.append(r)
        return r

    def _evaluate(self, e: Expectation) -> CheckResult:
        assert self.sessions is not None
        if e.check == "config-sync":
            return self._config_sync(e)
        out = self.sessions.run(e.node, show_command(e), cache=e.check != "reachability")
        return JUDGES[e.check](e, out)

    def _config_sync(self, e: Expectation) -> CheckResult:
        from campusnet.deploy.drivers import driver_for

        target = self.targets.get(e.node)
        if target is None:
            return CheckResult(e.check, e.node, e.subject, "in sync", "no intended config", False,
                               f"{e.node}: nothing rendered for this node")
        assert self.sessions is not None
        drv = driver_for(target.driver)
        conn: Any = PyatsConnection(self.sessions, e.node)
        diff = drv.diff(conn, target.files, drv.running(conn), target)
        n = sum(1 for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---")))
        return CheckResult(e.check, e.node, e.subject, "in sync with NetBox", "in sync" if not n else
                           f"{n} lines differ", not n,
                           f"{e.node}: " + ("configuration matches NetBox" if not n else
                                            "DRIFT — running config differs from NetBox:\n" + diff))


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
    """The shared context; pyATS sessions open once for the whole run and close at its end."""
    ctx = CURRENT
    assert ctx is not None, "run through campusnet.verify.run.run_verify"
    if ctx.sessions is None:
        sessions = LabSessions(ctx.plan, log_dir=ctx.out_dir / "sessions" if ctx.out_dir else None)
        sessions.connect(sorted({e.node for e in ctx.expectations}))
        ctx.sessions = sessions
    yield ctx
    ctx.sessions.close()
    ctx.sessions = None


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
        rc = pytest.main(args, plugins=[VerifyPlugin(ctx), sys.modules[__name__]])
    finally:
        CURRENT = None
    took = time.monotonic() - t0
    data = {"finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(took, 1),
            "passed": sum(r.passed for r in ctx.results), "failed": sum(not r.passed for r in ctx.results),
            "checks": [r.as_dict() for r in ctx.results]}
    write_private(out / "latest.json", json.dumps(data, indent=2) + "\n")
    return int(rc), ctx.results, out / "latest.json"
