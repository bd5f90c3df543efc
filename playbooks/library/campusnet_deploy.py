#!/usr/bin/python
"""Ansible module ``campusnet_deploy``: the deploy lifecycle with campusnet's library.

``action: prepare`` (once, on the controller): read NetBox once, build the lab targets, run the deploy gate
(the validation rules over the devices in scope: a violation fails the play before any SSH session unless
``force: true``, which the run record keeps), open a run record;
``action: device`` (per lab node, delegated to the controller): take the node's lock (``wait`` seconds at
most), back up, diff, push, post-check, roll back — :func:`campusnet.deploy.engine.deploy_device`, exactly
what the Nornir task calls;
``action: finish``: write the run summary and fail when any device failed, was rolled back, or its
rollback failed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: campusnet_deploy
short_description: Deploy campusnet intent to lab nodes (backup, diff, push, post-check, rollback)
options:
  action:
    description: prepare | device | finish
    type: str
    required: true
  commit:
    description: Push the change (default false: back up and diff only).
    type: bool
    default: false
  snapshot:
    description: Snapshot JSON file (prepare); default: read NetBox.
    type: path
  branch:
    description: NetBox branch schema id (prepare).
    type: str
  limit:
    description: Lab nodes or NetBox devices to deploy (prepare).
    type: list
    elements: str
  run:
    description: The run directory returned by prepare (device, finish).
    type: path
  node:
    description: The lab node (device).
    type: str
  fail_post_check:
    description: Force this node's post-check to fail (rollback rehearsal).
    type: bool
    default: false
  force:
    description: Push even when the validation rules find violations on the devices in scope (prepare); the
      run record keeps forced=true and the violations.
    type: bool
    default: false
  wait:
    description: Seconds to wait for a node locked by another deploy or rollback (device); 0 refuses at once.
    type: float
    default: 0
  accept_new_host_keys:
    description: Learn the SSH host key of a node not in known_hosts (device); a changed key is still refused.
    type: bool
    default: false
  production:
    description: Deploy to the limit devices themselves (VRP/Comware drivers, their management address), not
      their lab nodes (prepare). Needs limit.
    type: bool
    default: false
  replay:
    description: Rehearse a production deploy against the recorded sessions in this directory
      (DIR/<platform>/transcript.yaml, e.g. tests/fixtures/vendor); implies production (prepare).
    type: path
  confirm_timeout:
    description: Seconds of the device's own revert timer for the push (commit trial / commit delay /
      FRR commit confirmed); 0 disables it (prepare).
    type: int
author: campusnet
"""


def main() -> None:
    module = AnsibleModule(argument_spec={
        "action": {"type": "str", "required": True, "choices": ["prepare", "device", "finish"]},
        "commit": {"type": "bool", "default": False},
        "snapshot": {"type": "path"},
        "branch": {"type": "str"},
        "limit": {"type": "list", "elements": "str"},
        "run": {"type": "path"},
        "node": {"type": "str"},
        "fail_post_check": {"type": "bool", "default": False},
        "force": {"type": "bool", "default": False},
        "wait": {"type": "float", "default": 0.0},
        "accept_new_host_keys": {"type": "bool", "default": False},
        "production": {"type": "bool", "default": False},
        "replay": {"type": "path"},
        "confirm_timeout": {"type": "int"},
    })
    try:
        from campusnet.deploy.engine import FAILURE_STATUSES, PROBLEM_STATUSES, DeployTarget, deploy_device
        from campusnet.deploy.store import Run
        from campusnet.errors import CampusnetError
    except ImportError as exc:
        module.fail_json(msg=f"campusnet is not importable by {sys.executable} ({exc}): "
                             "run ansible-playbook from the project's virtualenv")
        return
    p = module.params
    try:
        if p["action"] == "prepare":
            from campusnet.deploy.targets import lab_targets
            from campusnet.pipeline import Pipeline
            from campusnet.private import private_dir

            pipe = Pipeline.load(snapshot=Path(p["snapshot"]) if p["snapshot"] else None, branch=p["branch"])
            if p["production"] or p["replay"]:  # the devices themselves, as `campusnet deploy --production`
                from campusnet.deploy.production import production_for

                targets = production_for(pipe, p["limit"])
            else:
                targets = lab_targets(pipe.plan, pipe.intents, pipe.emulations, only=p["limit"])
            if not targets:
                module.fail_json(msg="no lab node to deploy (check --limit and the `lab` tag in NetBox)")
            from campusnet.deploy.gate import GateRefused, check_gate, scope_devices

            try:
                gate = check_gate(pipe.snapshot, scope_devices(pipe.plan, targets), action="deploy",
                                  force=p["force"], commit=p["commit"])
            except GateRefused as refused:
                module.fail_json(msg=str(refused) + ": " + "; ".join(
                    f"{v.rule} {v.object_type} {v.object_name} field {v.field}: {v.message}"
                    for v in refused.violations), code=refused.code,
                    violations=[v.model_dump() for v in refused.violations])
                return
            run = Run.new(commit=p["commit"])
            run.extra["via"] = "ansible"
            run.extra["netbox"] = {"url": pipe.snapshot.source.url, "read_at": str(pipe.snapshot.source.read_at)}
            run.extra["gate"] = gate.as_record()
            run.extra["forced"] = gate.overridden
            run.extra["replay"] = str(Path(p["replay"]).resolve()) if p["replay"] else None
            if p["confirm_timeout"] is not None:
                run.extra["confirm_timeout"] = p["confirm_timeout"]
            run.save_meta()
            tdir = private_dir(run.path / "targets")
            for name, t in targets.items():
                fd = os.open(tdir / f"{name}.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as fh:
                    json.dump(t.model_dump(mode="json"), fh)
            nodes = [{"name": n, "host": t.host} for n, t in sorted(targets.items())]
            module.exit_json(changed=False, run=str(run.path), run_id=run.run_id, nodes=nodes,
                             violations=[v.model_dump() for v in gate.violations], forced=gate.overridden)
        elif p["action"] == "device":
            run = Run.open(Path(p["run"]))
            tfile = run.path / "targets" / f"{p['node']}.json"
            try:
                data = json.loads(tfile.read_text())
            except (OSError, ValueError) as exc:
                raise CampusnetError("E480", f"cannot read the deploy target ({exc})", obj=str(tfile)) from None
            target = DeployTarget.load(data, obj=str(tfile))
            from campusnet.deploy.engine import DeviceResult
            from campusnet.deploy.lock import acquire
            from campusnet.deploy.transport import Credentials

            # one process per node here: the lock is per node, held while this process deploys it
            try:
                lock = acquire([target.device], run_id=run.run_id, wait=p["wait"],
                               action="deploy (ansible)" if run.commit else "deploy dry run (ansible)")
                creds = Credentials.from_environment(accept_new=True) if p["accept_new_host_keys"] else None
            except CampusnetError as busy:  # recorded, so that `finish` fails the run too
                res = DeviceResult(target.device, "failed", error=str(busy))
                run.record_device(target.device, {**res.as_summary(), "host": target.host, "driver": target.driver})
                module.fail_json(msg=str(busy), code=busy.code, status="failed")
                return
            from campusnet.deploy.engine import DEFAULT_CONFIRM_TIMEOUT

            replay = run.extra.get("replay")
            connect = None
            if replay:  # recorded sessions: no SSH (`deploy --replay`)
                from campusnet.deploy.replay import Replayer

                connect = Replayer(Path(replay))
            timer = int(run.extra.get("confirm_timeout", DEFAULT_CONFIRM_TIMEOUT)) if run.commit else 0
            with lock:
                res = deploy_device(target, commit=run.commit, run=run, fail_post_check=p["fail_post_check"],
                                    creds=creds, connect=connect, confirm_timeout=timer)
            out: dict[str, Any] = {"status": res.status, "diff_lines": res.diff_lines, "backup": res.backup,
                                   "error": res.error, "post_check_failures": res.post_check_failures}
            failed = res.status in FAILURE_STATUSES
            if failed:
                module.fail_json(msg=f"{p['node']}: {res.status}: {res.error or '; '.join(res.post_check_failures)}",
                                 **out)
            module.exit_json(changed=res.status == "changed", diff={"prepared": res.diff} if res.diff else {}, **out)
        else:
            run = Run.open(Path(p["run"]))
            path = run.write_summary()
            summary = json.loads(path.read_text())
            bad = {d: v["status"] for d, v in summary["devices"].items() if v["status"] in PROBLEM_STATUSES}
            counts: dict[str, int] = {}
            for v in summary["devices"].values():
                counts[v["status"]] = counts.get(v["status"], 0) + 1
            if bad:
                module.fail_json(msg=f"devices failed, rolled back or not rolled back: {bad}", counts=counts,
                                 summary=str(path))
            module.exit_json(changed=counts.get("changed", 0) > 0, counts=counts, summary=str(path))
    except CampusnetError as exc:
        module.fail_json(msg=str(exc), code=exc.code)


if __name__ == "__main__":
    main()
