"""The lab: one network namespace per NetBox device tagged ``lab``, real FRR / OVS / sshd in each.

``plan_from_snapshot`` (NetBox → :class:`LabPlan`), ``lab_up`` / ``lab_down`` / ``lab_status`` (the engine).
See docs/lab.md.
"""

from __future__ import annotations

from campusnet.lab.day0 import render_day0
from campusnet.lab.engine import LabStatus, LabUpResult, lab_down, lab_status, lab_up, node_exec
from campusnet.lab.names import linux_ifname
from campusnet.lab.plan import LabInterface, LabLink, LabNode, LabPlan, LinkEnd, plan_from_snapshot

__all__ = ["LabInterface", "LabLink", "LabNode", "LabPlan", "LabStatus", "LabUpResult", "LinkEnd", "lab_down",
           "lab_status", "lab_up", "linux_ifname", "node_exec", "plan_from_snapshot", "render_day0"]
