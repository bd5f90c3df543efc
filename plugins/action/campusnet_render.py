"""Action plugin ``campusnet_render``: the module of the same name (``playbooks/library/campusnet_render.py``,
which documents the options), run in the controller's own process instead of one Python per host.

The controller already imported campusnet when ``campusnet_inventory`` built the inventory, so a render
costs the rendering only (no AnsiballZ payload, no interpreter start, no re-import per host).
"""

from __future__ import annotations

import json
import os
from typing import Any

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):  # type: ignore[misc]
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("host", "intents", "dest", "lab", "fake_secrets"))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        _, args = self.validate_argument_spec(argument_spec={
            "host": {"type": "str", "required": True},
            "intents": {"type": "path", "required": True},
            "dest": {"type": "path", "required": True},
            "lab": {"type": "bool", "default": True},
            "fake_secrets": {"type": "bool", "default": False},
        })
        try:
            from campusnet.errors import CampusnetError
            from campusnet.intent import DeviceIntent
            from campusnet.render import placeholder_secret, render_all, render_device
        except ImportError as exc:
            return {**result, "failed": True, "msg": f"campusnet is not importable by the controller ({exc}): "
                                                     "run Ansible from the project's virtualenv"}
        with open(os.path.join(args["intents"], "index.json"), encoding="utf-8") as f:
            index = json.load(f)
        device = index["hosts"].get(args["host"])
        if device in index["errors"]:
            return {**result, "failed": True, "msg": index["errors"][device]}
        if device is None:
            return {**result, "failed": True, "msg": f"E310: {args['host']} field 'intent': no intent for this "
                    "host (not a configured device: platform outside the registry, or a status the intent "
                    "stage skips)"}
        secrets = placeholder_secret if args["fake_secrets"] else None
        try:
            with open(os.path.join(args["intents"], f"{device}.json"), encoding="utf-8") as f:
                intent = DeviceIntent.model_validate_json(f.read())
            emulation = None
            lab_file = os.path.join(args["intents"], "lab", f"{device}.json")
            if args["lab"] and os.path.exists(lab_file):
                with open(lab_file, encoding="utf-8") as f:
                    emulation = DeviceIntent.model_validate_json(f.read())
            if self._task.check_mode:
                files = render_device(intent, lab=args["lab"], secrets=secrets, emulation=emulation)
                return {**result, "changed": False, "device": device, "files": sorted(files)}
            summary = render_all([intent], args["dest"], lab=args["lab"], secrets=secrets,
                                 emulations={intent.hostname: emulation} if emulation else None)
        except CampusnetError as exc:
            return {**result, "failed": True, "msg": str(exc), "code": exc.code}
        return {**result, "changed": summary.changed > 0, "device": device,
                "files": [str(w) for w in summary.written]}
