"""What the other stages left in the state directory (docs/design.md, "Files the stages leave behind").

* ``backups/<device>/<UTC-timestamp>.cfg`` (+ ``.json`` meta) — the latest one per device;
* ``verify/latest.json`` — a list of checks ``{check, device, expected, found, passed, message}``;
* ``runs/<run-id>/`` — ``summary.json``, ``netbox.json``, ``diffs/<device>.diff``, ``rendered/<device>/…``,
  ``verify.json``, ``junit.xml``.

Every reader here tolerates absence (``None`` / empty) and names the file when one is unreadable.
Nothing is redacted here: the site writer redacts everything it prints.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campusnet.errors import DataError


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"unreadable JSON ({exc})", obj=str(path), code="E504") from None


# --------------------------------------------------------------------------------------------------------
# Backups
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Backup:
    device: str
    path: Path
    taken: str  # the file stem: a UTC timestamp
    text: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def platform(self) -> str | None:
        p = self.meta.get("platform")
        return str(p) if p else None


def latest_backups(state: Path) -> dict[str, Backup]:
    """The newest backup of each device (file names are UTC timestamps, so they sort by time)."""
    root = state / "backups"
    out: dict[str, Backup] = {}
    if not root.is_dir():
        return out
    for ddir in sorted(p for p in root.iterdir() if p.is_dir()):
        cfgs = sorted(ddir.glob("*.cfg"))
        if not cfgs:
            continue
        latest = cfgs[-1]
        meta_path = latest.with_suffix(".json")
        meta = _read_json(meta_path) if meta_path.exists() else {}
        out[ddir.name] = Backup(device=ddir.name, path=latest, taken=latest.stem,
                                text=latest.read_text(encoding="utf-8", errors="replace"),
                                meta=meta if isinstance(meta, dict) else {})
    return out


# --------------------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    check: str
    device: str
    expected: str
    found: str
    passed: bool
    message: str


def _checks(raw: Any, path: Path) -> list[Check]:
    if isinstance(raw, dict) and isinstance(raw.get("checks"), list):
        raw = raw["checks"]
    if not isinstance(raw, list):
        raise DataError("expected a list of checks", obj=str(path), code="E504")
    out = []
    for i, c in enumerate(raw):
        if not isinstance(c, dict) or "passed" not in c:
            raise DataError("a check must be an object with 'passed'", obj=f"{path}[{i}]", field="passed",
                            code="E504")
        out.append(Check(check=str(c.get("check", "?")), device=str(c.get("device") or "—"),
                         expected=_s(c.get("expected")), found=_s(c.get("found")), passed=bool(c["passed"]),
                         message=str(c.get("message") or "")))
    return out


def _s(v: Any) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)


@dataclass(frozen=True)
class VerifyResults:
    path: Path
    taken: str  # file modification time, UTC ISO
    checks: tuple[Check, ...]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


def _mtime(path: Path) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def latest_verify(state: Path) -> VerifyResults | None:
    p = state / "verify" / "latest.json"
    if not p.exists():
        return None
    return VerifyResults(path=p, taken=_mtime(p), checks=tuple(_checks(_read_json(p), p)))


# --------------------------------------------------------------------------------------------------------
# Deploy runs
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JUnitSummary:
    tests: int
    failures: int
    errors: int
    skipped: int
    failed_cases: tuple[str, ...] = ()


def _junit(path: Path) -> JUnitSummary | None:
    if not path.exists():
        return None
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - our own verify output
    except ET.ParseError as exc:
        raise DataError(f"unreadable JUnit XML ({exc})", obj=str(path), code="E504") from None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = failures = errors = skipped = 0
    failed: list[str] = []
    for s in suites:
        for case in s.iter("testcase"):
            tests += 1
            name = f"{case.get('classname', '')}.{case.get('name', '')}".strip(".")
            if case.find("failure") is not None:
                failures += 1
                failed.append(name)
            elif case.find("error") is not None:
                errors += 1
                failed.append(name)
            elif case.find("skipped") is not None:
                skipped += 1
    return JUnitSummary(tests, failures, errors, skipped, tuple(failed))


@dataclass(frozen=True)
class Run:
    run_id: str
    path: Path
    summary: dict[str, Any]
    netbox: dict[str, Any]
    diffs: dict[str, str]  # device -> deploy diff text
    rendered: dict[str, dict[str, str]]  # device -> file -> text
    verify: tuple[Check, ...] | None
    junit: JUnitSummary | None

    @property
    def request_ids(self) -> list[str]:
        ids = self.netbox.get("request_ids") or self.netbox.get("changes") or []
        out = []
        for i in ids if isinstance(ids, list) else []:
            out.append(str(i.get("request_id") if isinstance(i, dict) else i))
        return out

    @property
    def devices(self) -> dict[str, dict[str, Any]]:
        d = self.summary.get("devices")
        return {str(k): v if isinstance(v, dict) else {} for k, v in d.items()} if isinstance(d, dict) else {}

    @property
    def commit(self) -> bool | None:
        c = self.summary.get("commit")
        return bool(c) if c is not None else None


def _read_tree(d: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    if not d.is_dir():
        return out
    for ddir in sorted(p for p in d.iterdir() if p.is_dir()):
        out[ddir.name] = {str(f.relative_to(ddir)): f.read_text(encoding="utf-8", errors="replace")
                          for f in sorted(ddir.rglob("*")) if f.is_file()}
    return out


def read_run(path: Path) -> Run:
    summary_p, netbox_p, verify_p = path / "summary.json", path / "netbox.json", path / "verify.json"
    summary = _read_json(summary_p) if summary_p.exists() else {}
    netbox = _read_json(netbox_p) if netbox_p.exists() else {}
    diffs = {f.stem: f.read_text(encoding="utf-8", errors="replace")
             for f in sorted((path / "diffs").glob("*.diff"))} if (path / "diffs").is_dir() else {}
    return Run(run_id=path.name, path=path, summary=summary if isinstance(summary, dict) else {},
               netbox=netbox if isinstance(netbox, dict) else {}, diffs=diffs,
               rendered=_read_tree(path / "rendered"),
               verify=tuple(_checks(_read_json(verify_p), verify_p)) if verify_p.exists() else None,
               junit=_junit(path / "junit.xml"))


def list_runs(state: Path) -> list[Run]:
    """Every deploy run, oldest first (run ids start with a UTC timestamp)."""
    root = state / "runs"
    if not root.is_dir():
        return []
    return [read_run(p) for p in sorted(root.iterdir()) if p.is_dir()]
