"""`signlens worker [submit|results]`: the nearline Redis-stream worker and its two helpers.

`submit` and `results` only talk to Redis, so they never load TensorFlow; the worker itself does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from signlens import paths
from signlens.cli import console, refs
from signlens.errors import SignlensError


def _submit(r: object, args: argparse.Namespace) -> None:
    from signlens.inference import worker

    for item in args.images:
        if not Path(item).is_file():
            raise SignlensError(f"{item}: no such file")
    images = [Path(p).read_bytes() for p in args.images]
    for path, job_id in zip(args.images, worker.submit(r, images)):
        print(f"{job_id}  {path}")


def _results(r: object) -> None:
    from signlens.inference import worker

    for job_id, row in worker.results(r).items():
        print(f"{job_id}  {row['letter']}  {float(row['confidence']):.1%}  {row['model']}")
    for dead in worker.dead_letters(r):
        print(f"{dead['job_id']}  DEAD after {dead['tries']} tries: {dead['reason']}")


def _work(r: object, args: argparse.Namespace) -> None:
    refs.check_model(args.model)
    console.import_tensorflow()
    from signlens.inference import worker
    from signlens.inference.predictor import Predictor

    w = worker.Worker(r, Predictor.from_ref(args.model), consumer=args.consumer, batch=args.batch,
                      max_tries=args.max_tries, claim_idle_ms=args.claim_idle_ms)
    print(f"worker {w.consumer} on {args.redis} ({worker.JOBS} -> {worker.RESULTS})", file=sys.stderr, flush=True)
    w.run(args.exit_when_idle)


def _worker(args: argparse.Namespace) -> None:
    import redis

    from signlens.inference import worker

    r = worker.connect(args.redis)
    try:
        if args.worker_command == "submit":
            _submit(r, args)
        elif args.worker_command == "results":
            _results(r)
        else:
            _work(r, args)
    except redis.ConnectionError as exc:
        raise SignlensError(f"cannot reach Redis at {args.redis}: {exc}") from None


def register(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("worker", help="nearline Redis-stream worker (and submit/results helpers)")
    w.add_argument("--redis", default=paths.redis_url(), help="Redis URL (env SIGNLENS_REDIS)")
    w.add_argument("--model", help="artifact, TFLite export or TF.js dir (default: the shipped model)")
    w.add_argument("--consumer", help="consumer name in the group (default: host-pid)")
    w.add_argument("--batch", type=int, default=32, help="jobs read per round trip")
    w.add_argument("--max-tries", type=int, default=3, help="deliveries before a job is dead-lettered")
    w.add_argument("--claim-idle-ms", type=int, default=30_000, help="reclaim jobs pending this long (dead worker)")
    w.add_argument("--exit-when-idle", type=float, help="stop after this many seconds without jobs")
    w.set_defaults(func=_worker, worker_command=None)
    ws = w.add_subparsers(dest="worker_command")
    s = ws.add_parser("submit", help="queue image files as jobs; prints job ids")
    s.add_argument("images", nargs="+")
    ws.add_parser("results", help="print results (one per job) and dead letters")
