"""Nearline worker: image jobs from a Redis stream -> predictions on a results stream.

At-least-once, nothing lost: a job is acknowledged (XACK) only in the same atomic Lua script that
writes its result, so a worker killed at any point leaves its unfinished jobs pending; on restart
(or from another worker) they are reclaimed with XAUTOCLAIM once idle for `claim_idle_ms`.
The script also drops a second result for a job id it already answered (key with a TTL), and
`results()` de-duplicates by job id as well, so a client sees exactly one result per job.
A job that fails `max_tries` deliveries (e.g. undecodable bytes) goes to the dead-letter stream
with the reason and is acknowledged.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

import redis

if TYPE_CHECKING:  # `worker submit` and `results` only queue and read: no TensorFlow for them
    from signlens.inference.predictor import Prediction, Predictor

JOBS, RESULTS, DEAD, GROUP = "signlens:jobs", "signlens:results", "signlens:dead", "signlens-workers"
DONE_PREFIX = "signlens:done:"
DONE_TTL_S = 7 * 24 * 3600

# KEYS: jobs, results, done-key; ARGV: group, message id, ttl, then result field/value pairs.
_WRITE_AND_ACK = """
if redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[3]) then
  redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
end
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
"""


@dataclass(frozen=True)
class Streams:
    jobs: str = JOBS
    results: str = RESULTS
    dead: str = DEAD
    group: str = GROUP


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=30)


def submit(r: redis.Redis, images: Iterable[bytes], streams: Streams = Streams()) -> list[str]:
    """Queue image bytes; returns the job ids (the key results are matched on)."""
    ids = []
    for image in images:
        job_id = uuid.uuid4().hex
        r.xadd(streams.jobs, {"job_id": job_id, "image": image})
        ids.append(job_id)
    return ids


def results(r: redis.Redis, streams: Streams = Streams()) -> dict[str, dict[str, Any]]:
    """All results, one per job id (the first written wins)."""
    out: dict[str, dict[str, Any]] = {}
    for _, fields in r.xrange(streams.results):
        row = {k.decode(): v.decode() for k, v in fields.items()}
        out.setdefault(row["job_id"], row)
    return out


def dead_letters(r: redis.Redis, streams: Streams = Streams()) -> list[dict[str, str]]:
    return [{k.decode(): v.decode() for k, v in f.items()} for _, f in r.xrange(streams.dead)]


class Worker:
    def __init__(self, r: redis.Redis, predictor: Predictor, *, streams: Streams = Streams(), consumer: str | None = None,
                 batch: int = 32, max_tries: int = 3, claim_idle_ms: int = 30_000, block_ms: int = 1000):
        self.r, self.predictor, self.s = r, predictor, streams
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.batch, self.max_tries, self.claim_idle_ms, self.block_ms = batch, max_tries, claim_idle_ms, block_ms
        self._write = r.register_script(_WRITE_AND_ACK)
        try:
            r.xgroup_create(streams.jobs, streams.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _next(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Reclaim jobs left pending by a dead worker first, then read new ones."""
        _, claimed, *_ = self.r.xautoclaim(self.s.jobs, self.s.group, self.consumer, self.claim_idle_ms,
                                           start_id="0-0", count=self.batch)
        if claimed:
            return [(mid, f) for mid, f in claimed if f]  # entries deleted from the stream come back empty
        got = self.r.xreadgroup(self.s.group, self.consumer, {self.s.jobs: ">"}, count=self.batch,
                                block=self.block_ms)
        return got[0][1] if got else []

    def _fail(self, mid: bytes, job_id: str, reason: str) -> None:
        """Leave the job pending for a retry, or dead-letter it after max_tries deliveries."""
        [info] = self.r.xpending_range(self.s.jobs, self.s.group, min=mid, max=mid, count=1) or [None]
        tries = int(info["times_delivered"]) if info else self.max_tries
        if tries >= self.max_tries:
            pipe = self.r.pipeline(transaction=True)
            pipe.xadd(self.s.dead, {"job_id": job_id, "reason": reason, "tries": tries})
            pipe.xack(self.s.jobs, self.s.group, mid)
            pipe.execute()

    def _predict(self, images: list[bytes | None]) -> list[Prediction | Exception]:
        """One Predictor call for the whole batch; only when some image fails is each tried alone,
        so one undecodable job fails by itself and the rest are still answered."""
        try:
            return list(self.predictor.predict(images))
        except Exception:
            pass
        out: list[Prediction | Exception] = []
        for image in images:
            try:
                out += self.predictor.predict([image])
            except Exception as exc:  # any failure counts as a try; the reason goes to the dead letter
                out.append(exc)
        return out

    def step(self) -> int:
        """Process one batch of jobs (read together, predicted together); returns how many messages it handled."""
        messages = self._next()
        if not messages:
            return 0
        outcomes = self._predict([fields.get(b"image") for _, fields in messages])
        for (mid, fields), p in zip(messages, outcomes):
            job_id = fields.get(b"job_id", mid).decode()
            if isinstance(p, Exception):
                self._fail(mid, job_id, f"{type(p).__name__}: {p}")
                continue
            result = {"job_id": job_id, "letter": p.letter, "confidence": f"{p.confidence:.6f}",
                      "top3": json.dumps(p.top(3)), "model": p.model, "version": p.version,
                      "worker": self.consumer}
            flat = [x for kv in result.items() for x in kv]
            self._write(keys=[self.s.jobs, self.s.results, DONE_PREFIX + job_id],
                        args=[self.s.group, mid, DONE_TTL_S, *flat])
        return len(messages)

    def run(self, exit_when_idle_s: float | None = None) -> None:
        """Loop until killed (or, with exit_when_idle_s, until nothing arrives for that long)."""
        idle_since = time.monotonic()
        while True:
            if self.step():
                idle_since = time.monotonic()
            elif exit_when_idle_s is not None and time.monotonic() - idle_since >= exit_when_idle_s:
                return
