"""Held-out photo predictions for a head that learnt from those very photos: leave-one-signer-out refits.

The shipped head trains on the dev photos of every dev signer, so its own answers on them are
training-set answers (overconfident-right) and no temperature may be fitted on them. Instead, for
each signer S the head is trained again with the artifact's recorded recipe (same Sign-MNIST
sample, synthetic hands, 3-D augmented copies, seed, members, epochs) on the photos of everyone
but S, and S's photos are read by the image model × that refit head, exactly as `Predictor`
combines them. The LOSO predictions of all signers are what the photo temperature is fitted on
(`calibrate.photo_record`): each one comes from a model that never saw that person, as a new
user's photo will. A refit never sees the tested signer: every photo it trains on is checked by
content (file sha256) against the tested photos (`signers.check_disjoint`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from signlens import paths
from signlens.data import Dataset, load
from signlens.data.fingerprint import file_sha256
from signlens.errors import SignlensError
from signlens.evaluation import signers as folds_of
from signlens.evaluation.calibrate import Held, signers
from signlens.inference.predictor import Predictor
from signlens.models.artifact import Artifact
from signlens.training import head as hand_head


def head_trained_on(art: Artifact, photos: Dataset) -> bool:
    """Whether the artifact's head records having learnt from exactly this photo set."""
    learnt = (art.meta.get("hand_head") or {}).get("photos") or {}
    return art.hand_head is not None and learnt.get("fingerprint") == photos.fingerprint


def photo_shas(photos: Dataset) -> np.ndarray:
    """Each photo's content fingerprint (its file's sha256): a copy under another name is the same photo."""
    return np.array([file_sha256(Path(photo)) for photo in photos.ids])


def _recipe(art: Artifact) -> dict:
    """The head's recorded recipe, as `hand_head.train` arguments; a head without one cannot be refit."""
    record = art.meta.get("hand_head") or {}
    missing = [k for k in ("trained_on", "per_letter", "seed") if k not in record]
    if missing:
        raise SignlensError(f"{art.name}: its hand-head record lacks {missing}: the head cannot be refit "
                            "leave-one-signer-out (retrain it with signlens add-hand-head)")
    return {"seed": int(record["seed"]), "per_letter": int(record["per_letter"]),
            "synthetic": int(record.get("synthetic_per_pose", 0)), "copies": int(record.get("augmented_copies", 0)),
            "epochs": int(record.get("epochs", hand_head.EPOCHS)),
            "members": int(record.get("members", hand_head.MEMBERS))}


def _training_data(art: Artifact) -> Dataset:
    """The landmark-sample source the head was trained on (recorded relative to the project when vendored)."""
    source = Path(art.meta["hand_head"]["trained_on"])
    return load(source if source.is_absolute() else paths.REPO_ROOT / source, "train")


def heldout(art: Artifact, predictor: Predictor, photos: Dataset, progress: bool = True) -> tuple[Held, np.ndarray]:
    """Uncalibrated final answers on `photos`, each from a head refit without its signer; each photo's signer."""
    if photos.hand_points is None:
        raise SignlensError(f"{photos.source}: not a photo folder, it has no hand landmarks")
    who, shas = signers(photos.ids), photo_shas(photos)
    folds = folds_of.folds(who, shas)  # refuses a photo filed under two signers, before any work
    recipe, data = _recipe(art), _training_data(art)
    image = predictor.probabilities(photos.x)  # the image model alone: the refits change only the head
    probs = np.full_like(image, np.nan)
    for fold in folds:
        seen = photos.subset(fold.train, f"#without-{fold.signer}")
        folds_of.check_disjoint(photo_shas(seen), shas[fold.test])
        if progress:
            print(f"refitting the head without {fold.signer} ({len(seen)} photos of the others)", flush=True)
        head = hand_head.train(data, recipe["seed"], recipe["per_letter"], progress, synthetic=recipe["synthetic"],
                               copies=recipe["copies"], photos=seen, epochs=recipe["epochs"],
                               members=recipe["members"]).model
        refit = Predictor(dataclasses.replace(art, hand_head=head))
        probs[fold.test] = refit.with_hands(image[fold.test], photos.hand_points[fold.test], calibrated=False)
    steps = ", ".join(f"{k} {v}" for k, v in recipe.items())
    return Held(probs, photos.y, f"leave-one-signer-out refits of the head's recorded recipe ({steps}; each "
                                 f"signer read by a head trained without them) on {Path(photos.source).name} "
                                 f"({len(photos)} photos, signers {', '.join(sorted(set(who)))}, "
                                 f"fingerprint {photos.fingerprint})"), who
