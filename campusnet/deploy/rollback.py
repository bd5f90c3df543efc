"""Manual rollback: put devices back to the configuration a deploy run backed up before it pushed.

The deploy's own rollback is automatic and per device (a failed post-check). This is the other case: the
run succeeded, but something its post-checks and ``verify`` do not see is wrong, and the on-call engineer
wants the network back as it was *before that run* — now, before the data in NetBox is fixed.

``--commit`` first passes the deploy gate (:mod:`campusnet.deploy.gate`: the validation rules over the
devices in scope, read from NetBox; ``--force`` overrides, and rolls back even when NetBox cannot be read)
and takes the devices' locks (:mod:`campusnet.deploy.lock`), exactly like ``deploy``.

For every device the run pushed to (``changed``, ``failed`` after the push, ``rollback-failed``; a
``rolled-back`` device is normally back already: it shows ``unchanged``) it takes the backup that run made
before pushing (``runs/<run>/devices/<device>.json`` → ``backup``) and, per device, in parallel:

1. backs up the running configuration again (nothing is lost: a rollback can itself be rolled back);
2. diffs running against the backup (canonical sections, as the driver reads them);
3. stops there without ``commit`` (status ``would-restore``), or restores the backup through the driver
   and **proves** it: the running configuration read back must equal the backup (status ``restored``;
   ``rollback-failed`` with what is still different, or why the restore broke, otherwise; ``failed``
   when the device could not even be read).

A rollback is a run of its own (``extra.rollback_of``), so the report and ``.campusnet/runs/`` show it.
NetBox still holds the new intent afterwards: ``verify`` reports the restored devices as drift until the
data is reverted (e.g. ``check-change``'s branch revert) and deployed again — docs/deploy.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campusnet.compare import count_diff_lines
from campusnet.deploy.drivers import DeployTarget, driver_for
from campusnet.deploy.engine import normalised_diff, restore_and_prove, status_counts
from campusnet.deploy.gate import GateResult, check_gate, scope_devices
from campusnet.deploy.lock import acquire
from campusnet.deploy.record import check_backup, check_summary
from campusnet.deploy.store import Run, new_run_id, runs_dir, save_backup
from campusnet.deploy.transport import Connection, Credentials
from campusnet.errors import CampusnetError

if TYPE_CHECKING:
    from campusnet.sot.models import Snapshot

#: a device's status in the run being rolled back → it may have something to roll back (records written
#: before ``pushed`` existed; newer ones say whether anything was written to the device)
ROLL_BACK_FROM = ("changed", "failed", "rollback-failed")
PUSHED_STATUSES = ("changed", "rolled-back", "rollback-failed")


@dataclass(frozen=True)
class RollbackItem:
    device: str
    host: str
    driver: str
    backup: Path


@dataclass
class RollbackResult:
    device: str
    status: str  # unchanged | would-restore | restored | rollback-failed | failed
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


def pushed(rec: dict[str, Any]) -> bool:
    """Whether a deploy run wrote anything to this device (it has something a rollback can undo)."""
    if "pushed" in rec:
        return bool(rec["pushed"])
    return rec.get("status") in ("changed", "failed", "rollback-failed")  # a record from before ``pushed``


def _devices_of(run_path: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in sorted((run_path / "devices").glob("*.json")):
        try:
            out[f.stem] = json.loads(f.read_text())
        except (OSError, ValueError) as exc:
            raise CampusnetError("E477", f"unreadable device record {f.name}: {exc}", obj=run_path.name,
                                 field=f"devices/{f.name}") from None
    return out


def _meta(run_path: Path) -> dict[str, Any]:
    try:
        meta = json.loads((run_path / "run.json").read_text())
    except (OSError, ValueError) as exc:
        raise CampusnetError("E477", f"unreadable run record run.json: {exc}", obj=run_path.name,
                             field="run.json") from None
    if not isinstance(meta, dict):
        raise CampusnetError("E477", "run.json is not a JSON object", obj=run_path.name, field="run.json")
    return meta


def find_run(run_id: str) -> Path:
    """``latest``: the newest committed deploy run that pushed anything to a device — whatever its outcome
    (failed and rolled-back runs included; rollback runs and dry runs excluded; unreadable records skipped)."""
    if run_id == "latest":
        for p in reversed(_run_dirs()):
            try:
                meta = _meta(p)
                if meta.get("commit") and not meta.get("extra", {}).get("rollback_of") and any(
                        pushed(rec) for rec in _devices_of(p).values()):
                    return p
            except CampusnetError:
                continue  # a corrupt run is named when asked for by id; `latest` looks further back
        raise CampusnetError("E460", "no committed deploy run that pushed to a device", obj=str(runs_dir()),
                             field="--run")
    path = runs_dir() / run_id
    if "/" in run_id or run_id.startswith(".") or not (path / "run.json").exists():
        known = ", ".join(p.name for p in _run_dirs()[-5:]) or "none"
        raise CampusnetError("E460", f"no such deploy run (latest: {known})", obj=run_id, field="--run")
    return path


def _lab_addresses() -> dict[str, str]:
    """Node → management address from the running lab (for runs recorded before ``host`` was recorded)."""
    from campusnet.lab import lab_status

    return {n.name: n.mgmt.split("/")[0] for n in lab_status().nodes}


def rollback_items(run_path: Path, limit: list[str] | None = None) -> list[RollbackItem]:
    meta = _meta(run_path)
    devices = _devices_of(run_path)
    check_summary(run_path, devices)
    if meta.get("commit") is False:
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
        if not pushed(rec) or not rec.get("backup"):
            continue
        backup = Path(rec["backup"])
        if not backup.exists():
            raise CampusnetError("E463", f"the run's backup {backup} is gone", obj=name, field="backup")
        check_backup(name, backup)
        host = rec.get("host")
        if not host:
            addresses = addresses if addresses is not None else _lab_addresses()
            host = addresses.get(name)
            if not host:
                raise CampusnetError("E464", "the run did not record the device's address and no lab node has "
                                     "this name", obj=name, field="host")
        items.append(RollbackItem(name, host, rec.get("driver") or "linux-frr", backup))
    return items


def rollback_device(item: RollbackItem, *, commit: bool, run: Run | None, creds: Credentials,
                    connect: Callable[[RollbackItem], Connection] | None = None) -> RollbackResult:
    t0 = time.monotonic()
    res = RollbackResult(item.device, "failed", str(item.backup))
    conn = None
    restoring = False
    try:
        driver = driver_for(item.driver)
        target_text = item.backup.read_text()
        conn = connect(item) if connect is not None else driver.connect(  # the driver's own transport
            DeployTarget(device=item.device, host=item.host, driver=item.driver, files={}), creds)
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
        else:
            restoring = True
            if left := restore_and_prove(driver, conn, target_text):
                res.status = "rollback-failed"
                res.error = "restored, but the running configuration still differs from the backup:\n" + left
            else:
                res.status = "restored"
    except Exception as exc:  # noqa: BLE001 - one device's surprise must not stop the others
        res.error = str(exc) if isinstance(exc, CampusnetError) else f"{type(exc).__name__}: {exc}"
        res.status = "rollback-failed" if restoring else "failed"
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

    gate: GateResult | None = None

    @property
    def failed(self) -> bool:
        return any(r.status in ("failed", "rollback-failed") for r in self.results)

    def counts(self) -> dict[str, int]:
        return status_counts(self.results)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run.run_id, "rollback_of": self.rolled_back_run, "counts": self.counts(),
                "gate": self.gate.as_record() if self.gate else None,
                "devices": {r.device: r.as_summary() for r in self.results}}


def rollback_gate(nodes: list[str], *, commit: bool, force: bool, snapshot: Path | None = None,
                  branch: str | None = None, source: Snapshot | None = None) -> GateResult:
    """The deploy gate for a rollback's devices. NetBox unreadable: refused (E471 family: the read's own
    error) unless ``force`` or a dry run, which go on and record why the rules did not run."""
    from campusnet.lab.plan import plan_from_snapshot

    try:
        if source is None:
            from campusnet import settings
            from campusnet.sot import load_or_read

            target = None
            if snapshot is None:
                target = settings.netbox_target()
                if branch:
                    target = target.with_branch(branch)
            source = load_or_read(snapshot, target)
        devices = scope_devices(plan_from_snapshot(source), nodes)
    except CampusnetError as exc:
        if commit and not force:
            raise CampusnetError("E471", f"the validation rules cannot run ({exc}): nothing was restored. "
                                 "Roll back without the gate with --force", obj=f"rollback of {', '.join(nodes)}",
                                 field="data") from None
        return GateResult("rollback", sorted(nodes), forced=force, commit=commit, error=str(exc))
    return check_gate(source, devices, action="rollback", force=force, commit=commit)


def run_rollback(run_id: str, *, commit: bool, limit: list[str] | None = None, workers: int = 8,
                 force: bool = False, wait: float = 0.0, snapshot: Path | None = None, branch: str | None = None,
                 source: Snapshot | None = None, accept_new_host_keys: bool | None = None,
                 connect: Callable[[RollbackItem], Connection] | None = None) -> RollbackSummary:
    path = find_run(run_id)
    items = rollback_items(path, limit)
    if not items:
        raise CampusnetError("E461", "the run pushed to no device (or --limit left none): nothing to roll back",
                             obj=path.name, field="--run")
    gate = rollback_gate([i.device for i in items], commit=commit, force=force, snapshot=snapshot, branch=branch,
                         source=source)
    run_id_new = new_run_id()
    with acquire([i.device for i in items], run_id=run_id_new, action="rollback" if commit else "rollback dry run",
                 wait=wait):
        run = Run.new(commit=commit, run_id=run_id_new)
        run.extra["rollback_of"] = path.name
        run.extra["gate"] = gate.as_record()
        run.extra["forced"] = gate.overridden
        run.save_meta()
        creds = Credentials.from_environment(accept_new=accept_new_host_keys)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results = list(pool.map(lambda i: rollback_device(i, commit=commit, run=run, creds=creds,
                                                              connect=connect), items))
        run.write_summary()
    return RollbackSummary(run, path.name, results, gate)
