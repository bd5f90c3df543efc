"""The deploy lifecycle for one device, and for many in parallel.

Per device: connect → back up the running config (always, never overwritten) → diff running vs.
intended → stop there unless ``commit`` → push the minimal change → post-checks → on failure roll the
device back to its backup and check that the rollback took. One device failing never stops the others.

The Nornir task (``nornir_tasks/deploy.py``), the Ansible module (``playbooks/library/campusnet_deploy.py``)
and ``campusnet deploy`` all call :func:`deploy_device`: the three paths cannot drift.
"""

from __future__ import annotations

import difflib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from campusnet.deploy.drivers import Driver, driver_for
from campusnet.deploy.store import Run, save_backup
from campusnet.deploy.transport import Connection, Credentials
from campusnet.errors import CampusnetError

Status = Literal["unchanged", "would-change", "changed", "rolled-back", "failed"]


@dataclass(frozen=True)
class DeployTarget:
    """What to push where: a device, how to reach it, which driver, and its rendered files."""

    device: str
    host: str  # management address
    driver: str  # driver key, e.g. "linux-frr"
    files: dict[str, str]
    checks: dict[str, Any] = field(default_factory=dict)  # driver-specific post-check expectations


@dataclass
class DeviceResult:
    device: str
    status: Status
    diff: str = ""
    backup: str | None = None
    error: str | None = None
    post_check_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def diff_lines(self) -> int:
        return count_diff_lines(self.diff)

    def as_summary(self) -> dict[str, object]:
        d = asdict(self)
        d.pop("diff")
        d["diff_lines"] = self.diff_lines
        return d


def deploy_device(
    target: DeployTarget,
    *,
    commit: bool,
    run: Run | None = None,
    creds: Credentials | None = None,
    connect: Callable[[DeployTarget], Connection] | None = None,
    fail_post_check: bool = False,
) -> DeviceResult:
    """Back up, diff and (with ``commit``) push one device. Never raises for device trouble: see ``status``.

    ``fail_post_check`` forces the post-check to fail (used by the rollback test and by operators who
    want to rehearse a rollback on the lab).
    """
    t0 = time.monotonic()
    result = DeviceResult(target.device, "failed")
    applied = False
    backup_text: str | None = None
    driver: Driver | None = None
    conn: Connection | None = None
    try:
        driver = driver_for(target.driver)
        if connect is not None:
            conn = connect(target)
        else:
            conn = Connection(target.device, target.host, creds or Credentials.from_environment())
        conn.open()
        backup_text = driver.running(conn)
        result.backup = str(save_backup(target.device, backup_text, platform=target.driver,
                                        run_id=run.run_id if run else None))
        result.diff = driver.diff(conn, target.files, backup_text, target)
        if run:
            run.write_diff(target.device, result.diff)
            run.write_rendered(target.device, target.files)
        if not result.diff.strip():
            result.status = "unchanged"
        elif not commit:
            result.status = "would-change"
        else:
            applied = True
            driver.apply(conn, target.files, target)
            failures = driver.post_checks(conn, target)
            if fail_post_check:
                failures.append("forced post-check failure (--fail-post-check)")
            if failures:
                result.post_check_failures = failures
                _rollback(driver, conn, backup_text, result)
            else:
                result.status = "changed"
    except CampusnetError as exc:
        result.error = str(exc)
        result.status = "failed"
        if applied and driver and conn and backup_text is not None:
            _rollback(driver, conn, backup_text, result)
    except Exception as exc:  # noqa: BLE001 - one device's surprise must not stop the others
        result.error = f"{type(exc).__name__}: {exc}"
        result.status = "failed"
        if applied and driver and conn and backup_text is not None:
            _rollback(driver, conn, backup_text, result)
    finally:
        if conn:
            conn.close()
    result.seconds = round(time.monotonic() - t0, 2)
    if run:
        # where and how it was reached: `campusnet rollback` goes back to the same device with this run's backup
        run.record_device(target.device, {**result.as_summary(), "host": target.host, "driver": target.driver})
    return result


def count_diff_lines(diff: str) -> int:
    """Changed lines of a unified diff (headers not counted)."""
    return sum(1 for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---")))


def status_counts(results: Iterable[Any]) -> dict[str, int]:
    """``{status: how many}`` over results that have a ``status`` (deploy and rollback summaries)."""
    return dict(Counter(str(r.status) for r in results))


def normalised_diff(driver: Driver, have: str, want: str, have_name: str, want_name: str) -> str:
    """Unified diff of two running configurations in the driver's canonical form (empty: equal)."""
    a, b = driver.normalise(have), driver.normalise(want)
    if a == b:
        return ""
    return "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), have_name, want_name))


def restore_and_prove(driver: Driver, conn: Connection, backup_text: str) -> str:
    """Restore a backup, then read the device back: what still differs from the backup (empty: proven)."""
    driver.restore(conn, backup_text)
    return normalised_diff(driver, driver.running(conn), backup_text, "after restore", "backup")


def _rollback(driver: Driver, conn: Connection, backup_text: str, result: DeviceResult) -> None:
    """Restore the backup and prove it: the running config must equal the backup again."""
    try:
        if restore_and_prove(driver, conn, backup_text):
            result.status = "failed"
            result.error = (result.error or "") + " | rollback did not restore the backup exactly"
        else:
            result.status = "rolled-back"
    except Exception as exc:  # noqa: BLE001
        result.status = "failed"
        result.error = (result.error or "") + f" | rollback failed: {exc}"


def deploy_many(
    targets: list[DeployTarget],
    *,
    commit: bool,
    run: Run,
    workers: int = 8,
    progress: Callable[[DeviceResult], None] | None = None,
    fail_post_check_on: frozenset[str] = frozenset(),
) -> list[DeviceResult]:
    """Deploy in parallel (threads; the work is SSH round trips). Returns results in target order."""
    creds = Credentials.from_environment()

    def one(t: DeployTarget) -> DeviceResult:
        r = deploy_device(t, commit=commit, run=run, creds=creds, fail_post_check=t.device in fail_post_check_on)
        if progress:
            progress(r)
        return r

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(one, targets))
    run.write_summary()
    return results
