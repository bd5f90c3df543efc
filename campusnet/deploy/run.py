"""One deploy run over the lab: targets from intent, the gate, the device locks, then Nornir (hosts from the
project's inventory plugin, :mod:`campusnet.deploy.nornir_task`) or a thread pool over the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campusnet.deploy.drivers import DeployTarget
from campusnet.deploy.engine import (
    DEFAULT_CONFIRM_TIMEOUT,
    PROBLEM_STATUSES,
    DeviceResult,
    deploy_many,
    run_in_stages,
    status_counts,
)
from campusnet.deploy.gate import GateResult, check_gate, scope_devices
from campusnet.deploy.lock import acquire
from campusnet.deploy.production import is_production, not_in_lab, production_for
from campusnet.deploy.replay import Replayer
from campusnet.deploy.store import Run, new_run_id
from campusnet.deploy.targets import lab_targets
from campusnet.deploy.transport import Credentials
from campusnet.errors import CampusnetError
from campusnet.pipeline import Pipeline


@dataclass
class DeploySummary:
    run: Run
    results: list[DeviceResult] = field(default_factory=list)
    gate: GateResult | None = None

    @property
    def failed(self) -> bool:
        return any(r.status in PROBLEM_STATUSES for r in self.results)

    def counts(self) -> dict[str, int]:
        return status_counts(self.results)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run.run_id, "path": str(self.run.path), "counts": self.counts(),
                "gate": self.gate.as_record() if self.gate else None,
                "staging": self.run.extra.get("staging"),
                "devices": {r.device: r.as_summary() for r in self.results}}


def run_deploy(*, commit: bool, limit: list[str] | None = None, snapshot: Path | None = None,
               branch: str | None = None, via: str = "nornir", workers: int = 8,
               fail_post_check_on: frozenset[str] = frozenset(), pipeline: Pipeline | None = None,
               force: bool = False, wait: float = 0.0, canary: int = 0, max_failures: int = 0,
               accept_new_host_keys: bool | None = None,
               confirm_timeout: int = DEFAULT_CONFIRM_TIMEOUT, queue: str | None = None,
               production: bool = False, replay: Path | None = None,
               shard_by: str = "site", queue_timeout: float | None = None) -> DeploySummary:
    """Gate → lock → back up, diff, (commit) push. Raises :class:`~campusnet.deploy.gate.GateRefused` (E470)
    before any SSH session when the data in scope breaks a rule and ``force`` is not set, and E472/E473
    when another deploy or rollback holds one of the devices."""
    if canary < 0 or max_failures < 0:
        raise CampusnetError("E474", f"must be 0 or more devices, not {min(canary, max_failures)}", obj="deploy",
                             field="--canary" if canary < 0 else "--max-failures")
    pipe = pipeline or Pipeline.load(snapshot=snapshot, branch=branch)
    if production or replay is not None:  # the --limit devices themselves (VRP/Comware drivers)
        targets = production_for(pipe, limit)
    else:
        targets = lab_targets(pipe.plan, pipe.intents, pipe.emulations, only=limit)
    if limit and not targets:
        not_in_lab(pipe, limit)
    if not targets:
        raise CampusnetError("E425", "no lab device to deploy: tag devices `lab` in NetBox")
    gate = check_gate(pipe.snapshot, scope_devices(pipe.plan, targets), action="deploy", force=force,
                      commit=commit)
    ordered = [targets[k] for k in sorted(targets)]
    queued = _queue(queue, shard_by, queue_timeout) if queue else None  # checked after the gate, before locks
    run_id = new_run_id()
    with acquire(targets, run_id=run_id, action="deploy" if commit else "deploy dry run", wait=wait):
        run = Run.new(commit=commit, run_id=run_id)
        src = pipe.snapshot.source
        run.extra["netbox"] = {"url": src.url, "read_at": str(src.read_at), "branch": src.branch,
                               "netbox_version": src.netbox_version}
        run.extra["gate"] = gate.as_record()
        run.extra["forced"] = gate.overridden
        run.extra["confirm_timeout"] = confirm_timeout if commit else 0
        run.save_meta()
        if is_production(ordered):  # the real devices, or their recorded sessions (--replay)
            results = deploy_many(ordered, commit=commit, run=run, workers=workers, fail_post_check_on=
                                  fail_post_check_on, canary=canary, max_failures=max_failures, confirm_timeout=
                                  confirm_timeout, connect=Replayer(replay) if replay else None,
                                  creds=None if replay else Credentials.from_environment(accept_new=
                                                                                         accept_new_host_keys))
            return DeploySummary(run, results, gate)
        creds = Credentials.from_environment(accept_new=accept_new_host_keys)
        if queued is not None:  # sharded across RQ workers (campusnet/deploy/shard.py)
            from campusnet.deploy.shard import via_queue
            results = via_queue(pipe, ordered, opts=queued, commit=commit, run=run, workers=workers,
                                fail_post_check_on=fail_post_check_on, canary=canary, max_failures=max_failures,
                                accept_new_host_keys=accept_new_host_keys, confirm_timeout=confirm_timeout)
            run.write_summary()
            return DeploySummary(run, results, gate)
        if via == "direct":
            results = deploy_many(ordered, commit=commit, run=run, workers=workers, creds=creds,
                                  fail_post_check_on=fail_post_check_on, canary=canary, max_failures=max_failures,
                                  confirm_timeout=confirm_timeout)
            return DeploySummary(run, results, gate)
        results = _via_nornir(pipe, ordered, commit=commit, run=run, workers=workers, creds=creds,
                              fail_post_check_on=fail_post_check_on, canary=canary, max_failures=max_failures,
                              confirm_timeout=confirm_timeout)
        run.write_summary()
        return DeploySummary(run, results, gate)


def _via_nornir(pipe: Pipeline, targets: list[DeployTarget], *, commit: bool, run: Run, workers: int,
                creds: Credentials, fail_post_check_on: frozenset[str], canary: int = 0, max_failures: int = 0,
                confirm_timeout: int = 0) -> list[DeviceResult]:
    from campusnet.deploy.nornir_task import deploy_nornir, run_stage

    nr, hosts = deploy_nornir(pipe.snapshot, pipe.plan, {t.device: t for t in targets}, workers=workers)
    return run_in_stages(targets, commit=commit, run=run, canary=canary, max_failures=max_failures,
                         stage=lambda batch, guard: run_stage(nr, batch, hosts, run=run, commit=commit, creds=creds,
                                                              fail_post_check_on=fail_post_check_on, guard=guard,
                                                              confirm_timeout=confirm_timeout))



def _queue(url: str, shard_by: str, timeout: float | None) -> Any:
    from campusnet.deploy.shard import queue_options

    return queue_options(url, shard_by, timeout)
