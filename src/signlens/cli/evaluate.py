"""`signlens evaluate`: accuracy, a per-letter table and a confusion matrix, attached to the model's run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from signlens import spec
from signlens.cli import console, refs

if TYPE_CHECKING:
    from signlens.models.artifact import Artifact


def _evaluation_dir(art: Artifact, args: argparse.Namespace) -> Path:
    """<artifact>/eval-<split>, or eval-<folder name> for --data, so one report never replaces another."""
    name = f"eval-{args.split}" if args.data is None else f"eval-{Path(args.data).name.split('.')[0] or 'data'}"
    return art.path / name if art.path and (art.path / spec.META_FILE).exists() else Path("eval") / name


def _evaluate(args: argparse.Namespace) -> None:
    refs.check_model(args.model)
    console.import_tensorflow()
    from signlens.data import load
    from signlens.evaluation.evaluate import evaluate, format_report

    art = refs.resolve(args.model, args.tracking_uri)
    data = load(args.data, args.split)
    out = Path(args.out) if args.out else _evaluation_dir(art, args)
    report = evaluate(art, data, out)
    print(format_report(report))
    print(f"\nwrote {out}/: {', '.join(report['files'])}")
    if art.meta.get("mlflow_run_id"):  # the model came from a tracked run: attach the report to it
        from signlens.tracking import runs as tracking

        if tracking.log_evaluation(art.meta["mlflow_run_id"], out, report, args.tracking_uri):
            print(f"logged the report to mlflow run {art.meta['mlflow_run_id']}")


def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("evaluate", help="accuracy, per-letter table, confusion matrix on a split or folder")
    e.add_argument("model", nargs="?", help="artifact or TF.js model dir (default: the shipped default model)")
    e.add_argument("--data", help="CSV, dir or image folder (default: vendored Sign-MNIST)")
    e.add_argument("--split", default="test", choices=["train", "test"])
    e.add_argument("--out", help="report directory (default: <artifact>/eval-<split>, or eval-<name> for --data NAME)")
    e.add_argument("--tracking-uri", help="MLflow store for runs:/ and models:/ references and the report")
    e.set_defaults(func=_evaluate)
