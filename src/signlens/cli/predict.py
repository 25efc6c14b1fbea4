"""`signlens predict MODEL IMAGE...` and `predict MODEL --batch INPUT -o OUTPUT.csv`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from signlens.cli import console, refs
from signlens.errors import SignlensError

if TYPE_CHECKING:
    from signlens.vision.preprocess import Preprocessed


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


def _photo_note(pre: Preprocessed) -> str:
    """What preprocessing made of a photo, so a surprising answer can be explained; '' for a grid."""
    if not pre.hand_found and tuple(pre.box) == (0, 0, *pre.pixels.shape):
        return ""  # a 28×28 grid, used as it is
    crop = "hand found" if pre.hand_found else "no hand found, centre crop"
    return f"   [{crop}{', hand landmarks read' if pre.hand_points is not None else ''}]"


def _predict_batch(args: argparse.Namespace) -> None:
    if not args.output:
        raise SignlensError("--batch needs -o OUTPUT.csv")
    if not Path(args.batch).exists():
        raise SignlensError(f"{args.batch}: no such file or directory")
    console.import_tensorflow()
    if args.ray:
        from signlens.inference import batch_ray

        s = batch_ray.run(args.model, Path(args.batch), Path(args.output), address=args.address, resume=args.resume,
                          overwrite=args.overwrite, all_probabilities=args.all_probabilities)
    else:
        from signlens.inference import batch
        from signlens.inference.predictor import Predictor

        s = batch.run(Predictor.from_ref(args.model), Path(args.batch), Path(args.output), resume=args.resume,
                      overwrite=args.overwrite, all_probabilities=args.all_probabilities)
    print(f"{s.predicted} predicted, {s.errors} errors, {s.skipped} already done -> {s.output}"
          + (f" (errors: {s.errors_file})" if s.errors else ""))


def _predict(args: argparse.Namespace) -> None:
    refs.check_model(args.model)
    if args.batch:
        return _predict_batch(args)
    if not args.images:
        raise SignlensError("give IMAGE... or --batch INPUT -o OUTPUT.csv")
    paths = _image_inputs(args.images)
    console.import_tensorflow()
    from signlens.data import load
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
            print(f"{name}: {p.letter}   (top-3: {top}){_photo_note(p.preprocessed)}" if p.hand else f"{name}: no hand")


def register(sub: argparse._SubParsersAction) -> None:
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
