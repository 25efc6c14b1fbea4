"""How many landmark views of a photo the hand-landmark head should pool: untilted views only (the
4 of the earlier default) against the tilted ones `preprocess` now adds (`landmarks.TILTS`).

    .venv/bin/python bench/views.py PHOTOS [--model models/default] [--seeds 0 1 2]    # ~4 min

PHOTOS is an image folder <LETTER>/*.jpg (e.g. ../shared/data/real-photos-dev). Its photos are
read once, through `preprocess`, with all `landmarks.VIEWS`; each view set is a subset of them.
A head is trained for each seed as `signlens train` trains it (seed 0's is the shipped default's),
and scored with the model's image model (image model × head) and alone. Photos are split by
person where file names carry one (`hand3`, `hand4`). "fixed / broken" counts photos, over all
seeds, that the view set gets right and the untilted views wrong, and the reverse.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from signlens import labels
from signlens.models import artifact
from signlens.training import head as hand_head
from signlens.vision import landmarks  # noqa: E402
from signlens.data import load  # noqa: E402
from signlens.inference.predictor import Predictor  # noqa: E402


def view_sets() -> dict[str, np.ndarray]:
    """Nested subsets of `landmarks.VIEWS`, up to each tilt: name -> boolean mask over the views."""
    tilts = np.abs(landmarks.VIEW_TILTS)
    sets = {}
    for limit in sorted({abs(t) for t in landmarks.TILTS}):
        keep = tilts <= limit
        sets["untilted" if limit == 0 else f"tilts up to ±{limit}°"] = keep
    return sets


def person_of(path: str) -> str:
    found = re.search(r"hand\d+", Path(path).name)
    return found.group(0) if found else "all"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos")
    p.add_argument("--model", default="models/default")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = p.parse_args()

    predictor = Predictor(artifact.load(args.model))
    photos = load(args.photos)
    if photos.hand_points is None:
        raise SystemExit(f"{args.photos}: no photos with landmarks to compare views on")
    train = load(None, "train")
    image_probs = predictor.probabilities(photos.x)
    points = photos.hand_points  # (N, views, 21, 3)
    found = landmarks.views_found(points)
    people = np.array([person_of(i) for i in photos.ids])

    per_view = []  # per seed: (N, views, 24) head probabilities
    for seed in args.seeds:
        head = hand_head.train(train, seed).model
        probs = np.full((*found.shape, labels.N_CLASSES), 1 / labels.N_CLASSES, np.float32)
        probs[found] = head.predict(landmarks.features(points[found]), verbose=0)
        per_view.append(probs)

    right = {}  # view set -> (seeds, N) bool, image model × head
    print(f"\n{predictor.name} ({predictor.version}) on {args.photos}, n={len(photos)}, head seeds {args.seeds}\n")
    names = sorted(set(people))
    print(f"{'views':<20} {'n':>3} {'image × head per seed':>24} {'mean':>6} {'head alone':>11} "
          + " ".join(f"{n:>6}" for n in names) + f" {'fixed / broken':>15}")
    for name, keep in view_sets().items():
        seen = found[:, keep].copy()
        seen[~seen.any(axis=1)] = True  # a photo no kept view saw: pool the (uniform) answers anyway
        heads = [landmarks.pool_views(probs[:, keep], seen) for probs in per_view]
        both = np.stack([landmarks.combine(image_probs, h).argmax(1) == photos.y for h in heads])
        alone = np.mean([(h.argmax(1) == photos.y).mean() for h in heads])
        right[name] = both
        base = right["untilted"]
        flips = f"{int((both & ~base).sum())} / {int((base & ~both).sum())}"
        print(f"{name:<20} {int(keep.sum()):>3} {' '.join(f'{a:.1%}' for a in both.mean(1)):>24} "
              f"{both.mean():>6.1%} {alone:>11.1%} "
              + " ".join(f"{both[:, people == n].mean():>6.1%}" for n in names) + f" {flips:>15}")


if __name__ == "__main__":
    main()
