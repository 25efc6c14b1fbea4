"""`signlens export` (TFLite, optionally quantized, with a parity report) and `signlens import-tfjs`."""

from __future__ import annotations

import argparse
from pathlib import Path

from signlens.cli import console, refs
from signlens.errors import SignlensError


def _export(args: argparse.Namespace) -> None:
    if args.format != "tflite":
        raise SignlensError("only --format tflite is supported")
    refs.check_model(args.model)
    console.import_tensorflow()
    from signlens.data import load
    from signlens.inference import export
    from signlens.models import tflite

    art = refs.resolve(args.model)
    train_source = args.train_data or (art.meta.get("config") or {}).get("data")
    train = load(train_source, "train") if args.quantize == "int8" else None
    out = Path(args.out) if args.out else Path("exports") / f"{art.name}-tflite-{args.quantize}"
    report = export.export(art, out, args.quantize, load(args.data, "test"), train)
    print(export.format_report(report))
    head = f"{tflite.HEAD_FILE}, " if "hand_head" in report else ""
    print(f"\nwrote {out}/model.tflite, {head}signlens.json, parity.json")


def _import_tfjs(args: argparse.Namespace) -> None:
    if not Path(args.source).is_dir():
        raise SignlensError(f"{args.source}: no such directory (expected a TF.js layers model directory)")
    console.import_tensorflow()
    from signlens.models import artifact
    from signlens.models.tfjs_import import import_tfjs

    art = import_tfjs(args.source, args.name)
    artifact.save(Path(args.out), art.model, name=art.name, config=art.meta["config"], fingerprint="",
                  metrics={}, extra={"version": "seed"})
    print(f"imported {args.source} -> {args.out}")


def register(sub: argparse._SubParsersAction) -> None:
    im = sub.add_parser("import-tfjs", help="convert a TF.js layers model (the seed's) into an artifact")
    im.add_argument("source")
    im.add_argument("--out", required=True)
    im.add_argument("--name")
    im.set_defaults(func=_import_tfjs)

    e = sub.add_parser("export", help="export a model to TFLite (quantized) with a parity report")
    e.add_argument("model", help="artifact dir, or 'default'")
    e.add_argument("--format", default="tflite", choices=["tflite"])
    e.add_argument("--quantize", default="none", choices=["none", "float16", "dynamic", "int8"])
    e.add_argument("--out", help="export dir (default: exports/<name>-tflite-<quantize>)")
    e.add_argument("--data", help="labelled data for the parity check (default: vendored test split)")
    e.add_argument("--train-data", help="int8 calibration images (default: the artifact's training data)")
    e.set_defaults(func=_export)
