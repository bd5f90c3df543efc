"""The lab: one network namespace per NetBox device tagged ``lab``, real FRR / OVS / sshd in each.

``plan_from_snapshot`` (NetBox → :class:`LabPlan`), ``lab_up`` / ``lab_down`` / ``lab_status`` (the engine).
See docs/lab.md.

The plan and the Linux names (:mod:`.plan`, :mod:`.names`) are runtime: deploy targets and verify read
them. The engine (:mod:`.engine`, :mod:`.day0`, :mod:`.run`, :mod:`.bench`) is tooling, loaded on first use
of one of its names here, so that importing the plan never imports the engine (docs/design.md,
"Runtime and tooling"; tests/unit/test_code_shape.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from campusnet.lab.names import linux_ifname
from campusnet.lab.plan import LabInterface, LabLink, LabNode, LabPlan, LinkEnd, plan_from_snapshot

if TYPE_CHECKING:
    from campusnet.lab.day0 import render_day0
    from campusnet.lab.engine import LabStatus, LabUpResult, lab_down, lab_status, lab_up, node_exec

_ENGINE = {"render_day0": "campusnet.lab.day0", "LabStatus": "campusnet.lab.engine",
           "LabUpResult": "campusnet.lab.engine", "lab_down": "campusnet.lab.engine",
           "lab_status": "campusnet.lab.engine", "lab_up": "campusnet.lab.engine", "node_exec": "campusnet.lab.engine"}

__all__ = ["LabInterface", "LabLink", "LabNode", "LabPlan", "LabStatus", "LabUpResult", "LinkEnd", "lab_down",
           "lab_status", "lab_up", "linux_ifname", "node_exec", "plan_from_snapshot", "render_day0"]


def __getattr__(name: str) -> Any:
    """The engine's names, imported on first use."""
    if name in _ENGINE:
        import importlib

        return getattr(importlib.import_module(_ENGINE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
