"""One deploy run over the lab: targets from intent, Nornir (or a thread pool) over the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campusnet.deploy.engine import DeviceResult, deploy_many, status_counts
from campusnet.deploy.store import Run
from campusnet.deploy.targets import lab_targets
from campusnet.deploy.transport import Credentials
from campusnet.errors import CampusnetError
from campusnet.pipeline import Pipeline


@dataclass
class DeploySummary:
    run: Run
    results: list[DeviceResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(r.status in ("failed", "rolled-back") for r in self.results)

    def counts(self) -> dict[str, int]:
        return status_counts(self.results)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run.run_id, "path": str(self.run.path), "counts": self.counts(),
                "devices": {r.device: r.as_summary() for r in self.results}}


def run_deploy(*, commit: bool, limit: list[str] | None = None, snapshot: Path | None = None,
               branch: str | None = None, via: str = "nornir", workers: int = 8,
               fail_post_check_on: frozenset[str] = frozenset(), pipeline: Pipeline | None = None) -> DeploySummary:
    pipe = pipeline or Pipeline.load(snapshot=snapshot, branch=branch)
    targets = lab_targets(pipe.plan, pipe.intents, only=limit)
    if limit and not targets:
        raise CampusnetError("E424", f"--limit {' '.join(limit)} matches no lab node")
    if not targets:
        raise CampusnetError("E425", "no lab device to deploy: tag devices `lab` in NetBox")
    run = Run.new(commit=commit)
    src = pipe.snapshot.source
    run.extra["netbox"] = {"url": src.url, "read_at": str(src.read_at), "branch": src.branch,
                           "netbox_version": src.netbox_version}
    run.save_meta()
    ordered = [targets[k] for k in sorted(targets)]
    if via == "direct":
        results = deploy_many(ordered, commit=commit, run=run, workers=workers,
                              fail_post_check_on=fail_post_check_on)
        return DeploySummary(run, results)
    results = _via_nornir(ordered, commit=commit, run=run, workers=workers, fail_post_check_on=fail_post_check_on)
    run.write_summary()
    return DeploySummary(run, results)


def _via_nornir(targets: list[Any], *, commit: bool, run: Run, workers: int,
                fail_post_check_on: frozenset[str]) -> list[DeviceResult]:
    from nornir.core import Nornir
    from nornir.core.inventory import Defaults, Groups, Host, Hosts, Inventory
    from nornir.plugins.runners import ThreadedRunner

    from nornir_tasks.deploy import deploy_config

    by_name = {t.device: t for t in targets}
    hosts = Hosts({t.device: Host(name=t.device, hostname=t.host, platform="linux", data={"driver": t.driver})
                   for t in targets})
    nr = Nornir(inventory=Inventory(hosts=hosts, groups=Groups(), defaults=Defaults()),
                runner=ThreadedRunner(num_workers=max(1, workers)))
    agg = nr.run(task=deploy_config, targets=by_name, commit=commit, run=run, creds=Credentials.from_environment(),
                 fail_post_check_on=fail_post_check_on)
    results: list[DeviceResult] = []
    for name in by_name:
        mr = agg[name]
        res = mr[0].result
        if not isinstance(res, DeviceResult):  # the task itself raised: nornir holds the exception
            res = DeviceResult(name, "failed", error=str(mr[0].exception or res))
            run.record_device(name, res.as_summary())
        results.append(res)
    return results
