"""Nearline worker against a real redis-server on loopback: SIGKILL mid-stream, restart, no loss."""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import redis
from PIL import Image

from signlens.models import artifact
from signlens.inference import worker
from signlens.data import load
from signlens.inference.predictor import Predictor

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs Debian's redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)


def pngs(csv: Path, n: int) -> list[bytes]:
    out = []
    for grid in load(csv).x[:n]:
        buf = io.BytesIO()
        Image.fromarray(grid).save(buf, "PNG")
        out.append(buf.getvalue())
    return out


def start_worker(url: str, model: Path, consumer: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "signlens.cli.main", "worker", "--redis", url, "--model", str(model),
           "--consumer", consumer, "--batch", "4", "--claim-idle-ms", "200"]
    return subprocess.Popen(cmd, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, stderr=subprocess.DEVNULL)


def wait_for(cond, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


@pytest.mark.slow  # two worker processes each import TensorFlow: ~30-60 s on a shared CPU
def test_sigkill_mid_stream_then_restart_gives_every_job_exactly_one_result(
        redis_url: str, tiny_artifact: Path, tiny_test_csv: Path) -> None:
    r = redis.Redis.from_url(redis_url)
    images = pngs(tiny_test_csv, 120)
    ids = worker.submit(r, images[:60])
    first = start_worker(redis_url, tiny_artifact, "w1")
    try:
        wait_for(lambda: r.xlen(worker.RESULTS) >= 10)
        first.send_signal(signal.SIGKILL)  # no cleanup: whatever w1 read but did not ack stays pending
        first.wait(10)
    finally:
        first.kill()
    done_at_kill = r.xlen(worker.RESULTS)
    ids += worker.submit(r, images[60:])  # mid-stream: more jobs arrive while no worker runs
    assert done_at_kill < len(ids)
    second = start_worker(redis_url, tiny_artifact, "w2")  # a new consumer must reclaim w1's pending jobs
    try:
        wait_for(lambda: len(worker.results(r)) == len(ids) and not r.xpending(worker.JOBS, worker.GROUP)["pending"])
    finally:
        second.kill()
        second.wait(10)
    got = worker.results(r)
    assert set(got) == set(ids)
    expected = Predictor(artifact.load(tiny_artifact)).predict(images)
    assert [got[i]["letter"] for i in ids] == [p.letter for p in expected]


@pytest.fixture
def in_process(redis_url: str, tiny_artifact: Path) -> tuple[redis.Redis, worker.Worker]:
    r = redis.Redis.from_url(redis_url)
    return r, worker.Worker(r, Predictor(artifact.load(tiny_artifact)), consumer="t", max_tries=3,
                            claim_idle_ms=50, block_ms=50)


def test_poison_job_goes_to_dead_letter_after_max_tries(in_process, tiny_test_csv: Path) -> None:
    r, w = in_process
    [good] = worker.submit(r, pngs(tiny_test_csv, 1))
    [bad] = worker.submit(r, [b"\x89PNG but not really"])
    w.run(exit_when_idle_s=0.5)
    [dead] = worker.dead_letters(r)
    assert dead["job_id"] == bad and dead["tries"] == "3" and "cannot decode" in dead["reason"]
    assert set(worker.results(r)) == {good}
    assert r.xpending(worker.JOBS, worker.GROUP)["pending"] == 0


def test_a_job_answered_before_a_crash_is_not_answered_twice(in_process, tiny_test_csv: Path) -> None:
    r, w = in_process
    [job] = worker.submit(r, pngs(tiny_test_csv, 1))
    r.xreadgroup(worker.GROUP, "crashed", {worker.JOBS: ">"})  # delivered to a worker that then died
    r.set(worker.DONE_PREFIX + job, 1)  # ...after writing the result but before acking
    r.xadd(worker.RESULTS, {"job_id": job, "letter": "A", "confidence": "1", "model": "m"})
    time.sleep(0.1)
    w.run(exit_when_idle_s=0.5)
    assert r.xlen(worker.RESULTS) == 1 and len(worker.results(r)) == 1
    assert r.xpending(worker.JOBS, worker.GROUP)["pending"] == 0


def test_jobs_read_together_are_predicted_in_one_call(in_process, tiny_test_csv: Path) -> None:
    r, w = in_process
    images = pngs(tiny_test_csv, 6)
    ids = worker.submit(r, [*images[:3], b"not an image", *images[3:]])
    calls: list[int] = []
    real_predict = w.predictor.predict
    w.predictor.predict = lambda batch: calls.append(len(batch)) or real_predict(batch)
    assert w.step() == 7
    assert calls[0] == 7  # one Predictor call for the batch; the bad image is then found alone
    got = worker.results(r)
    assert set(got) == set(ids[:3] + ids[4:])
    expected = real_predict(images)
    assert [got[i]["letter"] for i in ids[:3] + ids[4:]] == [p.letter for p in expected]
    assert r.xpending(worker.JOBS, worker.GROUP)["pending"] == 1  # left for a retry, as before
