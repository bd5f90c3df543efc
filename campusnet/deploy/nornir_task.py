"""Deploy through Nornir: hosts from the project's inventory plugin, one task per host over the engine.

The hosts are the ``campusnet.NetBoxSnapshotInventory`` plugin's (the same hosts, groups and data that
``nornir_tasks.init_nornir`` and the Ansible inventory give), read from the run's own snapshot (no second
NetBox read), kept to the devices that have a deploy target. A lab node standing for a virtual chassis is
the chassis' host (its master). The task lives here, in the library, so that ``campusnet deploy`` needs no
task layer; ``nornir_tasks.deploy`` re-exports it for playbook-style Nornir scripts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from nornir import InitNornir
from nornir.core import Nornir
from nornir.core.task import Result, Task

from campusnet.deploy.drivers import DeployTarget
from campusnet.deploy.engine import PROBLEM_STATUSES, DeviceResult, StageGuard, deploy_device
from campusnet.deploy.store import Run
from campusnet.deploy.transport import Credentials

if TYPE_CHECKING:
    from campusnet.lab.plan import LabPlan
    from campusnet.sot import Snapshot

INVENTORY_PLUGIN = "campusnet.NetBoxSnapshotInventory"


def deploy_config(task: Task, *, targets: Mapping[str, DeployTarget], commit: bool, run: Run,
                  creds: Credentials | None = None, fail_post_check_on: frozenset[str] = frozenset(),
                  guard: StageGuard | None = None, confirm_timeout: int = 0) -> Result:
    """Deploy one host: ``targets`` maps the host's name (a NetBox device) to its target."""
    target = targets[task.host.name]
    if guard is not None and not guard.may_start():  # a staged run halted: this device is not touched
        res = guard.skipped(target, run)
    else:
        res = deploy_device(target, commit=commit, run=run, creds=creds,
                            fail_post_check=task.host.name in fail_post_check_on
                            or target.device in fail_post_check_on, confirm_timeout=confirm_timeout)
        if guard is not None:
            guard.done(res)
    return Result(host=task.host, result=res, diff=res.diff, changed=res.status == "changed",
                  failed=res.status in PROBLEM_STATUSES)


def host_of_target(plan: LabPlan, targets: Mapping[str, DeployTarget], hosts: Collection[str]) -> dict[str, str]:
    """``{lab node: inventory host}``: the node's NetBox device that is a host (a virtual chassis' master)."""
    out: dict[str, str] = {}
    for n in plan.nodes:
        if n.name in targets:
            host = next((d for d in n.devices if d in hosts), None)
            if host is not None:
                out[n.name] = host
    return out


def deploy_nornir(snapshot: Snapshot, plan: LabPlan, targets: Mapping[str, DeployTarget], *, workers: int
                  ) -> tuple[Nornir, dict[str, str]]:
    """Nornir over the inventory plugin's hosts that have a target, and ``{lab node: host name}``."""
    nr = InitNornir(inventory={"plugin": INVENTORY_PLUGIN, "options": {"snapshot": snapshot}},
                    runner={"plugin": "threaded", "options": {"num_workers": max(1, workers)}},
                    logging={"enabled": False})
    hosts = host_of_target(plan, targets, nr.inventory.hosts)
    wanted = set(hosts.values())
    return nr.filter(filter_func=lambda h: h.name in wanted), hosts


def run_stage(nr: Nornir, stage: list[DeployTarget], hosts: Mapping[str, str], *, run: Run, commit: bool,
              creds: Credentials | None, fail_post_check_on: frozenset[str], guard: StageGuard | None,
              confirm_timeout: int = 0) -> list[DeviceResult]:
    """One stage of targets through :func:`deploy_config`, in name order. A task that raised (or a node
    the inventory does not hold) is ``failed``, with why, and recorded in the run."""
    by_host = {hosts[t.device]: t for t in stage if t.device in hosts}
    agg = nr.filter(filter_func=lambda h: h.name in by_host).run(
        task=deploy_config, targets=by_host, run=run, commit=commit, creds=creds,
        fail_post_check_on=fail_post_check_on, guard=guard, confirm_timeout=confirm_timeout)
    out: list[DeviceResult] = []
    for target in sorted(stage, key=lambda t: t.device):
        host = hosts.get(target.device)
        multi = agg[host] if host is not None and host in agg else None
        res = multi[0].result if multi else None
        if not isinstance(res, DeviceResult):
            why = (multi[0].exception or res) if multi else f"no Nornir inventory host for lab node {target.device}"
            res = DeviceResult(target.device, "failed", error=str(why))
            run.record_device(target.device, res.as_summary())
        out.append(res)
    return out
