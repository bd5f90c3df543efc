"""Nornir task: deploy one device (backup → diff → push → post-checks → rollback), via the library.

Thin on purpose: all logic lives in :func:`campusnet.deploy.engine.deploy_device`, which the Ansible
module (``playbooks/library/campusnet_deploy.py``) calls too.
"""

from __future__ import annotations

from collections.abc import Mapping

from nornir.core.task import Result, Task

from campusnet.deploy.engine import PROBLEM_STATUSES, DeployTarget, StageGuard, deploy_device
from campusnet.deploy.store import Run
from campusnet.deploy.transport import Credentials


def deploy_config(task: Task, *, targets: Mapping[str, DeployTarget], commit: bool, run: Run,
                  creds: Credentials | None = None, fail_post_check_on: frozenset[str] = frozenset(),
                  guard: StageGuard | None = None) -> Result:
    target = targets[task.host.name]
    if guard is not None and not guard.may_start():  # a staged run halted: this device is not touched
        res = guard.skipped(target, run)
    else:
        res = deploy_device(target, commit=commit, run=run, creds=creds,
                            fail_post_check=task.host.name in fail_post_check_on
                            or target.device in fail_post_check_on)
        if guard is not None:
            guard.done(res)
    return Result(host=task.host, result=res, diff=res.diff, changed=res.status == "changed",
                  failed=res.status in PROBLEM_STATUSES)
