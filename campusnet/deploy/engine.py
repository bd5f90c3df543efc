"""The deploy lifecycle for one device, and for many in parallel.

Per device: connect → back up the running config (always, never overwritten) → diff running vs.
intended → stop there unless ``commit`` → push the minimal change with a confirm timer → post-checks (the
driver's, then the routing adjacencies the intent implies) → pass: confirm (the device keeps the change) →
fail: roll the device back to its backup — reconnecting first when the SSH session dropped — which also
cancels the timer, and check that the rollback took (``rollback-failed`` when it did not).

Commit-confirm (``confirm_timeout`` > 0): the device itself reverts to its pre-push state unless the
engine confirms within that many seconds. When the controller dies or loses the device after the push and
cannot restore, the device still goes back by itself: the record says so (``confirm: "left-to-timer"``,
with the time it fires). ``DeviceResult.confirm`` is the outcome: ``""`` (no timer: dry run, unchanged,
``confirm_timeout`` 0), ``confirmed``, ``cancelled`` (the engine restored the backup; the timer is gone),
``left-to-timer``, ``confirm-failed`` (confirming raised; the engine then restores).

One device failing never stops the others, unless the run is staged (``canary``/``max_failures``:
devices not started then are ``skipped``, never half-applied).

The Nornir task (:mod:`campusnet.deploy.nornir_task`, re-exported as ``nornir_tasks.deploy``), the Ansible
module (``playbooks/library/campusnet_deploy.py``) and ``campusnet deploy --via direct`` all call
:func:`deploy_device`: the paths cannot drift.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from campusnet.compare import count_diff_lines, unified
from campusnet.deploy import drill
from campusnet.deploy.drivers import DeployTarget as DeployTarget  # its home is drivers.base; re-exported
from campusnet.deploy.drivers import DeviceConnection, Driver, Session, driver_for
from campusnet.deploy.drivers.base import PushRefused
from campusnet.deploy.store import Run, save_backup
from campusnet.deploy.transport import Connection, Credentials
from campusnet.errors import CampusnetError

Status = Literal["unchanged", "would-change", "changed", "rolled-back", "rollback-failed", "failed", "skipped"]
#: every status; the console, the report and the exit code go by these
STATUSES: tuple[str, ...] = ("unchanged", "would-change", "changed", "rolled-back", "rollback-failed", "failed",
                             "skipped")
#: statuses that make a run fail (exit 1): the device is not as intended, or was never tried
PROBLEM_STATUSES = frozenset({"failed", "rolled-back", "rollback-failed", "skipped"})
#: statuses a device's own failure ends in (``max_failures`` counts these; ``skipped`` is not one)
FAILURE_STATUSES = frozenset({"failed", "rolled-back", "rollback-failed"})

#: the default confirm timer (seconds) of ``campusnet deploy``/``rollback``: it must outlast the slowest
#: post-check of a healthy push (driver checks + ADJACENCY_TIMEOUT + ADJACENCY_SETTLE_MAX, about a minute
#: in the lab) with room to spare, or a good change is reverted under the controller's feet; and be short
#: enough that a device cut off from its controller is back within a couple of minutes. Comware counts in
#: minutes: 120 s is its "2".
DEFAULT_CONFIRM_TIMEOUT = 120
#: confirm outcomes (``DeviceResult.confirm``)
CONFIRM_OUTCOMES = ("", "pending", "confirmed", "cancelled", "left-to-timer", "confirm-failed")

#: the automatic rollback: attempts to reconnect-and-restore, and the wait before each retry (seconds)
ROLLBACK_ATTEMPTS = 6
ROLLBACK_BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0)
#: the adjacency post-check: how long sessions get to come back, and how often they are read
ADJACENCY_TIMEOUT = 30.0
ADJACENCY_POLL = 1.0
#: a session up right after the push may just not have timed out yet: it must still be up this long after
#: the push (its dead interval / hold time + 1 s, at most this many seconds)
ADJACENCY_SETTLE_MAX = 15.0


@dataclass
class DeviceResult:
    device: str
    status: Status
    diff: str = ""
    backup: str | None = None
    error: str | None = None
    post_check_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    pushed: bool = False  # something was written to the device (``rollback --run latest`` looks for these)
    rollback_attempts: int = 0  # connect-and-restore attempts of the automatic rollback (0: none needed)
    adjacencies: dict[str, str] = field(default_factory=dict)  # "ospf 10.0.0.2" → state after the push
    confirm_timeout: int = 0  # seconds of the device's confirm timer for this push (0: none armed)
    confirm: str = ""  # the timer's outcome, one of CONFIRM_OUTCOMES ("": no timer)
    confirm_mechanism: str = ""  # the driver's, when a timer was armed
    reverts_at: str | None = None  # UTC time the device reverts by itself unless confirmed (while pending)

    @property
    def diff_lines(self) -> int:
        return count_diff_lines(self.diff)

    def as_summary(self) -> dict[str, object]:
        d = asdict(self)
        d.pop("diff")
        d["diff_lines"] = self.diff_lines
        return d


ConnectFn = Callable[[DeployTarget], DeviceConnection]


def deploy_device(
    target: DeployTarget,
    *,
    commit: bool,
    run: Run | None = None,
    creds: Credentials | None = None,
    connect: ConnectFn | None = None,
    fail_post_check: bool = False,
    confirm_timeout: int = 0,
) -> DeviceResult:
    """Back up, diff and (with ``commit``) push one device. Never raises for device trouble: see ``status``.

    ``connect`` makes a new, unopened connection for the target (default: the driver's ``connect``; tests
    pass fakes; the rollback calls it again when the session dropped). ``fail_post_check`` forces the
    post-check to fail (used by the rollback test and by operators who want to rehearse a rollback on the
    lab). ``confirm_timeout`` > 0 arms the device's own revert timer for the push (see the module doc; the
    CLI's default is :data:`DEFAULT_CONFIRM_TIMEOUT`, this library default 0 keeps old callers as they were).
    """
    if confirm_timeout < 0:
        raise CampusnetError("E441", f"must be 0 (no timer) or more seconds, not {confirm_timeout}",
                             obj=f"device {target.device}", field="--confirm-timeout")
    t0 = time.monotonic()
    result = DeviceResult(target.device, "failed")
    backup_text: str | None = None
    driver: Driver | None = None
    conn: DeviceConnection | None = None

    def make_conn() -> DeviceConnection:
        if connect is not None:
            return connect(target)
        assert driver is not None
        own = getattr(driver, "connect", None)
        if callable(own):
            made: DeviceConnection = own(target, creds or Credentials.from_environment())
            return made
        return Connection(target.device, target.host, creds or Credentials.from_environment())

    try:
        driver = driver_for(target.driver)
        conn = make_conn()
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
            conn = _push(driver, conn, make_conn, target, backup_text, result, run=run,
                         fail_post_check=fail_post_check, confirm_timeout=confirm_timeout)
    except Exception as exc:  # noqa: BLE001 - one device's surprise must not stop the others
        result.error = str(exc) if isinstance(exc, CampusnetError) else f"{type(exc).__name__}: {exc}"
        result.status = "failed"
        if isinstance(exc, PushRefused):  # nothing written: nothing to roll back, no timer of ours armed
            result.pushed = False
            result.confirm, result.reverts_at = "", None
        if result.pushed and driver and backup_text is not None:
            conn = _rollback(driver, conn, make_conn, backup_text, result)
        _timer_outcome(result)
    finally:
        _close(conn)
    result.seconds = round(time.monotonic() - t0, 2)
    if run:
        # where and how it was reached: `campusnet rollback` goes back to the same device with this run's backup
        run.record_device(target.device, {**result.as_summary(), "host": target.host, "driver": target.driver})
    return result


def _push(driver: Driver, conn: DeviceConnection, make_conn: Callable[[], DeviceConnection], target: DeployTarget,
          backup_text: str, result: DeviceResult, *, run: Run | None, fail_post_check: bool, confirm_timeout: int
          ) -> DeviceConnection | None:
    """Apply (with the confirm timer), check, then confirm or roll back. Raises on surprises (the caller
    rolls back). Returns the connection in use."""
    sessions = list(target.expected.sessions)
    before = read_adjacencies(driver, conn) if sessions else {}
    drill.point("before-apply", target.device)  # fault drills only: a no-op unless CAMPUSNET_DRILL
    result.pushed = True
    if confirm_timeout > 0:
        result.confirm_timeout = confirm_timeout
        result.confirm = "pending"
        result.confirm_mechanism = str(getattr(driver, "confirm_mechanism", ""))
        result.reverts_at = _utc_in(confirm_timeout)
        if run:  # the controller may die from here on: the record must already say the device will revert
            run.record_device(target.device, {**result.as_summary(), "host": target.host, "driver": target.driver,
                                              "error": "interrupted after the push: the device reverts by "
                                                       f"itself at {result.reverts_at} unless confirmed"})
        driver.apply(conn, target.files, target, confirm_timeout=confirm_timeout)
    else:
        driver.apply(conn, target.files, target)
    pushed_at = time.monotonic()
    drill.point("after-apply", target.device)
    failures = driver.post_checks(conn, target)
    if sessions and not failures:
        settled = _settled_peers(run, target.device)
        failures += check_adjacencies(driver, conn, sessions, before, settled, result, since=pushed_at)
    if fail_post_check:
        failures.append("forced post-check failure (--fail-post-check)")
    if failures:
        result.post_check_failures = failures
        out = _rollback(driver, conn, make_conn, backup_text, result)
        _timer_outcome(result)
        return out
    if confirm_timeout > 0:
        try:
            driver.confirm(conn)
        except Exception:
            result.confirm = "confirm-failed"
            raise
        result.confirm = "confirmed"
        result.reverts_at = None
    result.status = "changed"
    return conn


def _utc_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timer_outcome(result: DeviceResult) -> None:
    """After a failed push with a timer armed: did the engine's restore cancel it, or is it left to fire?"""
    if result.confirm not in ("pending", "confirm-failed"):
        return
    if result.status == "rolled-back":  # restored (and the timer with it); a failed confirm stays on record
        result.confirm = "cancelled" if result.confirm == "pending" else result.confirm
        result.reverts_at = None
    else:
        result.confirm = "left-to-timer"
        result.error = _join(result.error, f"the device reverts by itself at {result.reverts_at} (its confirm "
                             f"timer, {result.confirm_timeout} s after the push: {result.confirm_mechanism})")


def _close(conn: DeviceConnection | None) -> None:
    if conn is not None:
        with contextlib.suppress(Exception):  # closing a dead session must not hide why it died
            conn.close()


def _alive(conn: DeviceConnection | None) -> bool:
    if conn is None:
        return False
    probe = getattr(conn, "alive", None)
    try:
        return bool(probe()) if callable(probe) else True
    except Exception:  # noqa: BLE001
        return False


# -- adjacencies ---------------------------------------------------------------------------------------------
def read_adjacencies(driver: Driver, conn: DeviceConnection) -> dict[str, str]:
    """``{"ospf <router-id>" | "bgp <address>": state}`` from the device (empty when the driver cannot tell)."""
    reader = getattr(driver, "adjacencies", None)
    return dict(reader(conn)) if callable(reader) else {}


def adjacency_up(key: str, state: str) -> bool:
    return state.startswith("Full") if key.startswith("ospf ") else state == "Established"


def _settled_peers(run: Run | None, me: str) -> set[str]:
    """Nodes of this run whose own deploy already ended as intended (their side of a session is configured)."""
    if run is None:
        return set()
    return {d for d, rec in run.recorded().items() if d != me and rec.get("status") in ("changed", "unchanged")}


def required_sessions(sessions: list[Session], before: dict[str, str], settled: set[str]
                      ) -> list[tuple[str, str]]:
    """The sessions the post-check waits for, each with why: ``[(key, reason)]``.

    A session the intent implies is required when it was up before the push (the push must not break it),
    or when it is new and its peer is directly connected and configured already: a lab-made node (a
    provider stub: ``lab up`` configured it) or a node this run has already deployed. Any other new session
    (a peer not deployed yet — day 0 — or reached over several hops) is left to ``verify``."""
    out: list[tuple[str, str]] = []
    for s in sessions:
        key = s.key
        peer = s.node or "?"
        if adjacency_up(key, before.get(key, "")):
            out.append((key, f"{peer}, up before the push"))
        elif s.direct and s.stub:
            out.append((key, f"{peer}, a lab-made peer"))
        elif s.direct and s.node in settled:
            out.append((key, f"{peer}, deployed already in this run"))
    return out


def check_adjacencies(driver: Driver, conn: DeviceConnection, sessions: list[Session], before: dict[str, str],
                      settled: set[str], result: DeviceResult | None = None, *, timeout: float | None = None,
                      since: float | None = None) -> list[str]:
    """Poll until every required session is up — and has stayed up past its hold time since the push
    (``since``, a monotonic time) — or ``timeout`` (default :data:`ADJACENCY_TIMEOUT`) passes."""
    want = required_sessions(sessions, before, settled)
    if not want:
        return []
    holds = {s.key: float(s.hold) for s in sessions}
    settle = min(max(holds.get(k, 0.0) for k, _ in want) + 1 if any(holds.values()) else 0.0,
                 ADJACENCY_SETTLE_MAX)
    limit = ADJACENCY_TIMEOUT if timeout is None else timeout
    start = time.monotonic() if since is None else since
    deadline = start + max(limit, settle + ADJACENCY_POLL)
    while True:
        now = read_adjacencies(driver, conn)
        down = [(k, why) for k, why in want if not adjacency_up(k, now.get(k, ""))]
        clock = time.monotonic()
        if (not down and clock - start >= settle) or clock >= deadline:
            break
        time.sleep(ADJACENCY_POLL)
    if result is not None:
        result.adjacencies = {k: now.get(k, "absent") for k, _ in want}
    names = {"ospf": "OSPF neighbour", "bgp": "BGP session"}
    return [f"{names.get(k.split()[0], k.split()[0])} {k.split()[1]} ({why}) is {now.get(k) or 'absent'}, "
            f"not {'Full' if k.startswith('ospf') else 'Established'}, {clock - start:.0f} s after the push"
            for k, why in down]


def status_counts(results: Iterable[Any]) -> dict[str, int]:
    """``{status: how many}`` over results that have a ``status`` (deploy and rollback summaries)."""
    return dict(Counter(str(r.status) for r in results))


def normalised_diff(driver: Driver, have: str, want: str, have_name: str, want_name: str) -> str:
    """Unified diff of two running configurations in the driver's canonical form (empty: equal)."""
    return unified(driver.normalise(have), driver.normalise(want), have_name, want_name)


def restore_and_prove(driver: Driver, conn: DeviceConnection, backup_text: str) -> str:
    """Restore a backup, then read the device back: what still differs from the backup (empty: proven)."""
    driver.restore(conn, backup_text)
    return normalised_diff(driver, driver.running(conn), backup_text, "after restore", "backup")


def _rollback(driver: Driver, conn: DeviceConnection | None, make_conn: Callable[[], DeviceConnection],
              backup_text: str, result: DeviceResult) -> DeviceConnection | None:
    """Restore the backup and prove it (the running config must equal the backup again).

    When the session is gone (SSH dropped mid-push) or a restore attempt fails, reconnect and try again:
    :data:`ROLLBACK_ATTEMPTS` attempts, waiting :data:`ROLLBACK_BACKOFF` between them. A rollback that never
    takes ends in ``rollback-failed`` with every attempt's error. Returns the connection in use (or None)."""
    errors: list[str] = []
    for attempt in range(ROLLBACK_ATTEMPTS):
        result.rollback_attempts = attempt + 1
        try:
            if not _alive(conn):
                _close(conn)
                conn = None
                conn = make_conn()
                conn.open()
            assert conn is not None
            left = restore_and_prove(driver, conn, backup_text)
        except Exception as exc:  # noqa: BLE001 - retried, then reported in full
            errors.append(f"attempt {attempt + 1}: {exc if isinstance(exc, CampusnetError) else repr(exc)}")
            _close(conn)
            conn = None
            if attempt + 1 < ROLLBACK_ATTEMPTS:
                time.sleep(ROLLBACK_BACKOFF[min(attempt, len(ROLLBACK_BACKOFF) - 1)])
            continue
        if left:
            result.status = "rollback-failed"
            result.error = _join(result.error, "rollback did not restore the backup exactly; still different:\n"
                                 + left)
        else:
            result.status = "rolled-back"
        return conn
    result.status = "rollback-failed"
    result.error = _join(result.error, f"rollback failed after {ROLLBACK_ATTEMPTS} attempts (reconnecting each "
                         "time): " + "; ".join(errors) + f"; the device's backup is {result.backup}")
    return None


def _join(first: str | None, more: str) -> str:
    return f"{first} | {more}" if first else more


class StageGuard:
    """Staged pushes across threads: ``canary`` devices first, and a halt after ``max_failures`` failures.

    Every device asks :meth:`may_start` before it begins; once the run is halted the answer is no, and the
    device is recorded as ``skipped`` (nothing read, nothing written). Devices already started finish."""

    def __init__(self, *, max_failures: int = 0):
        self.max_failures = max_failures
        self.failures = 0
        self.halted: str | None = None
        self._lock = threading.Lock()

    def may_start(self) -> bool:
        with self._lock:
            return self.halted is None

    def done(self, result: DeviceResult) -> None:
        with self._lock:
            if result.status in FAILURE_STATUSES:
                self.failures += 1
                if self.max_failures and self.failures >= self.max_failures and self.halted is None:
                    self.halted = f"run halted after {self.failures} failed device(s) (--max-failures " \
                                  f"{self.max_failures})"

    def halt(self, why: str) -> None:
        with self._lock:
            self.halted = self.halted or why

    def skipped(self, target: DeployTarget, run: Run | None) -> DeviceResult:
        res = DeviceResult(target.device, "skipped", error=f"not started: {self.halted}")
        if run:
            run.record_device(target.device, {**res.as_summary(), "host": target.host, "driver": target.driver})
        return res


def staged(targets: list[DeployTarget], canary: int) -> list[list[DeployTarget]]:
    """The stages of a run: the first ``canary`` targets, then the rest (one stage without a canary)."""
    if canary < 0:
        raise CampusnetError("E474", f"must be 0 or more devices, not {canary}", obj="deploy", field="--canary")
    if canary and canary < len(targets):
        return [targets[:canary], targets[canary:]]
    return [targets]


def canary_verdict(stage: list[DeviceResult]) -> str | None:
    """Why the run stops after its canary stage (None: it goes on)."""
    bad = [f"{r.device} {r.status}" for r in stage if r.status in FAILURE_STATUSES]
    return f"canary failed ({', '.join(bad)}): the rest was not pushed" if bad else None


def deploy_many(
    targets: list[DeployTarget],
    *,
    commit: bool,
    run: Run,
    workers: int = 8,
    progress: Callable[[DeviceResult], None] | None = None,
    fail_post_check_on: frozenset[str] = frozenset(),
    canary: int = 0,
    max_failures: int = 0,
    creds: Credentials | None = None,
    connect: ConnectFn | None = None,
    confirm_timeout: int = 0,
) -> list[DeviceResult]:
    """Deploy in parallel (threads; the work is SSH round trips). Returns results in target order.

    With ``commit``: ``canary`` devices are pushed first (in parallel) and the rest only when none of them
    failed; ``max_failures`` halts the run after that many failed devices. Devices not started are
    ``skipped``. ``confirm_timeout``: each push's confirm timer (see :func:`deploy_device`)."""
    if max_failures < 0:
        raise CampusnetError("E474", f"must be 0 or more devices, not {max_failures}", obj="deploy",
                             field="--max-failures")
    if connect is None:
        creds = creds or Credentials.from_environment()
    def one(t: DeployTarget, guard: StageGuard) -> DeviceResult:
        if not guard.may_start():
            return guard.skipped(t, run)
        r = deploy_device(t, commit=commit, run=run, creds=creds, connect=connect,
                          fail_post_check=t.device in fail_post_check_on, confirm_timeout=confirm_timeout)
        guard.done(r)
        if progress:
            progress(r)
        return r

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = run_in_stages(targets, commit=commit, run=run, canary=canary, max_failures=max_failures,
                                stage=lambda batch, guard: list(pool.map(lambda t: one(t, guard), batch)))
    run.write_summary()
    return results


StageFn = Callable[[list[DeployTarget], "StageGuard"], list[DeviceResult]]


def run_in_stages(targets: list[DeployTarget], *, commit: bool, run: Run, canary: int, max_failures: int,
                  stage: StageFn) -> list[DeviceResult]:
    """Push ``targets`` stage by stage (the canary first, when ``commit``), each stage through ``stage``;
    halt after a failed canary or ``max_failures`` failed devices. Records the staging in the run.
    Shared by the thread-pool path and the Nornir path. Returns results in target order."""
    guard = StageGuard(max_failures=max_failures if commit else 0)
    by_device: dict[str, DeviceResult] = {}
    for batch in staged(targets, canary if commit else 0):
        results = stage(batch, guard)
        by_device.update((r.device, r) for r in results)
        why = canary_verdict(results) if len(by_device) < len(targets) else None
        if why:
            guard.halt(why)
    run.extra["staging"] = staging_record(canary if commit else 0, max_failures if commit else 0, guard)
    run.save_meta()
    return [by_device[t.device] for t in targets]


def staging_record(canary: int, max_failures: int, guard: StageGuard) -> dict[str, object]:
    return {"canary": canary, "max_failures": max_failures, "halted": guard.halted}
