"""The shared front of every verb that acts on the network: NetBox (or a snapshot) → intents → lab plan.

One bulk read, one intent build: deploy, verify, check-change and demo all start here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from campusnet import settings
from campusnet.intent import build_intents
from campusnet.intent.models import DeviceIntent
from campusnet.lab.plan import LabPlan, plan_from_snapshot
from campusnet.settings import NetBoxTarget
from campusnet.sot import Snapshot, load_or_read


@dataclass
class Pipeline:
    snapshot: Snapshot
    intents: dict[str, DeviceIntent]
    plan: LabPlan

    @classmethod
    def load(cls, *, snapshot: Path | None = None, target: NetBoxTarget | None = None,
             branch: str | None = None) -> Pipeline:
        tgt = None
        if snapshot is None:
            tgt = target or settings.netbox_target()
            if branch:
                tgt = tgt.with_branch(branch)
        snap = load_or_read(snapshot, tgt)
        intents = build_intents(snap)
        return cls(snap, intents, plan_from_snapshot(snap))
