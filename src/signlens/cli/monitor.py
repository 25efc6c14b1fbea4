"""`signlens ab report` and `signlens monitor report`: reading the prediction log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from signlens.cli import console, refs
from signlens.paths import prediction_log


def _ab_report(args: argparse.Namespace) -> None:
    from signlens.production.report import format_report, variant_stats

    print(format_report(variant_stats(Path(args.log)), args.alpha))


def _monitor_report(args: argparse.Namespace) -> None:
    refs.check_model(args.model)
    console.import_tensorflow()
    import numpy as np

    from signlens.data import load
    from signlens.inference.predictor import Predictor
    from signlens.production import drift

    current = drift.recent(Path(args.log), args.window)
    n = len(current["letters"])
    print(f"comparing the last {n} predictions with the training reference")
    if n < drift.FEW_PREDICTIONS:
        print(f"signlens: warning: {n} predictions is a small sample; drift tests are noisy below "
              f"{drift.FEW_PREDICTIONS}", file=sys.stderr)
    train = load(args.reference, "train")
    sample = np.random.default_rng(0).choice(len(train), size=min(args.reference_size, len(train)), replace=False)
    predictor = Predictor.from_ref(args.model)
    confidence = predictor.with_hands(predictor.probabilities(train.x[sample])).max(axis=1)  # calibrated, as served
    ref = drift.reference_from(train.x[sample], train.y, confidence)
    checks = drift.compare(ref, current)
    html = drift.write_report(checks, ref, current, Path(args.out))
    for c in checks:
        psi = "" if c.psi is None else f"PSI {c.psi:.3f}"
        ks = "" if c.ks_stat is None else f"KS {c.ks_stat:.3f} (p={c.ks_p:.2g})"
        print(f"{'DRIFT' if c.drift else 'ok   '} {c.name:20s} {psi:12s} {ks:22s} ref {c.reference:.3f} now {c.current:.3f}")
    print(f"wrote {html}")
    if any(c.drift for c in checks):
        print("drift detected", file=sys.stderr)
        raise SystemExit(1)


def register(sub: argparse._SubParsersAction) -> None:
    ab = sub.add_parser("ab", help="A/B test results from the prediction log").add_subparsers(dest="ab_command", required=True)
    r = ab.add_parser("report", help="per variant: requests, feedback, accuracy with CI, significance")
    r.add_argument("--log", default=str(prediction_log()), help="prediction log (SQLite)")
    r.add_argument("--alpha", type=float, default=0.05)
    r.set_defaults(func=_ab_report)

    mon = sub.add_parser("monitor", help="drift monitoring").add_subparsers(dest="monitor_command", required=True)
    m = mon.add_parser("report", help="recent predictions vs the training reference; exit 1 on drift")
    m.add_argument("--log", default=str(prediction_log()), help="prediction log (SQLite)")
    m.add_argument("--model", help="model whose confidences form the reference (default: the shipped default)")
    m.add_argument("--reference", help="training data for the reference (default: vendored Sign-MNIST)")
    m.add_argument("--reference-size", type=int, default=2000)
    m.add_argument("--window", type=int, default=1000, help="how many recent predictions to compare")
    m.add_argument("--out", default="reports/monitor")
    m.set_defaults(func=_monitor_report)
