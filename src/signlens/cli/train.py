"""`signlens train`: fit a model from a config plus key=value overrides, tracked in MLflow.

The config, the model name and the output directory are checked before TensorFlow loads, so a
typo costs a fraction of a second rather than the import.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from signlens import spec
from signlens.cli import console, refs
from signlens.errors import SignlensError

if TYPE_CHECKING:
    from signlens.training.config import TrainConfig


def check_out_dir(out: Path, resume: bool, force: bool) -> None:
    """Refuse to write over a finished artifact unless told to; --force deletes the old one first,
    so none of its files (a hand head, evaluation reports) outlive it next to the new model."""
    if resume or not (out / spec.META_FILE).exists():
        return
    if not force:
        raise SignlensError(f"{out} already holds a trained model ({spec.META_FILE}); choose another --out, "
                            "or pass --force to replace it")
    shutil.rmtree(out)


def _config(args: argparse.Namespace) -> TrainConfig:
    from signlens.training import config

    overrides = config.parse_overrides(args.overrides)
    if not args.resume:
        cfg = config.load(args.config, overrides)
        return cfg
    if args.config or overrides:
        raise SignlensError("--resume continues a run with the config it was started with; "
                            "leave out --config and key=value overrides")
    console.import_tensorflow()
    from signlens.training.train import interrupted_config

    return interrupted_config(Path(args.out))


def _train(args: argparse.Namespace) -> None:
    cfg = _config(args)
    out = Path(args.out)
    check_out_dir(out, args.resume, args.force)
    from signlens.data import load

    data = load(cfg.data, "train", skip_invalid=args.skip_invalid)  # loaded here: its fingerprint is tracked
    if data.skipped:
        print(f"skipped {len(data.skipped)} invalid rows (first: {data.skipped[0]})", file=sys.stderr)
    console.import_tensorflow()
    run = None
    if args.no_track:
        from signlens.training.train import train

        result = train(cfg, out, data=data, resume=args.resume)
    else:
        from signlens.tracking import runs as tracking

        result, run = tracking.train_tracked(cfg, out, data, resume=args.resume,
                                             experiment=args.experiment, uri=args.tracking_uri)
    m = result.metrics
    val = f", val_accuracy {m['val_accuracy']:.4f}" if "val_accuracy" in m else ""
    epochs = f"{m['epochs_run']} epoch{'s' * (m['epochs_run'] != 1)}"
    print(f"saved {result.artifact_dir} ({epochs}, {m['train_seconds']:.0f}s{val})")
    if run is not None and run.run_id:
        print(f"mlflow run {run.run_id} (experiment {run.experiment!r}, {run.uri}); load it as runs:/{run.run_id}/artifact")


def register(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train", help="train a model; extra key=value (or --key=value) override the config")
    t.add_argument("--config", help="TOML config (default: built-in defaults)")
    t.add_argument("--out", default="runs/latest", help="artifact directory to write")
    t.add_argument("--force", action="store_true", help="replace a trained model already in --out (deleted first)")
    t.add_argument("--resume", action="store_true",
                   help="continue the interrupted run in --out, with the config it was started with")
    t.add_argument("--skip-invalid", action="store_true", help="skip invalid data rows (reported) instead of stopping")
    t.add_argument("--experiment", help="MLflow experiment to group the run in (default: signlens; "
                   "--resume continues in the interrupted run's)")
    t.add_argument("--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI or sqlite under $SIGNLENS_HOME)")
    t.add_argument("--no-track", action="store_true", help="do not log this run to MLflow")
    t.set_defaults(func=_train, takes_overrides=True)
