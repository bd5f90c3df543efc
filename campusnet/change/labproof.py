"""The lab proof: build the lab to the after-state plan, deploy the after-state, verify; then restore the
before-state and say so.

A side of the lab is a :class:`LabSide` (build / deploy / verify). The after-state always runs in this
process (this working tree's code, :class:`PipelineLab`); the before-state is a :class:`PipelineLab` too
(main's snapshot) for a NetBox branch, or REF's own command line for a git ref (:class:`RefLab`).

Restoring: when a lab was running before the proof, the lab is brought back to the before-state plan
(nodes the change added are removed, nodes whose links changed restart from day 0), the before-state is
deployed and verified. When no lab was running, the lab is taken down again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from campusnet.change.model import CheckOutcome, LabProof, LabStep
from campusnet.errors import CampusnetError
from campusnet.pipeline import Pipeline

Log = Callable[[str], None]
LAB_TOOLS = ("ip", "nsenter", "unshare", "vtysh", "ovs-vsctl", "ovsdb-server", "ovs-vswitchd")


def _nolog(_: str) -> None:
    return None


class LabSide(Protocol):
    label: str

    def nodes(self) -> set[str]: ...
    def build(self, log: Log) -> str: ...
    def deploy(self, log: Log) -> str: ...
    def verify(self, out: Path) -> list[CheckOutcome]: ...


def _outcomes(verify_json: Path) -> list[CheckOutcome]:
    data = json.loads(verify_json.read_text())
    return [CheckOutcome(c["check"], c["device"], c.get("subject", ""), c.get("expected", ""), c.get("found", ""),
                         bool(c["passed"]), c.get("message", "")) for c in data["checks"]]


@contextlib.contextmanager
def _lab_umask() -> Iterator[str]:
    """Build nodes with umask 022: a node's holder creates ``/run/sshd`` with the process umask and sshd
    refuses a group/world-writable one (measured: after the after-state's deploy and verification in this
    process the umask was 000 and the restored spines' sshd did not start)."""
    old = os.umask(0o022)
    try:
        yield "" if old == 0o022 else f" (process umask was {old:03o}: built with 022)"
    finally:
        os.umask(old)


@dataclass
class PipelineLab:
    """A side run in this process from a :class:`Pipeline` (snapshot → intents → lab plan)."""

    label: str
    pipe: Pipeline

    def nodes(self) -> set[str]:
        return {n.name for n in self.pipe.plan.nodes}

    def build(self, log: Log) -> str:
        from campusnet.lab import lab_up

        with _lab_umask() as note:
            r = lab_up(self.pipe.plan, log=log)
        return (f"{r.nodes} nodes ({len(r.started)} started from day 0, {len(r.kept)} kept, "
                f"{len(r.removed)} removed), {r.links} links{note}")

    def deploy(self, log: Log) -> str:
        from campusnet.deploy.run import run_deploy

        s = run_deploy(commit=True, pipeline=self.pipe)
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(s.counts().items()))
        if s.failed:
            bad = [f"{r.device}: {r.error or r.status}" for r in s.results
                   if r.status in ("failed", "rolled-back", "rollback-failed", "skipped")]
            raise CampusnetError("E451", f"deploy {counts}; " + "; ".join(bad)[:600], obj=self.label)
        return f"{counts} (run {s.run.run_id})"

    def verify(self, out: Path) -> list[CheckOutcome]:
        from campusnet.deploy.targets import lab_targets
        from campusnet.verify.expect import expectations
        from campusnet.verify.run import VerifyContext, run_verify

        p = self.pipe
        ctx = VerifyContext(p.plan, expectations(p.snapshot, p.plan, p.intents, p.emulations),
                            lab_targets(p.plan, p.intents, p.emulations))
        _rc, _results, path = run_verify(ctx, out_dir=out)
        return _outcomes(path)


@dataclass
class RefLab:
    """The before-state of a git ref: REF's own ``lab up`` / ``deploy --commit`` / ``verify`` over one snapshot."""

    label: str
    tree: object  # campusnet.change.sources.RefTree (kept loose: no import cycle)
    snapshot_file: Path
    plan_nodes: set[str]

    def nodes(self) -> set[str]:
        return self.plan_nodes

    def _run(self, args: list[str]) -> str:
        from campusnet.change.sources import RefTree

        assert isinstance(self.tree, RefTree)
        r = self.tree.run(args)
        if r.returncode != 0:
            raise CampusnetError("E452", f"REF `campusnet {' '.join(args[:2])}` exit {r.returncode}: "
                                 f"{(r.stderr or r.stdout).strip()[-600:]}", obj=self.label)
        return (r.stdout or r.stderr).strip().splitlines()[-1:][0] if (r.stdout or r.stderr).strip() else "ok"

    def build(self, log: Log) -> str:
        return self._run(["lab", "up", "--snapshot", str(self.snapshot_file)])

    def deploy(self, log: Log) -> str:
        return self._run(["deploy", "--commit", "--no-diff", "--snapshot", str(self.snapshot_file)])

    def verify(self, out: Path) -> list[CheckOutcome]:
        from campusnet.change.sources import RefTree

        assert isinstance(self.tree, RefTree)
        self.tree.run(["verify", "--snapshot", str(self.snapshot_file), "--out", str(out)])
        path = out / "latest.json"
        if not path.exists():
            raise CampusnetError("E452", "REF's verify wrote no results", obj=self.label)
        return _outcomes(path)


def lab_unavailable() -> str | None:
    """Why the lab cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces); run as root or on a lab runner"
    missing = [t for t in LAB_TOOLS if not shutil.which(t)]
    if missing:
        return "tools missing for the lab: " + ", ".join(missing)
    return None


@contextlib.contextmanager
def exclusive_lab() -> Iterator[None]:
    """One lab proof at a time on this machine (``state_dir()/lab-proof.lock``, flock). Other users of the
    lab (a person running ``campusnet lab down``) are not stopped by it: a CI lab runner runs one job at
    a time (docs/check-change.md)."""
    from campusnet import settings

    path = settings.state_dir() / "lab-proof.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CampusnetError("E455", "another check-change lab proof is running on this machine",
                                 obj=str(path), field="lock") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _running_nodes() -> set[str]:
    from campusnet.lab import lab_status

    st = lab_status()
    return {n.name for n in st.nodes} if st.running else set()


def verify_settled(side: LabSide, out: Path, settle: float, log: Log) -> tuple[list[CheckOutcome], int]:
    """Verify until every check passes or ``settle`` seconds have gone (routing converges after a deploy)."""
    deadline = time.monotonic() + settle
    attempt = 0
    while True:
        attempt += 1
        checks = side.verify(out)
        failed = [c for c in checks if not c.passed]
        if not failed or time.monotonic() > deadline:
            return checks, attempt
        log(f"verify attempt {attempt}: {len(failed)} of {len(checks)} checks not passing yet (converging)")
        time.sleep(3)


def run_lab_proof(after: LabSide, before: LabSide, *, out: Path, settle: float = 90.0,
                  log: Log = _nolog) -> LabProof:
    proof = LabProof(requested=True)
    reason = lab_unavailable()
    if reason:
        proof.reason = reason
        return proof
    try:
        with exclusive_lab():
            return _run(proof, after, before, out=out, settle=settle, log=log)
    except CampusnetError as exc:
        if exc.code != "E455":
            raise
        proof.reason = str(exc)
        return proof


def _run(proof: LabProof, after: LabSide, before: LabSide, *, out: Path, settle: float, log: Log) -> LabProof:
    t0 = time.monotonic()
    was = _running_nodes()
    proof.ran = True
    proof.nodes_added = sorted(after.nodes() - before.nodes())
    proof.nodes_removed = sorted(before.nodes() - after.nodes())

    def step(name: str, fn: Callable[[], str]) -> bool:
        log(f"lab proof: {name}")
        s0 = time.monotonic()
        try:
            detail, ok = fn(), True
        except CampusnetError as exc:
            detail, ok = str(exc), False
        proof.steps.append(LabStep(name, ok, round(time.monotonic() - s0, 1), detail))
        log(f"   {'ok' if ok else 'FAILED'}: {detail[:300]}")
        return ok

    def verify_after() -> str:
        checks, attempt = verify_settled(after, out / "after", settle, log)
        proof.checks = checks
        failed = [c for c in checks if not c.passed]
        if failed:
            raise CampusnetError("E453", f"{len(failed)} of {len(checks)} checks failed (attempt {attempt})",
                                 obj=after.label)
        return f"{len(checks)} checks passed (attempt {attempt})"

    def verify_before() -> str:
        checks, attempt = verify_settled(before, out / "restored", settle, log)
        proof.restore_checks_passed = sum(c.passed for c in checks)
        proof.restore_checks_failed = sum(not c.passed for c in checks)
        if proof.restore_checks_failed:
            raise CampusnetError("E454", f"{proof.restore_checks_failed} of {len(checks)} checks fail after the "
                                 f"restore", obj=before.label)
        return f"{len(checks)} checks passed (attempt {attempt})"

    after_ok = False
    try:
        after_ok = (step(f"lab up ({after.label})", lambda: after.build(log))
                    and step(f"deploy ({after.label})", lambda: after.deploy(log))
                    and step(f"verify ({after.label})", verify_after))
    finally:
        if was:
            proof.restored = (step(f"restore: lab up ({before.label})", lambda: before.build(log))
                              and step(f"restore: deploy ({before.label})", lambda: before.deploy(log))
                              and step(f"restore: verify ({before.label})", verify_before))
        else:
            def down() -> str:
                from campusnet.lab import lab_down

                r = lab_down(log=log)
                return f"no lab was running before: taken down ({len(r['namespaces'])} namespaces)"

            proof.restored = step("restore: lab down", down)
        proof.seconds = time.monotonic() - t0
    proof.ok = after_ok and proof.restored
    if not after_ok:
        bad = next((s for s in proof.steps if not s.ok), None)
        proof.reason = f"{bad.name}: {bad.detail[:300]}" if bad else "failed"
    elif not proof.restored:
        proof.reason = "the after-state passed, but restoring the before-state failed"
    return proof
