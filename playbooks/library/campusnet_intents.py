#!/usr/bin/python
"""Ansible module ``campusnet_intents``: read NetBox once (or a snapshot file) and build every device's
intent through campusnet's ``Pipeline``, writing one JSON file per host for ``campusnet_render``.

The intent stage runs once per play (``run_once``), as in AVD (structured config, then config per host):
the render task of each host then loads only its own intent.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: campusnet_intents
short_description: Build campusnet intents for every configured device (one bulk NetBox read)
description:
  - Loads the snapshot (or reads NetBox once), builds every device's intent with C(campusnet.pipeline.Pipeline)
    and writes C(<dest>/<device>.json) plus C(<dest>/index.json) (host name, chassis name or member -> device;
    devices whose intent cannot be built -> their error), and for each lab device its linux-frr emulation
    in C(<dest>/lab/<device>.json).
  - C(limit) selects devices; the snapshot stays whole (as C(campusnet render --limit)).
  - Runs on the controller, in the Python that has campusnet (the project's virtualenv).
options:
  snapshot:
    description: Snapshot JSON file; default: read the configured NetBox.
    type: path
  limit:
    description: campusnet --limit text.
    type: str
  branch:
    description: NetBox branch schema id.
    type: str
  dest:
    description: Directory for the intent files; default: a new temporary directory (returned as C(dest)).
    type: path
author: campusnet
"""

RETURN = r"""
dest:
  description: The directory holding the intent files.
  type: str
  returned: always
hosts:
  description: The devices an intent was built for.
  type: list
  returned: always
"""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "snapshot": {"type": "path"},
            "limit": {"type": "str"},
            "branch": {"type": "str"},
            "dest": {"type": "path"},
        },
        supports_check_mode=True,
    )
    try:
        from campusnet.errors import CampusnetError
        from campusnet.pipeline import Pipeline
    except ImportError as exc:
        module.fail_json(msg=f"campusnet is not importable by {sys.executable} ({exc}): "
                             "set ansible_python_interpreter to the project's virtualenv")
        return
    p = module.params
    try:
        # the whole snapshot; `limit` selects devices (derivations see the whole campus, as in the CLI)
        pipe = Pipeline.load(snapshot=p["snapshot"], branch=p["branch"], limit=p["limit"], strict=False)
    except CampusnetError as exc:
        module.fail_json(msg=str(exc), code=exc.code)
        return
    snap, intents, errors = pipe.snapshot, pipe.intents, pipe.errors
    dest = p["dest"] or tempfile.mkdtemp(prefix="campusnet-intents-")
    os.makedirs(dest, exist_ok=True)
    index: dict[str, str] = {}
    for name, intent in intents.items():
        with open(os.path.join(dest, f"{name}.json"), "w", encoding="utf-8") as f:
            f.write(intent.model_dump_json())
    if pipe.emulations:  # a lab device's linux-frr twin: its own file, so the host's intent stays production
        os.makedirs(os.path.join(dest, "lab"), exist_ok=True)
    for name, emulation in pipe.emulations.items():
        with open(os.path.join(dest, "lab", f"{name}.json"), "w", encoding="utf-8") as f:
            f.write(emulation.model_dump_json())
    for name in (*intents, *(e.device for e in errors)):
        index[name] = name
        device = snap.device(name)
        if device.virtual_chassis:
            index.setdefault(device.virtual_chassis, name)
            for member in snap.vc_members(device.virtual_chassis):
                index.setdefault(member.name, name)
    with open(os.path.join(dest, "index.json"), "w", encoding="utf-8") as f:
        json.dump({"hosts": index, "errors": {e.device: str(e) for e in errors}}, f, indent=1, sort_keys=True)
    # a device that cannot be built fails in its own render task, with the error naming device and field
    result: dict[str, Any] = {"changed": False, "dest": dest, "hosts": sorted(intents),
                              "errors": {e.device: str(e) for e in errors}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
