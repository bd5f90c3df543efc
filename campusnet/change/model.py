"""The records of one change check: the two rendered sides, their comparison, and the verdict.

Plain dataclasses with ``as_dict()`` (for ``result.json``); nothing here reads NetBox or the lab, so the
diff, summary and JUnit logic is unit-tested on hand-made renders.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# device -> file path relative to the device's directory -> text
Configs = dict[str, dict[str, str]]

DeviceStatus = Literal["added", "removed", "changed"]
FileStatus = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class Finding:
    """One rule violation, comparable across the two sides by (rule, object type, object, field)."""

    rule: str
    object_type: str
    object_name: str
    field: str
    message: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.rule, self.object_type, self.object_name, self.field)

    @classmethod
    def from_any(cls, v: Any) -> Finding:
        """From a :class:`campusnet.rules.Violation` or its JSON form (``campusnet validate --json``)."""
        d = v if isinstance(v, dict) else v.model_dump()
        return cls(str(d["rule"]), str(d["object_type"]), str(d["object_name"]), str(d["field"]), str(d["message"]))

    def __str__(self) -> str:
        return f"{self.rule}: {self.object_type} {self.object_name} field '{self.field}': {self.message}"


@dataclass
class Side:
    """One rendered state of the network: ``before`` (main / the git ref) or ``after`` (the branch / the
    working tree)."""

    label: str  # e.g. "NetBox main", "NetBox branch demo-expansion", "git v1.0 (1a2b3c4)"
    configs: Configs = field(default_factory=dict)
    render_errors: dict[str, str] = field(default_factory=dict)  # device -> message (field at fault)
    findings: list[Finding] | None = None  # None: the rules could not be run on this side
    lab_devices: list[str] = field(default_factory=list)
    platforms: dict[str, str] = field(default_factory=dict)  # device -> NetBox platform slug (when known)
    info: dict[str, Any] = field(default_factory=dict)  # where it came from, timings

    def as_dict(self, *, with_configs: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {"label": self.label, "devices": sorted(self.configs),
                             "render_errors": self.render_errors,
                             "findings": None if self.findings is None else [asdict(f) for f in self.findings],
                             "lab_devices": self.lab_devices, "info": self.info}
        if with_configs:
            d["configs"] = self.configs
        return d


@dataclass(frozen=True)
class FileDiff:
    path: str
    status: FileStatus
    added: int
    removed: int
    diff: str  # unified diff text
    remediation: tuple[str, ...] = ()  # VRP/Comware: hier_config's commands from before to after

    @property
    def lab(self) -> bool:
        """A lab emulation file (``lab/…``) rather than the device's own configuration."""
        return self.path.startswith("lab/")


@dataclass(frozen=True)
class DeviceDiff:
    device: str
    status: DeviceStatus
    files: tuple[FileDiff, ...]

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)

    @property
    def diff(self) -> str:
        return "".join(f.diff for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {"device": self.device, "status": self.status, "added": self.added, "removed": self.removed,
                "files": [asdict(f) for f in self.files]}


@dataclass(frozen=True)
class RuleResult:
    """One rule on the after-state: its findings, each marked new (not on the before side) or not."""

    rule: str
    category: str
    summary: str
    findings: tuple[Finding, ...] = ()
    new: tuple[Finding, ...] = ()
    resolved: tuple[Finding, ...] = ()  # on the before side, gone after

    @property
    def passed(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        new = {f.key for f in self.new}
        return {"rule": self.rule, "category": self.category, "summary": self.summary, "passed": self.passed,
                "findings": [asdict(f) | {"new": f.key in new} for f in self.findings],
                "resolved": [asdict(f) for f in self.resolved]}


@dataclass(frozen=True)
class CheckOutcome:
    """One verification check of the lab proof (from ``verify.json``)."""

    check: str
    device: str
    subject: str
    expected: str
    found: str
    passed: bool
    message: str

    @property
    def name(self) -> str:
        return f"{self.check}[{self.device}:{self.subject}]"


@dataclass
class LabStep:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class LabProof:
    """Build the after-state lab, deploy, verify; then restore the before-state (and say so)."""

    requested: bool = False
    ran: bool = False
    ok: bool = False
    reason: str = ""  # why it did not run, or what failed
    steps: list[LabStep] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    restored: bool = False
    restore_checks_passed: int = 0
    restore_checks_failed: int = 0
    nodes_added: list[str] = field(default_factory=list)
    nodes_removed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed_checks(self) -> int:
        return sum(c.passed for c in self.checks)

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed]

    def as_dict(self) -> dict[str, Any]:
        return {"requested": self.requested, "ran": self.ran, "ok": self.ok, "reason": self.reason,
                "steps": [asdict(s) for s in self.steps], "checks": [asdict(c) for c in self.checks],
                "restored": self.restored, "restore_checks_passed": self.restore_checks_passed,
                "restore_checks_failed": self.restore_checks_failed, "nodes_added": self.nodes_added,
                "nodes_removed": self.nodes_removed, "seconds": round(self.seconds, 1)}


@dataclass
class ChangeResult:
    name: str  # the change's name (branch name, git ref)
    kind: Literal["branch", "git-ref", "snapshots"]
    before: Side
    after: Side
    devices: list[DeviceDiff] = field(default_factory=list)
    rules: list[RuleResult] = field(default_factory=list)
    lab: LabProof = field(default_factory=LabProof)
    netbox_changes: list[dict[str, Any]] = field(default_factory=list)  # branch: the changes API, condensed
    warnings: list[str] = field(default_factory=list)
    fail_on: Literal["all", "new"] = "all"
    timings: dict[str, float] = field(default_factory=dict)
    out_dir: str = ""  # where the outputs were written

    # ---- the verdict -------------------------------------------------------------------------------
    @property
    def unchanged(self) -> int:
        changed = {d.device for d in self.devices}
        return len(set(self.after.configs) - changed)

    @property
    def failing_findings(self) -> list[Finding]:
        if self.fail_on == "new":
            return [f for r in self.rules for f in r.new]
        return [f for r in self.rules for f in r.findings]

    @property
    def rules_ran(self) -> bool:
        return self.after.findings is not None

    @property
    def ok(self) -> bool:
        lab_ok = self.lab.ok if self.lab.requested else True
        return not self.after.render_errors and self.rules_ran and not self.failing_findings and lab_ok

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def reasons(self) -> list[str]:
        """Why the change is refused (empty when it passes)."""
        out: list[str] = []
        if self.after.render_errors:
            out.append(f"{len(self.after.render_errors)} device(s) do not render: "
                       + ", ".join(sorted(self.after.render_errors)))
        if not self.rules_ran:
            out.append("the validation rules could not run on the after-state")
        bad = self.failing_findings
        if bad:
            rules = sorted({f.rule for f in bad})
            out.append(f"{len(bad)} rule violation(s) ({', '.join(rules)}): "
                       + "; ".join(f"{f.rule} on {f.object_name} ({f.field})" for f in bad[:5])
                       + (" …" if len(bad) > 5 else ""))
        if self.lab.requested and not self.lab.ok:
            out.append("lab proof: " + (self.lab.reason or "failed"))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "ok": self.ok, "exit_code": self.exit_code,
            "reasons": self.reasons(), "warnings": self.warnings, "fail_on": self.fail_on,
            "counts": self.counts(),
            "before": self.before.as_dict(), "after": self.after.as_dict(),
            "devices": [d.as_dict() for d in self.devices],
            "rules": [r.as_dict() for r in self.rules],
            "lab_proof": self.lab.as_dict(),
            "netbox_changes": self.netbox_changes,
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
        }

    def counts(self) -> dict[str, int]:
        findings = [f for r in self.rules for f in r.findings]
        return {
            "devices_after": len(self.after.configs), "devices_before": len(self.before.configs),
            "changed": sum(d.status == "changed" for d in self.devices),
            "added": sum(d.status == "added" for d in self.devices),
            "removed": sum(d.status == "removed" for d in self.devices),
            "unchanged": self.unchanged,
            "lines_added": sum(d.added for d in self.devices),
            "lines_removed": sum(d.removed for d in self.devices),
            "render_errors": len(self.after.render_errors),
            "rules": len(self.rules), "rules_failed": sum(not r.passed for r in self.rules),
            "violations": len(findings), "violations_new": sum(len(r.new) for r in self.rules),
            "violations_resolved": sum(len(r.resolved) for r in self.rules),
            "lab_checks_passed": self.lab.passed_checks, "lab_checks_failed": len(self.lab.failed_checks),
        }
