"""The `signlens` command. Heavy imports happen inside each command so `--help` is instant."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from signlens.errors import SignlensError

if TYPE_CHECKING:
    from signlens.models.artifact import Artifact
    from signlens.vision.preprocess import Preprocessed


def _data_describe(args: argparse.Namespace) -> None:
    from signlens.data import load
    from signlens.data.describe import describe

    data = load(args.data, args.split, skip_invalid=args.skip_invalid)
    summary = describe(data, Path(args.out))
    print(f"{summary['source']}: {summary['n']} images, {data.fingerprint}")
    for letter, n in summary["counts"].items():
        print(f"  {letter}  {n:6d}  {'█' * max(1 if n else 0, round(40 * n / max(summary['counts'].values())))}")
    print(f"wrote {args.out}/label_histogram.png and {args.out}/samples.png")


def _data_validate(args: argparse.Namespace) -> None:
    from signlens.data import load

    data = load(args.path, args.split, skip_invalid=args.skip_invalid)
    for err in data.skipped:
        print(f"skipped: {err}", file=sys.stderr)
    print(f"{data.source}: {len(data)} valid rows, {len(data.skipped)} skipped; fingerprint {data.fingerprint}")


def _data_verify(args: argparse.Namespace) -> None:
    import gzip
    import hashlib

    from signlens.data.load import EMBEDDED_DIR

    ok = True
    for line in (EMBEDDED_DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        with gzip.open(EMBEDDED_DIR / f"{name}.gz", "rb") as f:
            actual = hashlib.file_digest(f, "sha256").hexdigest()
        ok &= actual == digest
        print(f"{'OK ' if actual == digest else 'BAD'} {name}")
    if not ok:
        raise SignlensError("vendored data does not match SHA256SUMS")


def _train(args: argparse.Namespace) -> None:
    from signlens.training import config
    from signlens.data import load

    overrides = config.parse_overrides(args.overrides)
    if args.resume:
        if args.config or overrides:
            raise SignlensError("--resume continues a run with the config it was started with; "
                                "leave out --config and key=value overrides")
        from signlens.training.train import interrupted_config, train

        cfg = interrupted_config(Path(args.out))
    else:
        cfg = config.load(args.config, overrides)  # before TensorFlow: fast errors
        from signlens.training.train import train

    data = load(cfg.data, "train", skip_invalid=args.skip_invalid)  # loaded here: its fingerprint is tracked
    if data.skipped:
        print(f"skipped {len(data.skipped)} invalid rows (first: {data.skipped[0]})", file=sys.stderr)
    run = None
    if args.no_track:
        result = train(cfg, Path(args.out), data=data, resume=args.resume)
    else:
        from signlens.tracking import store as tracking

        result, run = tracking.train_tracked(cfg, Path(args.out), data, resume=args.resume,
                                             experiment=args.experiment, uri=args.tracking_uri)
    m = result.metrics
    val = f", val_accuracy {m['val_accuracy']:.4f}" if "val_accuracy" in m else ""
    epochs = f"{m['epochs_run']} epoch{'s' * (m['epochs_run'] != 1)}"
    print(f"saved {result.artifact_dir} ({epochs}, {m['train_seconds']:.0f}s{val})")
    if run is not None and run.run_id:
        print(f"mlflow run {run.run_id} (experiment {args.experiment!r}, {run.uri}); load it as runs:/{run.run_id}/artifact")


def _evaluation_dir(art: Artifact, args: argparse.Namespace) -> Path:
    """<artifact>/eval-<split>, or eval-<folder name> for --data, so one report never replaces another."""
    name = f"eval-{args.split}" if args.data is None else f"eval-{Path(args.data).name.split('.')[0] or 'data'}"
    return art.path / name if art.path and (art.path / "signlens.json").exists() else Path("eval") / name


def _evaluate(args: argparse.Namespace) -> None:
    from signlens.data import load
    from signlens.evaluation.evaluate import evaluate, format_report
    from signlens.models.resolve import resolve

    art = resolve(args.model, tracking_uri=args.tracking_uri)
    data = load(args.data, args.split)
    out = Path(args.out) if args.out else _evaluation_dir(art, args)
    report = evaluate(art, data, out)
    print(format_report(report))
    print(f"\nwrote {out}/: {', '.join(report['files'])}")
    if art.meta.get("mlflow_run_id"):  # the model came from a tracked run: attach the report to it
        from signlens.tracking import store as tracking

        if tracking.log_evaluation(art.meta["mlflow_run_id"], out, report, args.tracking_uri):
            print(f"logged the report to mlflow run {art.meta['mlflow_run_id']}")


def _image_inputs(items: list[str]) -> list[Path]:
    """Each IMAGE argument as files: a folder stands for the images in it. Checked before TensorFlow loads."""
    from signlens.data.load import image_files

    paths: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = image_files(path)
            if not found:
                raise SignlensError(f"{path}: a folder with no png/jpg/jpeg images in it")
            paths += found
        elif path.exists():
            paths.append(path)
        else:
            raise SignlensError(f"{path}: no such file")
    return paths


def _photo_note(pre: "Preprocessed") -> str:
    """What preprocessing made of a photo, so a surprising answer can be explained; '' for a grid."""
    if not pre.hand_found and tuple(pre.box) == (0, 0, *pre.pixels.shape):
        return ""  # a 28×28 grid, used as it is
    crop = "hand found" if pre.hand_found else "no hand found, centre crop"
    return f"   [{crop}{', hand landmarks read' if pre.hand_points is not None else ''}]"


def _predict(args: argparse.Namespace) -> None:
    from signlens.data import load

    if args.batch:
        from signlens.cli.offline import predict_batch

        return predict_batch(args)
    if not args.images:
        raise SignlensError("give IMAGE... or --batch INPUT -o OUTPUT.csv")
    paths = _image_inputs(args.images)
    from signlens.inference.predictor import Predictor
    from signlens.vision.preprocess import ImageDecodeError, decode_image

    predictor = Predictor.from_ref(args.model)
    for path in paths:
        if path.suffix.lower() in (".csv", ".gz"):
            data = load(path)
            images = list(data.x)
            names = [f"{path}:{i}" for i in data.ids]
        else:
            try:
                images, names = [decode_image(path.read_bytes())], [str(path)]
            except ImageDecodeError as exc:
                raise SignlensError(f"{path}: {exc}") from None
        for name, p in zip(names, predictor.predict(images)):
            top = "  ".join(f"{letter} {prob:.1%}" for letter, prob in p.top(3))
            print(f"{name}: {p.letter}   (top-3: {top}){_photo_note(p.preprocessed)}")


def _import_tfjs(args: argparse.Namespace) -> None:
    from signlens.models import artifact
    from signlens.models.tfjs_import import import_tfjs

    art = import_tfjs(args.source, args.name)
    artifact.save(Path(args.out), art.model, name=art.name, config=art.meta["config"], fingerprint="",
                  metrics={}, extra={"version": "seed"})
    print(f"imported {args.source} -> {args.out}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="signlens", description="ASL fingerspelling recognition, end to end.")
    sub = p.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="inspect and validate datasets").add_subparsers(dest="data_command", required=True)
    d = data.add_parser("describe", help="counts per letter, label histogram and sample grid")
    d.add_argument("--data", help="CSV, dir or image folder (default: vendored Sign-MNIST)")
    d.add_argument("--split", default="train", choices=["train", "test"])
    d.add_argument("--out", default="reports/data", help="where the PNGs go")
    d.add_argument("--skip-invalid", action="store_true")
    d.set_defaults(func=_data_describe)
    v = data.add_parser("validate", help="check a CSV or image folder: the first problem stops it, named by "
                        "file, row and column (--skip-invalid lists every bad row)")
    v.add_argument("path")
    v.add_argument("--split", default="train", choices=["train", "test"])
    v.add_argument("--skip-invalid", action="store_true", help="report and skip bad rows instead of stopping")
    v.set_defaults(func=_data_validate)
    data.add_parser("verify", help="check the vendored CSVs against SHA256SUMS").set_defaults(func=_data_verify)
    from signlens.cli.audit import register_data_audit

    register_data_audit(data)  # `signlens data audit` = `signlens audit data`

    t = sub.add_parser("train", help="train a model; extra key=value (or --key=value) override the config")
    t.add_argument("--config", help="TOML config (default: built-in defaults)")
    t.add_argument("--out", default="runs/latest", help="artifact directory to write")
    t.add_argument("--resume", action="store_true",
                   help="continue the interrupted run in --out, with the config it was started with")
    t.add_argument("--skip-invalid", action="store_true", help="skip invalid data rows (reported) instead of stopping")
    t.add_argument("--experiment", default="signlens", help="MLflow experiment to group the run in")
    t.add_argument("--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI or sqlite under $SIGNLENS_HOME)")
    t.add_argument("--no-track", action="store_true", help="do not log this run to MLflow")
    t.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="accuracy, per-letter table, confusion matrix on a split or folder")
    e.add_argument("model", nargs="?", help="artifact or TF.js model dir (default: the shipped default model)")
    e.add_argument("--data", help="CSV, dir or image folder (default: vendored Sign-MNIST)")
    e.add_argument("--split", default="test", choices=["train", "test"])
    e.add_argument("--out", help="report directory (default: <artifact>/eval-<split>, or eval-<name> for --data NAME)")
    e.add_argument("--tracking-uri", help="MLflow store for runs:/ and models:/ references and the report")
    e.set_defaults(func=_evaluate)

    pr = sub.add_parser("predict", help="predict letters for images (png/jpg any size, or a folder of them) or CSV rows")
    pr.add_argument("model", help="artifact or TF.js model dir, or 'default'")
    pr.add_argument("images", nargs="*")
    pr.add_argument("--batch", metavar="INPUT", help="CSV (any size, streamed) or image folder -> -o OUTPUT.csv")
    pr.add_argument("-o", "--output", help="output CSV for --batch (bad rows go to OUTPUT.errors.csv)")
    pr.add_argument("--resume", action="store_true", help="--batch: skip rows already in OUTPUT")
    pr.add_argument("--overwrite", action="store_true", help="--batch: replace an existing OUTPUT")
    pr.add_argument("--all-probabilities", action="store_true", help="--batch: add p_A..p_Y columns")
    pr.add_argument("--ray", action="store_true", help="--batch: run the model on Ray actors (same output file)")
    pr.add_argument("--address", help="--ray: Ray cluster HOST:PORT (default: RAY_ADDRESS, else a local Ray)")
    pr.set_defaults(func=_predict)

    im = sub.add_parser("import-tfjs", help="convert a TF.js layers model (the seed's) into an artifact")
    im.add_argument("source")
    im.add_argument("--out", required=True)
    im.add_argument("--name")
    im.set_defaults(func=_import_tfjs)
    from signlens.cli import runs as cli_runs

    cli_runs.register(sub)
    from signlens.cli import audit as cli_audit

    cli_audit.register(sub)
    from signlens.cli import production as cli_production

    cli_production.register(sub)
    from signlens.cli import serve as cli_serve

    cli_serve.register(sub)
    from signlens.cli import photos as cli_photos

    cli_photos.register(sub)
    from signlens.cli import offline as cli_offline

    cli_offline.register(sub)
    from signlens.cli import sweep as cli_sweep; cli_sweep.register(sub)  # noqa: E702 (one line: the CLI is being split)
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's C++ chatter out of the way
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "train":
        args.overrides = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if getattr(args, "model", "") == "default":
        args.model = None
    func: Callable[[argparse.Namespace], None] = args.func
    try:
        func(args)
    except SignlensError as exc:
        print(f"signlens: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("signlens: interrupted (train: continue with --resume)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
