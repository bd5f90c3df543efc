"""The deploy gate: no push on bad data.

Before any SSH session, ``deploy --commit`` and ``rollback --commit`` (and the Ansible path's ``prepare``)
run every validation rule (:func:`campusnet.rules.run_rules`) over the whole snapshot — a link or a LAG needs
both ends to be judged — and keep the violations that matter for the devices in scope:

* those about a device in scope or one of its components (interfaces, cables and links with an end on it:
  :func:`campusnet.rules.registry.concerning`; IP addresses assigned to its interfaces);
* those about shared data that names no device at all (a prefix, a VLAN, an ASN, a VRF): such data is
  rendered into any device, so it gates every push.

Violations about *other* devices do not block a ``--limit`` run. Any violation left refuses the push
(:class:`GateRefused`, ``E470`` for deploy, ``E471`` for rollback; the CLI prints each one and exits 1),
unless ``force``: then the push goes ahead and the run record keeps ``gate.forced: true`` and every
violation it overrode. A dry run shows them as a warning and still diffs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from campusnet.errors import CampusnetError

if TYPE_CHECKING:
    from campusnet.lab.plan import LabPlan
    from campusnet.rules.registry import Violation
    from campusnet.sot.models import Snapshot


@dataclass
class GateResult:
    """What the gate found for one run: the violations in scope, and whether they were overridden."""

    action: str  # deploy | rollback
    devices: list[str]
    violations: list[Violation] = field(default_factory=list)
    forced: bool = False
    commit: bool = True
    error: str | None = None  # the rules could not run (rollback --force with NetBox unreachable)

    @property
    def clean(self) -> bool:
        return not self.violations and self.error is None

    @property
    def overridden(self) -> bool:
        """``--force`` let a push go ahead over violations (or over rules that could not run)."""
        return self.forced and self.commit and not self.clean

    def as_record(self) -> dict[str, Any]:
        """The ``gate`` entry of run.json / summary.json."""
        return {"checked": self.error is None, "forced": self.overridden, "devices": self.devices,
                "violations": [v.model_dump() for v in self.violations], "error": self.error}


class GateRefused(CampusnetError):
    """The push was refused: the data in scope breaks validation rules (``violations``)."""

    def __init__(self, result: GateResult):
        self.result = result
        self.violations = result.violations
        rules = ", ".join(sorted({v.rule for v in result.violations}))
        where = f"{result.action} of {', '.join(result.devices[:6])}" + (" …" if len(result.devices) > 6 else "")
        if result.action == "deploy":
            super().__init__("E470", f"{len(result.violations)} rule violation(s) ({rules}) on the devices in scope: "
                             "nothing was pushed. Fix the data (`campusnet validate`) or override with --force",
                             obj=where, field="data")
        else:
            super().__init__("E471", f"{len(result.violations)} rule violation(s) ({rules}) on the devices in scope: "
                             "nothing was restored. Fix the data (`campusnet validate`) or override with --force",
                             obj=where, field="data")


def scope_devices(plan: LabPlan | None, nodes: Iterable[str]) -> list[str]:
    """The NetBox devices lab nodes stand for (a virtual chassis: all its members); unknown names as given."""
    by_node = {n.name: n.devices for n in plan.nodes} if plan is not None else {}
    out: set[str] = set()
    for name in nodes:
        out.update(by_node.get(name) or (name,))
    return sorted(out)


def _owners(snapshot: Snapshot) -> dict[tuple[str, str], set[str]]:
    """Objects whose natural key does not name their device, mapped to it: an IP address (``vrf:address``)
    belongs to the device of its interface."""
    out: dict[tuple[str, str], set[str]] = {}
    for ip in snapshot.ip_addresses:
        if ip.device:
            out.setdefault(("ipam.ipaddress", ip.key), set()).add(ip.device)
    return out


def gate_violations(snapshot: Snapshot, devices: Iterable[str]) -> list[Violation]:
    """The violations that gate a push to ``devices`` (see the module docstring)."""
    from campusnet.rules import run_rules
    from campusnet.rules.registry import concerning

    scope = set(devices)
    everything = run_rules(snapshot)
    owners = _owners(snapshot)
    all_devices = {d.name for d in snapshot.devices}

    def about(v: Violation, names: set[str]) -> bool:
        return bool(concerning([v], names)) or bool(owners.get((v.object_type, v.object_name), set()) & names)

    return [v for v in everything if about(v, scope) or not about(v, all_devices)]


def check_gate(snapshot: Snapshot, devices: Iterable[str], *, action: str, force: bool, commit: bool
               ) -> GateResult:
    """Run the gate; raise :class:`GateRefused` when a commit would push over violations without ``force``."""
    names = sorted(set(devices))
    res = GateResult(action, names, gate_violations(snapshot, names), forced=force, commit=commit)
    if res.violations and commit and not force:
        raise GateRefused(res)
    return res
