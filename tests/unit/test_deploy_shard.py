"""The sharded deploy's controller side (campusnet/deploy/shard.py) without Redis: queue URLs, the Redis
password's source, sharding, gathering the workers' results into one run record — a failed job, a dead
worker, a job that never answers (the controller must not hang). The real queue, workers and lab:
tests/integration/test_deploy_rq.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from rq.job import JobStatus

from campusnet.deploy import shard
from campusnet.deploy.drivers import DeployTarget
from campusnet.deploy.engine import DeviceResult, StageGuard
from campusnet.deploy.shard import (
    QueueOptions,
    QueueSpec,
    gather,
    parse_queue_url,
    parse_shard_by,
    redis_password,
    run_queued_stage,
    shard_targets,
)
from campusnet.deploy.store import Run
from campusnet.errors import CampusnetError


def _t(name: str) -> DeployTarget:
    return DeployTarget(device=name, host="10.254.0.1", driver="linux-frr", files={})


SITES = {"jpl-core": "jpl", "jpl-as1": "jpl", "yt-core": "yt", "yt-leaf1": "yt", "yt-leaf2": "yt", "x-stub": "x"}


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path / "state"))
    monkeypatch.delenv(shard.PASSWORD_ENV, raising=False)
    return tmp_path / "state"


@pytest.fixture
def run(state: Path) -> Run:
    return Run.new(commit=False)


def _local_netbox(state: Path, port: int = 63999, password: str = "s3cret-from-file") -> None:  # noqa: S107
    nb = state / "netbox"
    (nb / "secrets").mkdir(parents=True)
    (nb / "state.json").write_text(json.dumps({"ports": {"redis": port}}))
    (nb / "secrets" / "redis_password").write_text(password + "\n")


# -- URLs and the password ------------------------------------------------------------------------------------
def test_queue_urls(state: Path) -> None:
    assert parse_queue_url("rq://127.0.0.1:63790/3") == QueueSpec("127.0.0.1", 63790, 3)
    assert parse_queue_url("rq://redis.example.edu:6379") == QueueSpec("redis.example.edu", 6379, shard.LOCAL_DB)
    _local_netbox(state)
    assert parse_queue_url("local") == QueueSpec("127.0.0.1", 63999, shard.LOCAL_DB)
    assert parse_queue_url("local").url == "rq://127.0.0.1:63999/2"


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rq://127.0.0.1", "rq://127.0.0.1:0/1",
                                 "rq://127.0.0.1:99999/1", "rq://host:1/x", "local"])
def test_bad_queue_url_is_e496(state: Path, url: str) -> None:
    with pytest.raises(CampusnetError) as exc:
        parse_queue_url(url)  # "local": no local NetBox in this state directory
    assert exc.value.code == "E496" and exc.value.field == "--queue"


def test_password_in_the_url_is_refused_and_not_echoed(state: Path) -> None:
    with pytest.raises(CampusnetError) as exc:
        parse_queue_url("rq://:hunter2@127.0.0.1:6379/2")
    assert exc.value.code == "E496" and "hunter2" not in str(exc.value)


def test_password_comes_from_the_environment_or_the_local_file(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _local_netbox(state)
    assert redis_password(QueueSpec("127.0.0.1", 63999)) == "s3cret-from-file"
    assert redis_password(QueueSpec("127.0.0.1", 6379)) is None  # not the local NetBox's Redis
    monkeypatch.setenv(shard.PASSWORD_ENV, "from-env")
    assert redis_password(QueueSpec("10.0.0.9", 6379)) == "from-env"


def test_shard_by_and_timeout_are_checked() -> None:
    assert parse_shard_by("site") == "site" and parse_shard_by("4") == 4
    for bad in ("0", "-1", "rack", ""):
        with pytest.raises(CampusnetError) as exc:
            parse_shard_by(bad)
        assert exc.value.code == "E498" and exc.value.field == "--shard-by"
    with pytest.raises(CampusnetError) as exc:
        shard.queue_options("rq://127.0.0.1:1/2", "site", 0)
    assert exc.value.code == "E498" and exc.value.field == "--queue-timeout"


# -- sharding ---------------------------------------------------------------------------------------------------
def test_shards_per_site_in_name_order() -> None:
    targets = [_t(n) for n in SITES]
    shards = shard_targets(reversed(targets), "site", lambda t: SITES[t.device])
    assert [[t.device for t in s] for s in shards] == [["jpl-as1", "jpl-core"], ["x-stub"],
                                                       ["yt-core", "yt-leaf1", "yt-leaf2"]]


def test_shards_in_batches_cover_every_device_once() -> None:
    targets = [_t(n) for n in SITES]
    for n in range(1, 8):
        shards = shard_targets(targets, n)
        assert all(0 < len(s) <= n for s in shards)
        assert sorted(t.device for s in shards for t in s) == sorted(SITES)
    assert [len(s) for s in shard_targets(targets, 4)] == [4, 2]


# -- gathering --------------------------------------------------------------------------------------------------
def _worker_did(run: Run, device: str, status: str, diff: str = "") -> dict[str, Any]:
    """What deploy_device leaves in the run directory, and the summary a job returns."""
    res = DeviceResult(device, status, diff=diff, seconds=1.5, backup=f"/b/{device}.cfg")  # type: ignore[arg-type]
    run.write_diff(device, diff)
    run.record_device(device, {**res.as_summary(), "host": "10.254.0.1", "driver": "linux-frr"})
    return res.as_summary()


def test_gather_rebuilds_results_with_their_diffs(run: Run) -> None:
    a = _worker_did(run, "jpl-core", "would-change", "--- a\n+++ b\n+x\n")
    b = _worker_did(run, "yt-core", "unchanged")
    out = gather(run, [["jpl-core"], ["yt-core"]],
                 lambda i: ("finished", {"devices": [{"jpl-core": a}, {"yt-core": b}][i]}))
    assert [(r.device, r.status, r.diff_lines, r.backup) for r in out] == [
        ("jpl-core", "would-change", 1, "/b/jpl-core.cfg"), ("yt-core", "unchanged", 0, "/b/yt-core.cfg")]
    assert out[0].diff == "--- a\n+++ b\n+x\n"


def test_a_failed_job_fails_its_devices_and_no_others(run: Run) -> None:
    a = _worker_did(run, "jpl-core", "unchanged")
    outcomes = [("finished", {"devices": {"jpl-core": a}}), ("failed on its worker", "RuntimeError: boom")]
    out = gather(run, [["jpl-core"], ["yt-core", "yt-leaf1"]], lambda i: outcomes[i])
    assert [(r.device, r.status) for r in out] == [("jpl-core", "unchanged"), ("yt-core", "failed"),
                                                  ("yt-leaf1", "failed")]
    assert "shard 1 (2 devices) failed on its worker: RuntimeError: boom" in str(out[1].error)
    run.write_summary()
    summary = json.loads((run.path / "summary.json").read_text())["devices"]
    assert summary["yt-leaf1"]["status"] == "failed" and summary["jpl-core"]["status"] == "unchanged"


def test_a_dead_worker_keeps_what_it_finished(run: Run) -> None:
    _worker_did(run, "yt-core", "would-change", "+x\n")  # finished before the worker died
    out = gather(run, [["yt-core", "yt-leaf1"]], lambda i: ("timed out", "no result within 5 s"))
    assert [(r.device, r.status) for r in out] == [("yt-core", "would-change"), ("yt-leaf1", "failed")]
    assert out[0].diff == "+x\n" and "timed out" in str(out[1].error)


def test_a_shard_missing_a_device_fails_that_device(run: Run) -> None:
    a = _worker_did(run, "jpl-core", "unchanged")
    out = gather(run, [["jpl-core", "jpl-as1"]], lambda i: ("finished", {"devices": {"jpl-core": a}}))
    assert [(r.device, r.status) for r in out] == [("jpl-core", "unchanged"), ("jpl-as1", "failed")]


# -- the controller loop with a fake queue: never a hang ---------------------------------------------------------
class _Job:
    def __init__(self, n: int, status: JobStatus, value: Any = None):
        self.id, self.status, self.value, self.worker_name, self.cancelled = f"job-{n}", status, value, "w1", False

    def get_status(self, refresh: bool = True) -> JobStatus:
        return self.status

    def return_value(self, refresh: bool = True) -> Any:
        return self.value

    def latest_result(self) -> Any:
        return type("R", (), {"exc_string": "Traceback …\nValueError: worker says no\n"})()

    def cancel(self) -> None:
        self.cancelled = True


class _Queue:
    jobs: ClassVar[list[_Job]] = []

    def __init__(self, name: str, connection: Any = None):
        assert name == shard.QUEUE_NAME  # our queue, never NetBox's

    def enqueue(self, fn: str, payload: dict[str, Any], **kw: Any) -> _Job:
        assert fn == "campusnet.deploy.shard.run_shard"
        assert set(payload) >= {"devices", "shard", "run_dir", "snapshot", "commit"}
        assert not any("token" in k or "password" in k or "key" in k.split("_") for k in payload)
        devs = payload["devices"]
        behaviour = {"jpl-core": JobStatus.FINISHED, "yt-core": JobStatus.FAILED}.get(devs[0], JobStatus.QUEUED)
        job = _Job(payload["shard"], behaviour, {"worker": "w1", "seconds": 1.0,
                                                 "devices": {d: DeviceResult(d, "unchanged").as_summary()
                                                             for d in devs}})
        self.jobs.append(job)
        return job


def test_stage_gathers_finished_failed_and_stuck_jobs_within_the_timeout(run: Run,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import rq

    _Queue.jobs = []
    monkeypatch.setattr(rq, "Queue", _Queue)
    monkeypatch.setattr(shard, "POLL", 0.01)
    opts = QueueOptions(QueueSpec("127.0.0.1", 1), 1, timeout=0.3)
    batch = [_t("jpl-core"), _t("x-stub"), _t("yt-core")]
    out = run_queued_stage(batch, StageGuard(), run=run, opts=opts, payload={"run_dir": str(run.path),
                           "snapshot": "s.json", "commit": False}, site=lambda t: SITES[t.device])
    assert [(r.device, r.status) for r in out] == [("jpl-core", "unchanged"), ("x-stub", "failed"),
                                                  ("yt-core", "failed")]
    assert "timed out" in str(out[1].error) and _Queue.jobs[1].cancelled
    assert "ValueError: worker says no" in str(out[2].error)
    assert [s["outcome"] for s in opts.shards] == ["finished", "timed out", "failed on its worker"]


def test_a_halted_run_enqueues_nothing(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import rq

    _Queue.jobs = []
    monkeypatch.setattr(rq, "Queue", _Queue)
    guard = StageGuard()
    guard.halt("canary failed")
    out = run_queued_stage([_t("yt-core")], guard, run=run, opts=QueueOptions(QueueSpec("h", 1)), payload={},
                           site=lambda t: "yt")
    assert [r.status for r in out] == ["skipped"] and not _Queue.jobs
