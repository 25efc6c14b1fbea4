"""`signlens calibrate MODEL [--photos DIR]`: fit the artifact's temperatures, store them, draw them.

Grids: on the artifact's own validation split (rebuilt from its config). Photos: on a folder of
photos of at least two signers, with leave-one-signer-out ECE figures; when the head learnt from
exactly that folder (the shipped default), on predictions of heads refit without each signer
(evaluation/loso_refit.py), else on photos it has not learnt from.
A part not asked for keeps what the artifact already had (so a grid-only run keeps the photo
temperature). Prints ECE before/after and writes a reliability diagram per part.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _calibrate(args: argparse.Namespace) -> None:
    from signlens.data import load
    from signlens.errors import SignlensError
    from signlens.evaluation import calibrate, loso_refit
    from signlens.inference.predictor import Predictor
    from signlens.models import artifact
    from signlens.models.resolve import resolve

    art = resolve(args.model)
    if art.path is None or not (art.path / artifact.META_FILE).exists():
        raise SignlensError(f"{args.model}: calibrate needs a local artifact directory to store the temperatures in")
    out = Path(args.out) if args.out else art.path
    predictor = Predictor(art)
    old = art.meta.get("calibration") or {}
    parts: dict[str, Any] = {name: old[name] for name in ("grid", "photo") if "temperature" in old.get(name, {})}
    if not args.no_grids:
        val = calibrate.grid_validation(art)
        held = calibrate.grid_heldout(predictor, val, art.meta["config"].get("val_split", "random"))
        parts["grid"] = calibrate.grid_record(held)
        _diagram(held, parts["grid"]["temperature"], out / "reliability-grids.png", f"{art.name}: grids, validation split")
        _report("grids", parts["grid"], "validation split")
    if args.photos:
        photos = load(args.photos)
        refit = loso_refit.head_trained_on(art, photos)
        if refit:  # its head learnt these photos: each signer is read by a head refit without them
            held, who = loso_refit.heldout(art, predictor, photos)
        else:
            calibrate.check_unseen(art, photos)
            held, who = calibrate.photo_heldout(predictor, photos)
        parts["photo"] = calibrate.photo_record(held, who)
        kind = "leave-one-signer-out refits" if refit else "shipped temperature, in sample"
        _diagram(held, parts["photo"]["temperature"], out / "reliability-photos.png",
                 f"{art.name}: photos, {Path(args.photos).name} ({kind})")
        for signer, v in parts["photo"]["loso"].items():
            _report(f"photos {signer}", v, f"temperature {v['temperature_from_others']} fitted on the other signers")
        print(f"photos (LOSO, weighted by signer): ECE {parts['photo']['loso_ece_before']:.4f} -> "
              f"{parts['photo']['loso_ece_after']:.4f}, NLL {parts['photo']['loso_nll_before']:.4f} -> "
              f"{parts['photo']['loso_nll_after']:.4f}; shipped temperature {parts['photo']['temperature']} "
              f"(fitted on all {parts['photo']['n']} photos{', LOSO refit predictions' if refit else ''})")
    elif art.hand_head is not None and "photo" not in parts:
        print("note: no --photos: the photo path (image model × head) stays uncalibrated")
    record = calibrate.record(parts.get("grid"), parts.get("photo"))
    version = artifact.save_calibration(art.path, record)
    print(f"stored temperatures {record['temperatures']} in {art.path / artifact.META_FILE} (version {version}); "
          f"reliability diagrams in {out}")


def _report(what: str, part: dict[str, Any], where: str) -> None:
    nll = f"  NLL {part['nll_before']:.4f} -> {part['nll_after']:.4f}" if "nll_before" in part else ""
    print(f"{what:<14} n={part['n']:<5} accuracy {part['accuracy']:.4f}  ECE {part['ece_before']:.4f} -> "
          f"{part['ece_after']:.4f}{nll}  ({where})")


def _diagram(held: Any, temperature: float, path: Path, title: str) -> None:
    from signlens.evaluation import calibration

    calibration.reliability_diagram(
        {"before": (held.probs, held.y),
         f"after (T={temperature:g})": (calibration.temper(held.probs, temperature), held.y)}, path, title)


def register(subparsers: argparse._SubParsersAction) -> None:
    c = subparsers.add_parser("calibrate", help="fit the temperatures that make confidences probabilities "
                              "(grids: validation split; photos: --photos DIR, leave-one-signer-out)")
    c.add_argument("model", help="artifact directory, or 'default' (the shipped model: its signlens.json is updated)")
    c.add_argument("--photos", metavar="DIR", help="letter folders of photos of >= 2 signers named in the file "
                   "names (A_hand3_....jpeg): unseen in training, or the very set the head learnt from "
                   "(then the head is refit once per signer without that signer's photos)")
    c.add_argument("--no-grids", action="store_true", help="leave the grid temperature as it is")
    c.add_argument("--out", help="where the reliability diagrams go (default: the artifact directory)")
    c.set_defaults(func=_calibrate)
