"""The main job: NetBox → seed → validate → render → lab → deploy → verify → report, timed stage by stage.

Every stage is a library call that the matching verb also makes; this module only sequences them and
writes ``out/demo/report.md`` + ``report.json``. Re-running reaches the same verified state quickly:
every stage is idempotent.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campusnet import settings
from campusnet.errors import CampusnetError

Log = Callable[[str], None]


@dataclass
class Stage:
    name: str
    seconds: float = 0.0
    ok: bool = True
    detail: str = ""


@dataclass
class DemoReport:
    stages: list[Stage] = field(default_factory=list)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    verify: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.stages)

    def write(self, out: Path) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        data = {"ok": self.ok, "stages": [s.__dict__ for s in self.stages], "devices": self.devices,
                "verify": self.verify, "facts": self.facts}
        (out / "report.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
        lines = ["# campusnet main job", "", f"Result: **{'OK' if self.ok else 'FAILED'}**", "",
                 "| stage | seconds | result | detail |", "|---|---:|---|---|"]
        for s in self.stages:
            lines.append(f"| {s.name} | {s.seconds:.1f} | {'ok' if s.ok else 'FAILED'} | "
                         f"{s.detail.replace('|', '/').replace(chr(10), ' ')[:200]} |")
        lines += ["", f"Total: {sum(s.seconds for s in self.stages):.1f} s", ""]
        if self.facts:
            lines += ["## Facts", ""] + [f"- {k}: {v}" for k, v in self.facts.items()] + [""]
        if self.devices:
            lines += ["## Devices (deploy)", "", "| node | status | diff lines | seconds | note |",
                      "|---|---|---:|---:|---|"]
            for d, v in sorted(self.devices.items()):
                note = (v.get("error") or "; ".join(v.get("post_check_failures") or []))[:120]
                lines.append(f"| {d} | {v['status']} | {v.get('diff_lines', 0)} | {v.get('seconds', 0)} | {note} |")
            lines.append("")
        if self.verify:
            lines += ["## Verification", "",
                      f"{self.verify.get('passed', 0)} passed, {self.verify.get('failed', 0)} failed", ""]
            bad = [c for c in self.verify.get("checks", []) if not c["passed"]]
            for c in bad:
                lines.append(f"- **{c['check']}** on {c['device']}: {c['message'][:300]}")
            lines.append("")
        path = out / "report.md"
        path.write_text("\n".join(lines))
        return path


def _verify_stage(pipe: Any, rep: DemoReport, log: Log, settle: float) -> str:
    """Verify until every check passes or ``settle`` seconds are over (the lab converging after deploy)."""
    from campusnet.deploy.targets import lab_targets
    from campusnet.verify.expect import expectations
    from campusnet.verify.run import VerifyContext, run_verify

    exps = expectations(pipe.snapshot, pipe.plan, pipe.intents, pipe.emulations)
    deadline = time.monotonic() + settle
    attempt = 0
    while True:
        attempt += 1
        ctx = VerifyContext(pipe.plan, exps, lab_targets(pipe.plan, pipe.intents, pipe.emulations))
        _rc, results, path = run_verify(ctx)
        failed = [r for r in results if not r.passed]
        if not failed or time.monotonic() > deadline:
            break
        log(f"   · attempt {attempt}: {len(failed)} checks not yet passing (converging), retrying")
        time.sleep(3)
    rep.verify = json.loads(path.read_text())
    if failed:
        raise CampusnetError("E604", f"{len(failed)} of {len(results)} checks failed (see {path})")
    return f"{len(results)} checks passed (attempt {attempt})"


def run_demo(*, out: Path, log: Log = print, lab: bool = True, settle: float = 90.0) -> DemoReport:
    rep = DemoReport()

    def stage(name: str, fn: Callable[[], str]) -> bool:
        log(f"── {name}")
        t0 = time.monotonic()
        st = Stage(name)
        try:
            st.detail = fn() or ""
        except CampusnetError as exc:
            st.ok, st.detail = False, str(exc)
        st.seconds = time.monotonic() - t0
        rep.stages.append(st)
        log(f"   {'ok' if st.ok else 'FAILED'} in {st.seconds:.1f} s  {st.detail[:300]}")
        return st.ok

    external = bool(os.environ.get("NETBOX_URL") and os.environ.get("NETBOX_TOKEN"))
    campus = settings.inventory_dir() / "campus"
    local: dict[str, Any] = {}

    def netbox_up() -> str:
        if external:  # a user's NetBox: never the seeded cache
            return f"using {os.environ['NETBOX_URL']}"
        from campusnet.localnb import LocalNetBox

        nb = LocalNetBox.load()
        times = nb.up(log=lambda m: log(f"   · {m}"), seeded=campus)
        local["nb"] = nb
        origin = {"created": "new database", "seeded-cache": "seeded database restored from the cache"}.get(
            nb.origin, "existing database")
        parts = ", ".join(f"{k} {v:.0f} s" for k, v in times.items() if k != "total" and round(v))
        return f"local NetBox at {nb.server.url} ({origin}; {parts})"

    def seed() -> str:
        from campusnet.design.seed import seed as do_seed

        r = do_seed(settings.netbox_target(), campus)
        if r.errors:
            raise CampusnetError("E601", f"seed reported {len(r.errors)} errors: {r.errors[:3]}")
        detail = f"{r.writes} writes ({'no changes' if not r.writes else 'created/updated'}) in {r.seconds:.1f} s"
        nb = local.get("nb")
        if nb is not None and nb.origin == "seeded-cache" and r.writes:
            # the cached dump did not equal the YAML although its key matched: say so (the seed fixed it)
            log(f"   · warning: the seeded cache needed {r.writes} writes; it is stale")
        if nb is not None and not external:
            t0 = time.monotonic()
            cached = nb.cache_seeded(campus, log=lambda m: log(f"   · {m}"))
            if cached:
                detail += f"; seeded database cached in {time.monotonic() - t0:.1f} s"
        return detail

    state: dict[str, Any] = {}

    def validate() -> str:
        from campusnet.pipeline import Pipeline
        from campusnet.rules import run_rules

        pipe = Pipeline.load()
        state["pipe"] = pipe
        violations = run_rules(pipe.snapshot)
        rep.facts["devices in NetBox"] = len(pipe.snapshot.devices)
        rep.facts["intents built"] = len(pipe.intents)
        if violations:
            raise CampusnetError("E602", f"{len(violations)} rule violations, first: {violations[0]}")
        return f"{len(pipe.snapshot.devices)} devices, all rules pass"

    def render() -> str:
        from campusnet.render import generate_missing_secrets, render_all, secret_refs

        if not external:  # the embedded default makes its own lab secrets; a user's NetBox brings its own
            pipe = state["pipe"]
            made = generate_missing_secrets(secret_refs([*pipe.intents.values(), *pipe.emulations.values()]))
            if made:
                log(f"   · generated lab secrets {', '.join(made)} (0600 files in the state directory)")
        s = render_all(state["pipe"].intents, out / "rendered", emulations=state["pipe"].emulations)
        return f"{s.devices} devices, {s.files} files ({s.changed} changed) in {s.seconds:.2f} s → {out / 'rendered'}"

    def lab_up() -> str:
        from campusnet.lab.engine import lab_up as do_lab_up

        plan = state["pipe"].plan
        do_lab_up(plan, log=lambda m: log(f"   · {m}"))
        rep.facts["lab nodes"] = len(plan.nodes)
        rep.facts["lab links"] = len(plan.links)
        return f"{len(plan.nodes)} nodes, {len(plan.links)} links"

    def deploy() -> str:
        from campusnet.deploy.run import run_deploy

        s = run_deploy(commit=True, pipeline=state["pipe"])
        rep.devices = {r.device: r.as_summary() for r in s.results}
        rep.facts["deploy run"] = s.run.run_id
        if s.failed:
            raise CampusnetError("E603", f"deploy: {s.counts()}")
        return ", ".join(f"{k}: {v}" for k, v in sorted(s.counts().items()))

    def verify() -> str:
        return _verify_stage(state["pipe"], rep, log, settle)

    ok = stage("netbox up", netbox_up) and stage("seed", seed) and stage("validate", validate) and stage(
        "render", render)
    if ok and lab:
        if os.geteuid() != 0:
            rep.stages.append(Stage("lab", ok=False, detail="the lab needs root (network namespaces): run as root"))
        else:
            _ = stage("lab up", lab_up) and stage("deploy", deploy) and stage("verify", verify)
    if ok:
        def report() -> str:
            from campusnet.report import generate

            res = generate(out / "report", log=lambda m: log(f"   · {m}"))
            return f"auditor report → {getattr(res, 'index', out / 'report')}"

        stage("report", report)
    path = rep.write(out)
    log(f"report: {path}")
    return rep
