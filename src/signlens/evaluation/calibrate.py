"""Calibrate an artifact: held-out predictions per path, a temperature each, ECE before and after.

- Grids: the artifact's own validation split, rebuilt from its config (same data, excluded rows,
  fraction, seed and method, checked against the recorded fingerprint and size), so the rows the
  temperature is fitted on are rows the model never trained on. Never the test split.
- Photos: an image folder whose file names name the signer (`hand3`, `hand4` in the dev photos).
  The figure for each signer uses a temperature fitted on the *other* signers' photos only
  (leave-one-signer-out); the temperature shipped is fitted on all of them. The photo path's
  answer is the product of the image model and the hand-landmark head, so it is that combined
  distribution that is tempered (`Predictor.with_hands`).

Both need predictions the model made on data it did not learn from: a folder of photos its head
was trained on is refused (`check_unseen`), unless it is exactly the set the head records learning
from; then each signer's predictions come from a head refit without them (loso_refit.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from signlens.data import Dataset, load
from signlens.data.load import portable
from signlens.data.split import train_val_split
from signlens.errors import SignlensError
from signlens.evaluation import calibration
from signlens.inference.predictor import Predictor
from signlens.models.artifact import Artifact
from signlens.vision import landmarks

#: The signer in a photo's file name: `A_hand3_a_dif_seg_1_cropped.jpeg` -> hand3.
SIGNER = re.compile(r"(?:^|_)(hand\d+)(?:_|$)")


@dataclass(frozen=True)
class Held:
    """Uncalibrated final probabilities on held-out data, with the truth and what it is."""

    probs: np.ndarray  # (N, 24)
    y: np.ndarray  # (N,)
    data: str  # what they are, for the record


def grid_validation(art: Artifact) -> Dataset:
    """The artifact's validation split, exactly as `signlens train` drew it."""
    meta, cfg = art.meta, art.meta.get("config", {})
    if not cfg.get("val_fraction"):
        raise SignlensError(f"{art.name}: trained without a validation split (val_fraction 0): nothing held out "
                            "to fit the grid temperature on")
    data = load(cfg.get("data"), "train")
    excluded = set(meta.get("excluded_rows", []))
    if excluded:
        data = data.subset(np.array([i for i, row in enumerate(data.ids) if row not in excluded]))
    if data.fingerprint != meta.get("dataset_fingerprint"):
        raise SignlensError(f"{art.name}: the training data found ({data.source}, {data.fingerprint}) is not the "
                            f"data it was trained on ({meta.get('dataset_fingerprint')})")
    _, val = train_val_split(data, cfg["val_fraction"], cfg["seed"], cfg.get("val_split", "random"))
    if val is None or len(val) != meta.get("n_val", len(val)):
        raise SignlensError(f"{art.name}: the validation split rebuilt has {0 if val is None else len(val)} rows, "
                            f"the run recorded {meta.get('n_val')}")
    return val


def grid_heldout(predictor: Predictor, val: Dataset, split: str) -> Held:
    probs = predictor.with_hands(predictor.probabilities(val.x), calibrated=False)
    return Held(probs, val.y, f"{split} validation split of {portable(val.source.removesuffix('#val'))} "
                              f"({len(val)} grids, fingerprint {val.fingerprint})")


def signers(ids: tuple[str, ...]) -> np.ndarray:
    """The signer named in each photo's file name; a photo without one is an error naming it."""
    out = []
    for photo in ids:
        found = SIGNER.search(Path(photo).stem)
        if found is None:
            raise SignlensError(f"{photo}: no signer in the file name (expected e.g. A_hand3_....jpeg)")
        out.append(found.group(1))
    return np.array(out)


def check_unseen(art: Artifact, photos: Dataset) -> None:
    """Refuse photos the artifact records having learnt from (their fingerprint or folder in its
    metadata): their predictions would be fitted on training data and look overconfident-right."""
    recorded = json.dumps(art.meta)
    if photos.fingerprint in recorded or str(Path(photos.source).resolve()) in recorded:
        raise SignlensError(f"{art.name} was trained on {photos.source}: calibrate on photos it has not seen "
                            "(or on leave-one-signer-out predictions)")


def photo_heldout(predictor: Predictor, photos: Dataset) -> tuple[Held, np.ndarray]:
    """Uncalibrated final answers on a photo folder, and each photo's signer."""
    points = photos.hand_points if photos.hand_points is not None else landmarks.as_array([None] * len(photos))
    probs = predictor.with_hands(predictor.probabilities(photos.x), points, calibrated=False)
    who = signers(photos.ids)
    # the folder's name, not its path: the record ships, and the fingerprint identifies the photos
    return Held(probs, photos.y, f"{Path(photos.source).name} ({len(photos)} photos, signers {', '.join(sorted(set(who)))}, "
                                 f"fingerprint {photos.fingerprint})"), who


def grid_record(held: Held) -> dict[str, Any]:
    """Fit the grid temperature on `held`; its ECE before and after, on the same rows."""
    t = calibration.fit_temperature(held.probs, held.y)
    return {"temperature": round(t, 4), "fitted_on": held.data, "n": len(held.y),
            "ece_before": round(calibration.ece(held.probs, held.y), 4),
            "ece_after": round(calibration.ece(calibration.temper(held.probs, t), held.y), 4),
            "accuracy": round(float((held.probs.argmax(1) == held.y).mean()), 4)}


def loso(held: Held, who: np.ndarray) -> dict[str, dict[str, float]]:
    """Per signer: ECE and NLL before, and after a temperature fitted on the other signers only."""
    out = {}
    for signer in sorted(set(who)):
        test, fit = who == signer, who != signer
        t = calibration.fit_temperature(held.probs[fit], held.y[fit])
        out[signer] = {"n": int(test.sum()), "temperature_from_others": round(t, 4),
                       "ece_before": round(calibration.ece(held.probs[test], held.y[test]), 4),
                       "ece_after": round(calibration.ece(calibration.temper(held.probs[test], t), held.y[test]), 4),
                       "nll_before": round(calibration.nll(held.probs[test], held.y[test]), 4),
                       "nll_after": round(calibration.nll(calibration.temper(held.probs[test], t), held.y[test]), 4),
                       "accuracy": round(float((held.probs[test].argmax(1) == held.y[test]).mean()), 4)}
    return out


def photo_record(held: Held, who: np.ndarray) -> dict[str, Any]:
    """The photo temperature fitted on every signer, with each signer's leave-one-out figures."""
    if len(set(who)) < 2:
        raise SignlensError(f"photo calibration needs photos of at least two signers; found {sorted(set(who))}")
    per_signer = loso(held, who)
    t = calibration.fit_temperature(held.probs, held.y)
    weights = np.array([per_signer[s]["n"] for s in per_signer])
    return {"temperature": round(t, 4), "fitted_on": held.data, "n": len(held.y),
            "loso": per_signer,
            "loso_ece_before": round(float(np.average([v["ece_before"] for v in per_signer.values()], weights=weights)), 4),
            "loso_ece_after": round(float(np.average([v["ece_after"] for v in per_signer.values()], weights=weights)), 4),
            "loso_nll_before": round(float(np.average([v["nll_before"] for v in per_signer.values()], weights=weights)), 4),
            "loso_nll_after": round(float(np.average([v["nll_after"] for v in per_signer.values()], weights=weights)), 4),
            "ece_before_in_sample": round(calibration.ece(held.probs, held.y), 4),
            "ece_after_in_sample": round(calibration.ece(calibration.temper(held.probs, t), held.y), 4)}


def record(grid: dict[str, Any] | None, photo: dict[str, Any] | None) -> dict[str, Any]:
    """The artifact's `calibration` record (inference/temperature.py reads `temperatures`)."""
    temps = {name: part["temperature"] for name, part in (("grid", grid), ("photo", photo)) if part is not None}
    return {"method": "temperature", "bins": calibration.N_BINS, "temperatures": temps,
            **({"grid": grid} if grid is not None else {}), **({"photo": photo} if photo is not None else {})}
