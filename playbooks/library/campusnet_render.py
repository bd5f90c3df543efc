#!/usr/bin/python
"""Ansible module ``campusnet_render``: render one host's configuration files with campusnet's library
(``campusnet.render.render_all`` → ``render_device``, what the Nornir task and the CLI call) into ``dest``.
"""

from __future__ import annotations

import json
import os
import sys

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: campusnet_render
short_description: Render one device's configuration files with campusnet
description:
  - Loads the host's intent written by C(campusnet_intents) and renders it with C(campusnet.render.render_all)
    (C(render_device) + the writer of C(campusnet render)), so files land where the CLI and the Nornir task
    put them; unchanged files are not rewritten.
  - Runs on the controller (C(delegate_to: localhost)), in the Python that has campusnet.
options:
  host:
    description: The inventory host (device name, or virtual chassis name / member).
    type: str
    required: true
  intents:
    description: The directory C(campusnet_intents) returned.
    type: path
    required: true
  dest:
    description: Output directory.
    type: path
    required: true
  lab:
    description: Also render the lab emulation files (C(campusnet render --lab/--no-lab)).
    type: bool
    default: true
  fake_secrets:
    description: Render secrets as C(FAKE-<name>) (review only, never deploy; C(campusnet render --fake-secrets)).
    type: bool
    default: false
author: campusnet
"""

RETURN = r"""
files:
  description: The files written (paths).
  type: list
  returned: always
"""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "host": {"type": "str", "required": True},
            "intents": {"type": "path", "required": True},
            "dest": {"type": "path", "required": True},
            "lab": {"type": "bool", "default": True},
            "fake_secrets": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    try:
        from campusnet.errors import CampusnetError
        from campusnet.intent import DeviceIntent
        from campusnet.render import placeholder_secret, render_all, render_device
    except ImportError as exc:
        module.fail_json(msg=f"campusnet is not importable by {sys.executable} ({exc}): "
                             "set ansible_python_interpreter to the project's virtualenv")
        return
    p = module.params
    with open(os.path.join(p["intents"], "index.json"), encoding="utf-8") as f:
        index = json.load(f)
    device = index["hosts"].get(p["host"])
    if device in index["errors"]:
        module.fail_json(msg=index["errors"][device])
        return
    if device is None:
        module.fail_json(msg=f"E310: {p['host']} field 'intent': no intent for this host (not a configured "
                             "device: platform outside the registry, or a status the intent stage skips)")
        return
    secrets = placeholder_secret if p["fake_secrets"] else None
    try:
        with open(os.path.join(p["intents"], f"{device}.json"), encoding="utf-8") as f:
            intent = DeviceIntent.model_validate_json(f.read())
        if module.check_mode:
            files = render_device(intent, lab=p["lab"], secrets=secrets)
            module.exit_json(changed=False, files=sorted(files))
            return
        summary = render_all([intent], p["dest"], lab=p["lab"], secrets=secrets)
    except CampusnetError as exc:
        module.fail_json(msg=str(exc), code=exc.code)
        return
    module.exit_json(changed=summary.changed > 0, device=device, files=[str(w) for w in summary.written])


if __name__ == "__main__":
    main()
