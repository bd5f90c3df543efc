"""Manual rollback: put devices back to the configuration a deploy run backed up before it pushed.

The deploy's own rollback is automatic and per device (a failed post-check). This is the other case: the
run succeeded, but something its post-checks and ``verify`` do not see is wrong, and the on-call engineer
wants the network back as it was *before that run* — now, before the data in NetBox is fixed.

For every device the run ``changed`` (or left ``failed``) it takes the backup that run made before pushing
(``runs/<run>/devices/<device>.json`` → ``backup``) and, per device, in parallel:

1. backs up the running configuration again (nothing is lost: a rollback can itself be rolled back);
2. diffs running against the backup (canonical sections, as the driver reads them);
3. stops there without ``commit`` (status ``would-restore``), or restores the backup through the driver
   and **proves** it: the running configuration read back must equal the backup (status ``restored``;
   ``failed`` with what is still different otherwise).

A rollback is a run of its own (``extra.rollback_of``), so the report and ``.campusnet/runs/`` show it.
NetBox still holds the new intent afterwards: ``verify`` reports the restored devices as drift until the
data is reverted (e.g. ``check-change``'s branch revert) and deployed again — docs/deploy.md.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from campusnet.deploy.drivers import driver_for
from campusnet.deploy.engine import count_diff_lines, normalised_diff, restore_and_prove, status_counts
from campusnet.deploy.store import Run, runs_dir, save_backup
from campusnet.deploy.transport import Connection, Credentials
from campusnet.errors import CampusnetError

#: a device's status in the run being rolled back → it has something to roll back
ROLL_BACK_FROM = ("changed", "failed")


@dataclass(frozen=True)
class RollbackItem:
    device: str
    host: str
    driver: str
    backup: Path


@dataclass
class RollbackResult:
    device: str
    status: str  # unchanged | would-restore | restored | failed
    backup: str  # what it was restored to
    pre_rollback_backup: str | None = None
    diff: str = ""
    error: str | None = None
    seconds: float = 0.0

    def as_summary(self) -> dict[str, Any]:
        d = asdict(self)
        d["diff_lines"] = count_diff_lines(d.pop("diff"))
        return d


def _run_dirs() -> list[Path]:
    d = runs_dir()
    return sorted((p for p in d.iterdir() if (p / "run.json").exists()), key=lambda p: p.name) if d.exists() else []


def find_run(run_id: str) -> Path:
    """``latest``: the newest committed deploy run that changed a device (rollbacks excluded)."""
    if run_id == "latest":
        for p in reversed(_run_dirs()):
            meta = json.loads((p / "run.json").read_text())
            if meta.get("commit") and not meta.get("extra", {}).get("rollback_of") and any(
                    json.loads(f.read_text()).get("status") == "changed" for f in (p / "devices").glob("*.json")):
                return p
        raise CampusnetError("E460", "no committed deploy run that changed a device", obj=str(runs_dir()),
                             field="--run")
    path = runs_dir() / run_id
    if not (path / "run.json").exists():
        known = ", ".join(p.name for p in _run_dirs()[-5:]) or "none"
        raise CampusnetError("E460", f"no such deploy run (latest: {known})", obj=run_id, field="--run")
    return path


def _lab_addresses() -> dict[str, str]:
    """Node → management address from the running lab (for runs recorded before ``host`` was recorded)."""
    from campusnet.lab import lab_status

    return {n.name: n.mgmt.split("/")[0] for n in lab_status().nodes}


def rollback_items(run_path: Path, limit: list[str] | None = None) -> list[RollbackItem]:
    devices = {f.stem: json.loads(f.read_text()) for f in sorted((run_path / "devices").glob("*.json"))}
    if json.loads((run_path / "run.json").read_text()).get("commit") is False:
        raise CampusnetError("E461", "a dry run pushed nothing: nothing to roll back", obj=run_path.name,
                             field="--run")
    if limit:
        unknown = sorted(set(limit) - set(devices))
        if unknown:
            raise CampusnetError("E462", f"not in this run: {', '.join(unknown)}", obj=run_path.name,
                                 field="--limit")
    addresses: dict[str, str] | None = None
    items = []
    for name, rec in sorted(devices.items()):
        if limit and name not in limit:
            continue
        if rec.get("status") not in ROLL_BACK_FROM or not rec.get("backup"):
            continue
        backup = Path(rec["backup"])
        if not backup.exists():
            raise CampusnetError("E463", f"the run's backup {backup} is gone", obj=name, field="backup")
        host = rec.get("host")
        if not host:
            addresses = addresses if addresses is not None else _lab_addresses()
            host = addresses.get(name)
            if not host:
                raise CampusnetError("E464", "the run did not record the device's address and no lab node has "
                                     "this name", obj=name, field="host")
        items.append(RollbackItem(name, host, rec.get("driver") or "linux-frr", backup))
    return items


def rollback_device(item: RollbackItem, *, commit: bool, run: Run | None, creds: Credentials) -> RollbackResult:
    t0 = time.monotonic()
    res = RollbackResult(item.device, "failed", str(item.backup))
    conn = None
    try:
        driver = driver_for(item.driver)
        target_text = item.backup.read_text()
        conn = Connection(item.device, item.host, creds)
        conn.open()
        running = driver.running(conn)
        res.pre_rollback_backup = str(save_backup(item.device, running, platform=item.driver,
                                                  run_id=run.run_id if run else None))
        res.diff = normalised_diff(driver, running, target_text, f"{item.device} (running)",
                                   f"{item.device} ({item.backup.name})")
        if not res.diff:
            res.status = "unchanged"
        elif not commit:
            res.status = "would-restore"
        elif left := restore_and_prove(driver, conn, target_text):
            res.error = "restored, but the running configuration still differs from the backup:\n" + left
        else:
            res.status = "restored"
    except CampusnetError as exc:
        res.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - one device's surprise must not stop the others
        res.error = f"{type(exc).__name__}: {exc}"
    finally:
        if conn:
            conn.close()
    res.seconds = round(time.monotonic() - t0, 2)
    if run:
        run.write_diff(item.device, res.diff)
        run.record_device(item.device, res.as_summary())
    return res


@dataclass
class RollbackSummary:
    run: Run
    rolled_back_run: str
    results: list[RollbackResult]

    @property
    def failed(self) -> bool:
        return any(r.status == "failed" for r in self.results)

    def counts(self) -> dict[str, int]:
        return status_counts(self.results)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run.run_id, "rollback_of": self.rolled_back_run, "counts": self.counts(),
                "devices": {r.device: r.as_summary() for r in self.results}}


def run_rollback(run_id: str, *, commit: bool, limit: list[str] | None = None, workers: int = 8) -> RollbackSummary:
    path = find_run(run_id)
    items = rollback_items(path, limit)
    if not items:
        raise CampusnetError("E461", "the run changed no device (or --limit left none): nothing to roll back",
                             obj=path.name, field="--run")
    run = Run.new(commit=commit)
    run.extra["rollback_of"] = path.name
    run.save_meta()
    creds = Credentials.from_environment()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(lambda i: rollback_device(i, commit=commit, run=run, creds=creds), items))
    run.write_summary()
    return RollbackSummary(run, path.name, results)
