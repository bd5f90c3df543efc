"""The sharded deploy on real RQ workers (issue 12, section 5): three `campusnet rq-worker` processes on the
local NetBox's Redis, a deploy of the real lab through them, and the same deploy in-process: per-device
statuses and diffs are equal, the run record has the same shape, and every worker did a shard.

Real NetBox, real Redis, real lab. Needs root; wrap in ``flock /tmp/campusnet-lab.lock``. Leaves the lab up
if it found it up; starts and stops its own workers by PID."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from campusnet.deploy.run import DeploySummary, run_deploy
from campusnet.deploy.shard import QUEUE_NAME, connect, parse_queue_url
from campusnet.pipeline import Pipeline
from campusnet.settings import NetBoxTarget

pytestmark = [pytest.mark.integration, pytest.mark.lab]

BIN = Path(sys.executable).parent
WORKERS = 3


@pytest.fixture(scope="module")
def pipe(netbox: NetBoxTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    from campusnet.lab import lab_status
    from campusnet.lab.engine import lab_down, lab_up
    from campusnet.sot.reader import read_snapshot

    path = tmp_path_factory.mktemp("rq") / "campus.json"
    read_snapshot(netbox).save(path)
    p = Pipeline.load(snapshot=path)
    was_up = bool(lab_status().nodes)
    if not was_up:
        lab_up(p.plan)
    try:
        yield p
    finally:
        if not was_up:
            lab_down()


@pytest.fixture(scope="module")
def workers(netbox: NetBoxTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Three workers of our own, started and ended by PID."""
    from rq import Queue, Worker

    logs = tmp_path_factory.mktemp("rq-workers")
    tag = secrets.token_hex(3)
    names = [f"test-{tag}-{i}" for i in range(WORKERS)]
    procs = [subprocess.Popen([str(BIN / "campusnet"), "rq-worker", "--queue", "local", "--name", n],
                              stdout=(logs / f"{n}.log").open("wb"), stderr=subprocess.STDOUT,
                              start_new_session=True, env=dict(os.environ))
             for n in names]
    try:
        conn = connect(parse_queue_url("local"), need_workers=False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            up = {w.name for w in Worker.all(queue=Queue(QUEUE_NAME, connection=conn))}
            if set(names) <= up:
                break
            assert all(p.poll() is None for p in procs), [(logs / f"{n}.log").read_text() for n in names]
            time.sleep(0.3)
        else:
            pytest.fail(f"the workers did not register in 60 s: {names}")
        yield names
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


def test_a_failing_worker_fails_its_shard_and_the_run_ends(pipe: Pipeline, tmp_path: Path) -> None:
    """A real worker whose job fails (its state directory is not the run's: E499) makes that shard's
    devices `failed`, with why, and the controller returns: no hang, nothing pushed. Runs before the
    three good workers start (module order), so this worker is the only one on the queue."""
    from campusnet import settings
    from campusnet.deploy.shard import QueueSpec

    spec = parse_queue_url("local")
    password = (settings.local_state_file().parent / "secrets" / "redis_password").read_text().strip()
    env = {**os.environ, "CAMPUSNET_STATE": str(tmp_path / "other-state"), "CAMPUSNET_RQ_PASSWORD": password}
    url = QueueSpec(spec.host, spec.port, spec.db).url
    proc = subprocess.Popen([str(BIN / "campusnet"), "rq-worker", "--queue", url], env=env,
                            stdout=(tmp_path / "w.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        time.sleep(4)  # registered
        t0 = time.monotonic()
        out = run_deploy(commit=False, pipeline=pipe, queue="local", shard_by="100", queue_timeout=120)
        assert time.monotonic() - t0 < 120
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)
    assert out.failed and {r.status for r in out.results} == {"failed"}
    assert all("failed on its worker" in str(r.error) and "E499" in str(r.error) for r in out.results)
    assert _record(out)["queue"]["shards"][0]["outcome"] == "failed on its worker"


def _by_device(summary: DeploySummary) -> dict[str, tuple[str, str]]:
    return {r.device: (r.status, r.diff) for r in summary.results}


def _record(summary: DeploySummary) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((summary.run.path / "summary.json").read_text())
    return data


def _same_shape(queued: DeploySummary, local: DeploySummary) -> None:
    q, p = _record(queued), _record(local)
    assert set(q) - {"queue"} == set(p), "the sharded run record has the in-process record's keys (+ queue)"
    assert set(q["devices"]) == set(p["devices"])
    for name, rec in p["devices"].items():
        assert set(q["devices"][name]) == set(rec), name
    diffs = {f.name for f in (queued.run.path / "diffs").iterdir()}
    assert diffs == {f.name for f in (local.run.path / "diffs").iterdir()}


def test_sharded_dry_run_equals_in_process(pipe: Pipeline, workers: list[str]) -> None:
    t0 = time.monotonic()
    queued = run_deploy(commit=False, pipeline=pipe, queue="local", shard_by="5")
    t_queued = time.monotonic() - t0
    t0 = time.monotonic()
    local = run_deploy(commit=False, pipeline=pipe)
    t_local = time.monotonic() - t0
    assert len(queued.results) >= WORKERS
    assert _by_device(queued) == _by_device(local)
    _same_shape(queued, local)
    shards = _record(queued)["queue"]["shards"]
    assert len(shards) == WORKERS and all(s["outcome"] == "finished" for s in shards)
    assert {s["worker"] for s in shards} == set(workers), "every worker did a shard"
    assert sorted(d for s in shards for d in s["devices"]) == sorted(r.device for r in local.results)
    print(f"\n{len(local.results)} devices dry run: queued {t_queued:.1f} s, in-process {t_local:.1f} s")


def test_sharded_commit_of_an_unchanged_lab(pipe: Pipeline, workers: list[str]) -> None:
    local = run_deploy(commit=False, pipeline=pipe)
    if any(r.status != "unchanged" for r in local.results):
        pytest.skip("the lab differs from NetBox: a commit would push, not only prove the path")
    t0 = time.monotonic()
    queued = run_deploy(commit=True, pipeline=pipe, queue="local", shard_by="site")
    seconds = time.monotonic() - t0
    assert not queued.failed, queued.as_dict()
    assert {d: s for d, (s, _) in _by_device(queued).items()} == {r.device: "unchanged" for r in local.results}
    assert _record(queued)["commit"] is True
    print(f"\n{len(queued.results)} devices commit (unchanged) queued by site: {seconds:.1f} s")
