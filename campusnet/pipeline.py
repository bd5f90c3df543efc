"""The one path from NetBox (or a snapshot) to intents and the lab plan.

Every verb (render, deploy, verify, check-change, demo, report), the Nornir inventory plugin and the Ansible
modules reach intents here, with one error policy: a device that cannot be built does not stop the others;
its :class:`~campusnet.intent.IntentError` (code, device, field) is collected in :attr:`Pipeline.errors`.
A caller that needs every device (deploy, verify) asks for ``strict=True`` (or calls :meth:`Pipeline.check`)
and gets one E211 naming them all.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from campusnet import intent as _intent
from campusnet import settings
from campusnet.intent.errors import IntentError, IntentErrors
from campusnet.intent.models import DeviceIntent
from campusnet.lab.plan import LabPlan, plan_from_snapshot
from campusnet.settings import NetBoxTarget
from campusnet.sot import Snapshot, load_or_read
from campusnet.sot.limit import Limit, selected


def read_snapshot(snapshot: Path | str | Snapshot | None = None, *, target: NetBoxTarget | None = None,
                  branch: str | None = None, incremental: bool = False) -> Snapshot:
    """A snapshot object as is, a snapshot file, or one bulk read of NetBox (``branch``: a branch schema id).
    ``incremental``: start from the cached snapshot of main and read only the changes since
    (:mod:`campusnet.sot.incremental`; a full read, which then fills the cache, when there is none)."""
    if isinstance(snapshot, Snapshot):
        return snapshot
    tgt = None
    if snapshot is None:
        tgt = target or settings.netbox_target()
        if branch:
            tgt = tgt.with_branch(branch)
        if incremental:
            from campusnet.sot.incremental import read_incremental

            return read_incremental(tgt)[0]
    return load_or_read(snapshot, tgt)


def lab_plan(snapshot: Path | str | None = None, *, target: NetBoxTarget | None = None,
             limit: Limit | str | None = None) -> LabPlan:
    """The lab plan alone (``campusnet lab``, no intents): ``limit`` cuts the snapshot, the lab is what is left."""
    return plan_from_snapshot(load_or_read(snapshot, target, limit=limit))


@dataclass
class Pipeline:
    """A snapshot, the intents of its configured devices (those ``limit`` selects) and the per-device errors;
    ``emulations``: the linux-frr twin of each lab device among them (the emulation step's output, never a
    field of a production intent)."""

    snapshot: Snapshot
    intents: dict[str, DeviceIntent]
    errors: list[IntentError] = field(default_factory=list)
    read_seconds: float = 0.0
    intent_seconds: float = 0.0
    emulations: dict[str, DeviceIntent] = field(default_factory=dict)

    @classmethod
    def build(cls, snap: Snapshot, *, limit: Limit | str | list[str] | None = None, lab: bool = True,
              strict: bool = False) -> Pipeline:
        """Intents of ``snap``. ``limit`` selects devices (E206 when it matches none); derivations still see the
        whole campus. ``lab``: also the emulation step (:attr:`emulations`). ``strict``: any device error is an
        E211 (:class:`IntentErrors`)."""
        lim = limit if isinstance(limit, Limit) or limit is None else Limit.parse(limit)
        if lim is not None:
            selected(snap, lim)  # E206: a limit that matches no device is an error, not "0 devices"
        t0 = time.perf_counter()
        # looked up on the package at call time: one build function, and tests can watch it
        intents, errors = _intent.build_intents_collect(snap, limit=lim.matches if lim else None)
        emulations: dict[str, DeviceIntent] = {}
        if lab:
            emulations, emu_errors = _intent.build_emulations_collect(snap, intents)
            for e in emu_errors:  # a lab device whose twin fails fails as a whole, as deploy and verify need both
                intents.pop(e.device, None)
            errors = [*errors, *emu_errors]
        pipe = cls(snap, intents, list(errors), intent_seconds=time.perf_counter() - t0, emulations=emulations)
        return pipe.check() if strict else pipe

    @classmethod
    def load(cls, *, snapshot: Path | str | Snapshot | None = None, target: NetBoxTarget | None = None,
             branch: str | None = None, limit: Limit | str | list[str] | None = None, lab: bool = True,
             strict: bool = True, incremental: bool = False) -> Pipeline:
        """Read (:func:`read_snapshot`; ``incremental``: from the cached snapshot plus NetBox's changes since)
        and build (:meth:`build`)."""
        t0 = time.perf_counter()
        snap = read_snapshot(snapshot, target=target, branch=branch, incremental=incremental)
        read_s = time.perf_counter() - t0
        pipe = cls.build(snap, limit=limit, lab=lab, strict=strict)
        pipe.read_seconds = read_s
        return pipe

    def check(self) -> Pipeline:
        """Self, when every selected device was built; else E211 listing each device and field."""
        if self.errors:
            raise IntentErrors(self.errors)
        return self

    @property
    def errors_by_device(self) -> Mapping[str, IntentError]:
        return {e.device: e for e in self.errors}

    @cached_property
    def plan(self) -> LabPlan:
        """The lab plan of the whole snapshot (built on first use)."""
        return plan_from_snapshot(self.snapshot)
