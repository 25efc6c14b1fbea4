"""CLI for offline, nearline and on-device use: `predict --batch`, `worker`, `export`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from signlens import paths
from signlens.errors import SignlensError

REDIS_DEFAULT = paths.redis_url()


def predict_batch(args: argparse.Namespace) -> None:
    """`signlens predict MODEL --batch INPUT -o OUT.csv` (called from cli._predict)."""
    from signlens.inference import batch
    from signlens.inference.predictor import Predictor

    if not args.output:
        raise SignlensError("--batch needs -o OUTPUT.csv")
    if args.ray:
        from signlens.inference import batch_ray

        s = batch_ray.run(args.model, Path(args.batch), Path(args.output), address=args.address, resume=args.resume,
                          overwrite=args.overwrite, all_probabilities=args.all_probabilities)
    else:
        s = batch.run(Predictor.from_ref(args.model), Path(args.batch), Path(args.output), resume=args.resume,
                      overwrite=args.overwrite, all_probabilities=args.all_probabilities)
    print(f"{s.predicted} predicted, {s.errors} errors, {s.skipped} already done -> {s.output}"
          + (f" (errors: {s.errors_file})" if s.errors else ""))


def _worker(args: argparse.Namespace) -> None:
    import redis

    from signlens.inference import worker
    from signlens.inference.predictor import Predictor

    r = worker.connect(args.redis)
    try:
        if args.worker_command == "submit":
            images = [Path(p).read_bytes() for p in args.images]
            for path, job_id in zip(args.images, worker.submit(r, images)):
                print(f"{job_id}  {path}")
        elif args.worker_command == "results":
            for job_id, row in worker.results(r).items():
                print(f"{job_id}  {row['letter']}  {float(row['confidence']):.1%}  {row['model']}")
            for dead in worker.dead_letters(r):
                print(f"{dead['job_id']}  DEAD after {dead['tries']} tries: {dead['reason']}")
        else:
            w = worker.Worker(r, Predictor.from_ref(args.model), consumer=args.consumer, batch=args.batch,
                              max_tries=args.max_tries, claim_idle_ms=args.claim_idle_ms)
            print(f"worker {w.consumer} on {args.redis} ({worker.JOBS} -> {worker.RESULTS})", file=sys.stderr, flush=True)
            w.run(args.exit_when_idle)
    except redis.ConnectionError as exc:
        raise SignlensError(f"cannot reach Redis at {args.redis}: {exc}") from None


def _export(args: argparse.Namespace) -> None:
    from signlens.inference import export
    from signlens.models import tflite
    from signlens.data import load
    from signlens.models.resolve import resolve

    if args.format != "tflite":
        raise SignlensError("only --format tflite is supported")
    art = resolve(args.model)
    train_source = args.train_data or (art.meta.get("config") or {}).get("data")
    train = load(train_source, "train") if args.quantize == "int8" else None
    out = Path(args.out) if args.out else Path("exports") / f"{art.name}-tflite-{args.quantize}"
    report = export.export(art, out, args.quantize, load(args.data, "test"), train)
    print(export.format_report(report))
    head = f"{tflite.HEAD_FILE}, " if "hand_head" in report else ""
    print(f"\nwrote {out}/model.tflite, {head}signlens.json, parity.json")


def register(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("worker", help="nearline Redis-stream worker (and submit/results helpers)")
    w.add_argument("--redis", default=REDIS_DEFAULT, help="Redis URL (env SIGNLENS_REDIS)")
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

    e = sub.add_parser("export", help="export a model to TFLite (quantized) with a parity report")
    e.add_argument("model", help="artifact dir, or 'default'")
    e.add_argument("--format", default="tflite", choices=["tflite"])
    e.add_argument("--quantize", default="none", choices=["none", "float16", "dynamic", "int8"])
    e.add_argument("--out", help="export dir (default: exports/<name>-tflite-<quantize>)")
    e.add_argument("--data", help="labelled data for the parity check (default: vendored test split)")
    e.add_argument("--train-data", help="int8 calibration images (default: the artifact's training data)")
    e.set_defaults(func=_export)
