"""Scale-out: a deploy run sharded across RQ workers (``campusnet deploy --queue URL``).

The controller (``run_deploy``) gates and locks as an in-process run does, then cuts the targets into
shards (one per site, or batches of N devices), enqueues one job per shard on a queue of our own
(:data:`QUEUE_NAME`, never NetBox's ``high``/``default``/``low``) on a Redis — by default the one the local
NetBox already runs, in a database NetBox does not use — and waits for them. Each job
(:func:`run_shard`, in an ``rq worker`` process: ``campusnet rq-worker``) re-builds the pipeline from the
run's own snapshot file, takes its shard's targets and runs Nornir's threaded runner over them through the
same engine (:func:`campusnet.deploy.nornir_task.run_stage` → ``deploy_device``), writing into the same run
directory. The controller gathers the per-device results into one run record shaped like an in-process
run's; a job that fails, a worker that dies, or no answer within the timeout makes that shard's devices
``failed`` (the run never hangs).

What goes through Redis: device names, paths, flags, and back the per-device summaries (statuses, counts,
times, errors). Never a secret or a configuration: workers read SSH keys, the NetBox tokens and the
rendering secrets from their own environment and 0600 files, as the controller does; the diffs and
rendered files go to the run directory (0600), and the controller reads the diffs from there.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campusnet import settings
from campusnet.deploy.drivers import DeployTarget
from campusnet.deploy.engine import DeviceResult, StageGuard
from campusnet.deploy.store import Run
from campusnet.errors import CampusnetError
from campusnet.private import write_private
from campusnet.safety import path_component

if TYPE_CHECKING:
    from redis import Redis
    from rq.job import Job

    from campusnet.pipeline import Pipeline

#: our queue: NetBox's own worker serves ``high default low`` and never takes these jobs
QUEUE_NAME = "campusnet-deploy"
#: the Redis database of the local NetBox's Redis we use (NetBox uses 0 for tasks and 1 for caching)
LOCAL_DB = 2
#: how long the controller waits for one stage's shards by default (seconds)
DEFAULT_QUEUE_TIMEOUT = 1800.0
#: how often the controller looks at its jobs (seconds)
POLL = 0.25
#: the environment variable holding the Redis password for a Redis that is not the local NetBox's
PASSWORD_ENV = "CAMPUSNET_RQ_PASSWORD"  # noqa: S105 - the variable's name, not a password

_URL = re.compile(r"^rq://(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})(?:/(?P<db>\d{1,2}))?/?$")


@dataclass(frozen=True)
class QueueSpec:
    """Where the queue lives. The password is not part of it: see :func:`redis_password`."""

    host: str
    port: int
    db: int = LOCAL_DB

    @property
    def url(self) -> str:
        return f"rq://{self.host}:{self.port}/{self.db}"


def _local_redis() -> tuple[int, Path] | None:
    """The local NetBox's Redis port and password file (None: no local NetBox in this state directory)."""
    sf = settings.local_state_file()
    try:
        port = int(json.loads(sf.read_text())["ports"]["redis"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return port, sf.parent / "secrets" / "redis_password"


def parse_queue_url(url: str) -> QueueSpec:
    """``rq://HOST:PORT/DB`` (DB default :data:`LOCAL_DB`), or ``local``: the local NetBox's Redis."""
    if url == "local":
        local = _local_redis()
        if local is None:
            raise CampusnetError("E496", "no local NetBox in this state directory (`campusnet netbox up`): give "
                                 "rq://HOST:PORT/DB", obj="deploy", field="--queue")
        return QueueSpec("127.0.0.1", local[0])
    if "@" in url:
        raise CampusnetError("E496", f"a password in the queue URL would show in `ps` and in the run record: put it "
                             f"in {PASSWORD_ENV} instead", obj="deploy", field="--queue")
    m = _URL.match(url)
    if not m or not 0 < int(m["port"]) < 65536:
        raise CampusnetError("E496", f"{url!r} is not rq://HOST:PORT/DB (e.g. rq://127.0.0.1:63790/{LOCAL_DB}) "
                             "or `local`", obj="deploy", field="--queue")
    return QueueSpec(m["host"].strip("[]"), int(m["port"]), int(m["db"]) if m["db"] else LOCAL_DB)


def redis_password(spec: QueueSpec) -> str | None:
    """:data:`PASSWORD_ENV` when set; else, for the local NetBox's Redis, its 0600 password file."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    local = _local_redis()
    if local and spec.host in ("127.0.0.1", "localhost") and spec.port == local[0] and local[1].exists():
        return local[1].read_text().strip()
    return None


def connect(spec: QueueSpec, *, need_workers: bool = True) -> Redis:
    """A checked connection: Redis answers, and (``need_workers``) some worker serves :data:`QUEUE_NAME`."""
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue, Worker

    conn = Redis(host=spec.host, port=spec.port, db=spec.db, password=redis_password(spec), socket_timeout=30,
                 socket_connect_timeout=5)
    try:
        conn.ping()
        workers = Worker.count(queue=Queue(QUEUE_NAME, connection=conn)) if need_workers else 1
    except RedisError as exc:
        raise CampusnetError("E497", f"Redis at {spec.url} does not answer ({type(exc).__name__}: {exc})",
                             obj="deploy", field="--queue") from None
    if not workers:
        raise CampusnetError("E497", f"no worker serves queue {QUEUE_NAME} on {spec.url}: start some with "
                             f"`campusnet rq-worker --queue {spec.url}`", obj="deploy", field="--queue")
    return conn


# -- sharding ------------------------------------------------------------------------------------------------
def parse_shard_by(value: str) -> str | int:
    """``site`` or a positive batch size."""
    if value == "site":
        return value
    if value.isdigit() and int(value) > 0:
        return int(value)
    raise CampusnetError("E498", f"must be 'site' or a number of devices (1 or more), not {value!r}", obj="deploy",
                         field="--shard-by")


def site_of_targets(pipe: Pipeline) -> Callable[[DeployTarget], str]:
    """A target's site: its NetBox device's (a lab node standing for a virtual chassis: its members')."""
    nodes = {n.name: n for n in pipe.plan.nodes}

    def site(t: DeployTarget) -> str:
        node = nodes.get(t.device)
        for name in (t.device, *(node.devices if node else ())):
            if name in pipe.intents:
                return pipe.intents[name].system.site
        return "(no site)"
    return site


def shard_targets(targets: Iterable[DeployTarget], by: str | int,
                  site: Callable[[DeployTarget], str] | None = None) -> list[list[DeployTarget]]:
    """The shards of a stage, each in device-name order: one per site (sites in name order), or batches of
    ``by`` devices (the last may be smaller)."""
    ordered = sorted(targets, key=lambda t: t.device)
    if by == "site":
        if site is None:
            raise ValueError("sharding by site needs a site function")
        groups: dict[str, list[DeployTarget]] = {}
        for t in ordered:
            groups.setdefault(site(t), []).append(t)
        return [groups[k] for k in sorted(groups)]
    n = int(by)
    return [ordered[i:i + n] for i in range(0, len(ordered), n)]


# -- the job (runs in a worker) ------------------------------------------------------------------------------
def run_shard(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Deploy one shard through Nornir's threaded runner and the engine; return the per-device summaries
    (no diffs: those are in the run directory). Runs in an ``rq worker`` process."""
    from rq import get_current_job

    from campusnet.deploy.nornir_task import deploy_nornir, run_stage
    from campusnet.deploy.targets import lab_targets
    from campusnet.deploy.transport import Credentials
    from campusnet.pipeline import Pipeline

    t0 = time.monotonic()
    if Path(payload["state"]) != settings.state_dir():
        raise CampusnetError("E499", f"this worker's state directory is {settings.state_dir()}, the run's is "
                             f"{payload['state']}: start the worker with CAMPUSNET_STATE={payload['state']}",
                             obj=f"shard {payload['shard']}", field="CAMPUSNET_STATE")
    run = Run.open(Path(payload["run_dir"]))
    pipe = Pipeline.load(snapshot=Path(payload["snapshot"]))
    devices = list(payload["devices"])
    by_name = lab_targets(pipe.plan, pipe.intents, pipe.emulations, only=devices)
    targets = [by_name[d] for d in devices if d in by_name]
    results: list[DeviceResult] = []
    if targets:
        nr, hosts = deploy_nornir(pipe.snapshot, pipe.plan, by_name, workers=int(payload["workers"]))
        results = run_stage(nr, targets, hosts, run=run, commit=bool(payload["commit"]),
                            creds=Credentials.from_environment(accept_new=payload["accept_new_host_keys"]),
                            fail_post_check_on=frozenset(payload["fail_post_check_on"]),
                            guard=StageGuard(max_failures=int(payload["max_failures"])),
                            confirm_timeout=int(payload["confirm_timeout"]))
    for d in devices:
        if d not in by_name:  # the snapshot no longer yields it: say so, never drop it
            res = DeviceResult(d, "failed", error=f"no lab target for {d} in the run's snapshot")
            run.record_device(d, res.as_summary())
            results.append(res)
    job = get_current_job()
    return {"shard": payload["shard"], "worker": job.worker_name if job else f"{socket.gethostname()}:{os.getpid()}",
            "seconds": round(time.monotonic() - t0, 2), "devices": {r.device: r.as_summary() for r in results}}


# -- the controller ------------------------------------------------------------------------------------------
@dataclass
class QueueOptions:
    """What ``run_deploy`` hands the sharded path besides the targets."""

    spec: QueueSpec
    shard_by: str | int = "site"
    timeout: float = DEFAULT_QUEUE_TIMEOUT
    conn: Any = None  # a checked Redis connection (:func:`connect`)
    shards: list[dict[str, Any]] = field(default_factory=list)  # what each job did, for the run record


_RESULT_FIELDS = {f.name for f in fields(DeviceResult)} - {"diff"}


def result_from_summary(run: Run, device: str, summary: Mapping[str, Any]) -> DeviceResult:
    """A worker's per-device summary back into a :class:`DeviceResult`, with its diff from the run directory."""
    res = DeviceResult(**{k: v for k, v in summary.items() if k in _RESULT_FIELDS})
    diff = run.path / "diffs" / f"{path_component(device)}.diff"
    res.diff = diff.read_text() if diff.exists() else ""
    return res


def failed_shard(run: Run, devices: Iterable[str], why: str) -> list[DeviceResult]:
    """Every device of a shard that gave no result. A device its worker finished before dying keeps the
    outcome the worker recorded (the engine records a device once it is done, and before a push records it
    ``failed`` with when the device reverts by itself); any other is ``failed`` with why, and recorded."""
    done = run.recorded()
    out = []
    for d in devices:
        rec = done.get(d) or {}
        if rec.get("status"):
            res = result_from_summary(run, d, rec)
            if res.status == "failed":
                res.error = f"{res.error} | {why}" if res.error else why
                run.record_device(d, {**rec, "error": res.error})
        else:
            res = DeviceResult(d, "failed", error=why)
            run.record_device(d, res.as_summary())
        out.append(res)
    return out


def gather(run: Run, shards: list[list[str]], outcome: Callable[[int], tuple[str, Any]]) -> list[DeviceResult]:
    """Results of every shard's devices: ``outcome(i)`` is ``("finished", return value)`` or
    ``(status, why)`` for a shard without a result (failed, stopped, timed out)."""
    out: list[DeviceResult] = []
    for i, devices in enumerate(shards):
        state, value = outcome(i)
        if state == "finished" and isinstance(value, dict):
            got = value.get("devices") or {}
            out += [result_from_summary(run, d, got[d]) for d in devices if d in got]
            missing = [d for d in devices if d not in got]
            if missing:
                out += failed_shard(run, missing, f"shard {i} returned no result for this device")
        else:
            out += failed_shard(run, devices, f"shard {i} ({len(devices)} devices) {state}: {value}")
    return out


def _job_outcome(job: Job) -> tuple[str, Any]:
    from rq.job import JobStatus

    status = job.get_status(refresh=True)
    if status == JobStatus.FINISHED:
        return "finished", job.return_value(refresh=True)
    if status == JobStatus.FAILED:
        latest = job.latest_result()
        text = (latest.exc_string or "") if latest else ""
        last = [ln for ln in text.strip().splitlines() if ln.strip()]
        return "failed on its worker", last[-1] if last else "no reason recorded (a dead work horse?)"
    return str(status), "no result"


def run_queued_stage(batch: list[DeployTarget], guard: StageGuard, *, run: Run, opts: QueueOptions,
                     payload: Mapping[str, Any], site: Callable[[DeployTarget], str]) -> list[DeviceResult]:
    """One stage of the run as RQ jobs, one per shard: enqueue, wait (at most ``opts.timeout``), gather.
    Returns results in the batch's order."""
    from rq import Queue
    from rq.job import JobStatus

    if not guard.may_start():
        return [guard.skipped(t, run) for t in batch]
    shards = [[t.device for t in s] for s in shard_targets(batch, opts.shard_by, site)]
    queue = Queue(QUEUE_NAME, connection=opts.conn)
    base = len(opts.shards)
    jobs = [queue.enqueue("campusnet.deploy.shard.run_shard",
                          {**payload, "shard": base + i, "devices": devs, "max_failures": guard.max_failures},
                          job_timeout=int(opts.timeout) + 60, result_ttl=24 * 3600, failure_ttl=24 * 3600,
                          description=f"campusnet deploy run {run.run_id} shard {base + i}")
            for i, devs in enumerate(shards)]
    deadline = time.monotonic() + opts.timeout
    ended = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
    while time.monotonic() < deadline and any(j.get_status(refresh=True) not in ended for j in jobs):
        time.sleep(POLL)
    outcomes: list[tuple[str, Any]] = []
    for j in jobs:
        state, value = _job_outcome(j)
        if state not in ("finished", "failed on its worker") and j.get_status() not in ended:
            state, value = "timed out", f"no result within {opts.timeout:.0f} s (--queue-timeout; job {j.id})"
            if j.get_status() == JobStatus.QUEUED:
                j.cancel()
        outcomes.append((state, value))
        ret = value if state == "finished" and isinstance(value, dict) else {}
        opts.shards.append({"shard": base + len(outcomes) - 1, "job": j.id, "devices": shards[len(outcomes) - 1],
                            "outcome": state, "worker": ret.get("worker") or j.worker_name,
                            "seconds": ret.get("seconds")})
    results = {r.device: r for r in gather(run, shards, lambda i: outcomes[i])}
    for r in results.values():
        guard.done(r)
    return [results[t.device] for t in batch]


def queue_payload(run: Run, pipe: Pipeline, *, commit: bool, workers: int, fail_post_check_on: frozenset[str],
                  accept_new_host_keys: bool | None, confirm_timeout: int) -> dict[str, Any]:
    """The part of every job's payload that is the same for the whole run; saves the run's snapshot (0600)
    for the workers."""
    snap = write_private(run.path / "snapshot.json", pipe.snapshot.model_dump_json() + "\n")
    return {"state": str(settings.state_dir()), "run_dir": str(run.path), "snapshot": str(snap), "commit": commit,
            "workers": workers, "fail_post_check_on": sorted(fail_post_check_on),
            "accept_new_host_keys": accept_new_host_keys, "confirm_timeout": confirm_timeout}


def via_queue(pipe: Pipeline, targets: list[DeployTarget], *, opts: QueueOptions, commit: bool, run: Run,
              workers: int, fail_post_check_on: frozenset[str], canary: int, max_failures: int,
              accept_new_host_keys: bool | None, confirm_timeout: int) -> list[DeviceResult]:
    """The run's targets as RQ jobs, stage by stage (canary first) like the in-process paths."""
    from campusnet.deploy.engine import run_in_stages

    payload = queue_payload(run, pipe, commit=commit, workers=workers, fail_post_check_on=fail_post_check_on,
                            accept_new_host_keys=accept_new_host_keys, confirm_timeout=confirm_timeout)
    site = site_of_targets(pipe)
    results = run_in_stages(targets, commit=commit, run=run, canary=canary, max_failures=max_failures,
                            stage=lambda batch, guard: run_queued_stage(batch, guard, run=run, opts=opts,
                                                                        payload=payload, site=site))
    run.extra["queue"] = {"url": opts.spec.url, "queue": QUEUE_NAME, "shard_by": opts.shard_by,
                          "timeout": opts.timeout, "shards": opts.shards}
    run.save_meta()
    return results


def queue_options(url: str, shard_by: str = "site", timeout: float | None = None) -> QueueOptions:
    """Checked options for a sharded run (E496 to E498): the URL, the sharding, the timeout, a live connection
    with at least one worker on the queue."""
    if timeout is not None and timeout <= 0:
        raise CampusnetError("E498", f"must be more than 0 seconds, not {timeout:g}", obj="deploy",
                             field="--queue-timeout")
    spec, by = parse_queue_url(url), parse_shard_by(shard_by)
    return QueueOptions(spec, by, DEFAULT_QUEUE_TIMEOUT if timeout is None else timeout, conn=connect(spec))


# -- the worker ----------------------------------------------------------------------------------------------
def work(url: str = "local", *, burst: bool = False, name: str | None = None) -> None:
    """Serve :data:`QUEUE_NAME` until stopped (``burst``: until the queue is empty)."""
    from rq import Queue, Worker

    spec = parse_queue_url(url)
    conn = connect(spec, need_workers=False)
    worker = Worker([Queue(QUEUE_NAME, connection=conn)], connection=conn, name=name)
    worker.work(burst=burst, with_scheduler=False)


def main(argv: list[str] | None = None) -> int:
    """``python -m campusnet.deploy.shard worker [--queue URL] [--burst] [--name NAME]``."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m campusnet.deploy.shard")
    ap.add_argument("command", choices=["worker"])
    ap.add_argument("--queue", default="local", help="rq://HOST:PORT/DB or local (default)")
    ap.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    ap.add_argument("--name", default=None, help="the worker's name (default: RQ's)")
    args = ap.parse_args(argv)
    try:
        work(args.queue, burst=args.burst, name=args.name)
    except CampusnetError as exc:
        print(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
