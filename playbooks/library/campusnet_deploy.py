#!/usr/bin/python
"""Ansible module ``campusnet_deploy``: the deploy lifecycle with campusnet's library.

``action: prepare`` (once, on the controller): read NetBox once, build the lab targets, open a run record;
``action: device`` (per lab node, delegated to the controller): back up, diff, push, post-check, roll back —
:func:`campusnet.deploy.engine.deploy_device`, exactly what the Nornir task calls;
``action: finish``: write the run summary and fail when any device failed or was rolled back.
"""

from __future__ import annotations

import dataclasses
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
    })
    try:
        from campusnet.deploy.engine import DeployTarget, deploy_device
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
            targets = lab_targets(pipe.plan, pipe.intents, only=p["limit"])
            if not targets:
                module.fail_json(msg="no lab node to deploy (check --limit and the `lab` tag in NetBox)")
            run = Run.new(commit=p["commit"])
            run.extra["via"] = "ansible"
            run.extra["netbox"] = {"url": pipe.snapshot.source.url, "read_at": str(pipe.snapshot.source.read_at)}
            run.save_meta()
            tdir = private_dir(run.path / "targets")
            for name, t in targets.items():
                fd = os.open(tdir / f"{name}.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as fh:
                    json.dump(dataclasses.asdict(t), fh)
            nodes = [{"name": n, "host": t.host} for n, t in sorted(targets.items())]
            module.exit_json(changed=False, run=str(run.path), run_id=run.run_id, nodes=nodes)
        elif p["action"] == "device":
            run = Run.open(Path(p["run"]))
            data = json.loads((run.path / "targets" / f"{p['node']}.json").read_text())
            target = DeployTarget(**data)
            res = deploy_device(target, commit=run.commit, run=run, fail_post_check=p["fail_post_check"])
            out: dict[str, Any] = {"status": res.status, "diff_lines": res.diff_lines, "backup": res.backup,
                                   "error": res.error, "post_check_failures": res.post_check_failures}
            failed = res.status in ("failed", "rolled-back")
            if failed:
                module.fail_json(msg=f"{p['node']}: {res.status}: {res.error or '; '.join(res.post_check_failures)}",
                                 **out)
            module.exit_json(changed=res.status == "changed", diff={"prepared": res.diff} if res.diff else {}, **out)
        else:
            run = Run.open(Path(p["run"]))
            path = run.write_summary()
            summary = json.loads(path.read_text())
            bad = {d: v["status"] for d, v in summary["devices"].items() if v["status"] in ("failed", "rolled-back")}
            counts: dict[str, int] = {}
            for v in summary["devices"].values():
                counts[v["status"]] = counts.get(v["status"], 0) + 1
            if bad:
                module.fail_json(msg=f"devices failed or rolled back: {bad}", counts=counts, summary=str(path))
            module.exit_json(changed=counts.get("changed", 0) > 0, counts=counts, summary=str(path))
    except CampusnetError as exc:
        module.fail_json(msg=str(exc), code=exc.code)


if __name__ == "__main__":
    main()
