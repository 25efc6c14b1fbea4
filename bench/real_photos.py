"""Real-photo accuracy, signer-independent: leave-one-signer-out (LOSO) over the dev photos.

    nice -n 10 .venv/bin/python bench/landmark_cache.py PHOTOS      # once: every photo's landmarks
    nice -n 10 .venv/bin/python bench/real_photos.py PHOTOS [--seeds 0 1] [--members 1] [--only 3 6]
                                   [--test-set photos|small|framed]

PHOTOS is the dev photo folder (<LETTER>/<LETTER>_hand3_*.jpeg, ...; the signer is read from the
file name). The image model (models/default) is not retrained: each row trains only the hand-
landmark head from its sources and scores photos as `predict` does (image model × head). Zero-
shot rows never see a dev photo; LOSO rows train on one signer's photos (+ the other sources) and
test on the other signer, both ways (`evaluation.signers.folds`, which refuses a fold whose training
set holds a tested photo). Each photo's landmarks are read once and cached (bench/landmark_cache.py).
Intervals: 95% Wilson over photos (seeds pooled: n = photos × seeds). Each row is scored on the
photos read in 1 view (the crop), `landmarks.VIEWS` (what `predict` reads, with its second look)
and the 20 `landmarks.TTA_VIEWS`; "head alone" leaves out the image model.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from signlens.evaluation import signers  # noqa: E402
from signlens.training import head as hand_head  # noqa: E402
from signlens.training import handshapes  # noqa: E402
from signlens.vision import landmarks  # noqa: E402

CACHE = Path(".signlens/cache")
#: The views a photo is read in, as `landmarks.TTA_VIEWS` names them.
VIEW_SETS = {"1 view": ("crop",), "2 views": landmarks.VIEWS, "20 views": landmarks.TTA_VIEWS}


@dataclass(frozen=True)
class Recipe:
    name: str
    mnist: bool = True
    synthetic: int = 0  # synthetic hands per pose
    copies: int = 0  # 3-D augmented copies
    photos: bool = False  # the other signer's dev photos (LOSO)


RECIPES = [
    Recipe("Sign-MNIST (zero-shot)"),
    Recipe("Sign-MNIST + 3-D aug (zero-shot)", copies=4),
    Recipe("synthetic + 3-D aug (zero-shot)", mnist=False, synthetic=200, copies=4),
    Recipe("Sign-MNIST + synthetic + 3-D aug (zero-shot)", synthetic=200, copies=4),
    Recipe("photos + 3-D aug (LOSO)", mnist=False, copies=4, photos=True),
    Recipe("Sign-MNIST + 3-D aug + photos (LOSO)", copies=4, photos=True),
    Recipe("Sign-MNIST + synthetic + 3-D aug + photos (LOSO)", synthetic=200, copies=4, photos=True),
]


def _views(points: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """The cached 20 views' subset `names`; for `landmarks.VIEWS`, with preprocess's second look
    (`landmarks.FALLBACK_TILTS`) where neither view saw the hand."""
    out = points[:, [landmarks.TTA_VIEWS.index(n) for n in names]].copy()
    if names != landmarks.VIEWS:
        return out
    missed = ~landmarks.has_hand(out)
    for row in np.flatnonzero(missed):
        tries = [(slot, f"{image} tilted {tilt:+d}°") for tilt in landmarks.FALLBACK_TILTS
                 for slot, image in enumerate(names)]
        for slot, view in tries:
            seen = points[row, landmarks.TTA_VIEWS.index(view)]
            if not np.isnan(seen).any():
                out[row, slot] = seen
                break
    return out


def training_set(recipe: Recipe, photos: dict, train: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    parts = []
    if recipe.mnist:
        with np.load(CACHE / "signmnist-400.npz") as m:
            parts.append((m["points"], m["letters"]))
    if recipe.synthetic:
        points, letters, _ = handshapes.sample(recipe.synthetic, seed)
        parts.append((points, letters))
    if recipe.photos and len(train):
        pts = _views(photos["points"][train], landmarks.VIEWS)
        found = landmarks.views_found(pts)
        flat, letters = pts[found], np.repeat(photos["letter"][train][:, None], pts.shape[1], 1)[found]
        parts.append((np.tile(flat, (hand_head.PHOTO_REPEAT, 1, 1)), np.tile(letters, hand_head.PHOTO_REPEAT)))
    return np.concatenate([p for p, _ in parts]), np.concatenate([y for _, y in parts])


def scores(head, photos: dict, test: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per view set: (photo read right by image model × head, by the head alone), over `test`;
    a photo with no landmarks gets the image model's answer, as `predict` gives it."""
    out = {}
    for name, views in VIEW_SETS.items():
        pts = _views(photos["points"][test], views)
        found = landmarks.views_found(pts)
        has = found.any(axis=1)
        probs = np.zeros((*found.shape, 24), np.float32)
        probs[found] = head.predict(landmarks.features(pts[found]), verbose=0, batch_size=4096)
        found[~has] = True  # pooled over nothing: replaced by the image model's answer below
        pooled = landmarks.pool_views(probs, found)
        image = photos["image_probs"][test]
        both = np.where(has[:, None], landmarks.combine(image, pooled), image)
        alone = np.where(has[:, None], pooled, image)
        y = photos["letter"][test]
        out[name] = (both.argmax(1) == y, alone.argmax(1) == y)
    return out


def run(recipe: Recipe, photos: dict, tested: dict, seeds: list[int],
        members: int) -> dict[str, dict[str, list[np.ndarray]]]:
    """-> {view set: {signer: [correct arrays, one per seed]}} (plus 'head <view set>')."""
    folds = (signers.folds(photos["signer"], photos["sha256"]) if recipe.photos
             else [signers.Fold(s, np.array([], int), np.flatnonzero(photos["signer"] == s))
                   for s in sorted(set(photos["signer"]))])
    result: dict[str, dict[str, list[np.ndarray]]] = {}
    for seed in seeds:
        shared = None
        for fold in folds:
            if recipe.photos or shared is None:
                points, letters = training_set(recipe, photos, fold.train, seed)
                shared = hand_head.fit(points, letters, seed, copies=recipe.copies, members=members)
            for name, (both, alone) in scores(shared, tested, fold.test).items():
                result.setdefault(name, {}).setdefault(fold.signer, []).append(both)
                result.setdefault(f"head {name}", {}).setdefault(fold.signer, []).append(alone)
    return result


def _cell(correct: list[np.ndarray]) -> str:
    c = np.concatenate(correct)
    lo, hi = signers.wilson(int(c.sum()), len(c))
    return f"{c.mean():6.1%} [{lo:.1%}-{hi:.1%}]"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", help="dev photo folder (its landmarks come from the cache; see bench/landmark_cache.py)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--members", type=int, default=1)
    p.add_argument("--only", type=int, nargs="*", help="recipe numbers to run (default: all)")
    p.add_argument("--views", nargs="+", default=list(VIEW_SETS), choices=list(VIEW_SETS))
    p.add_argument("--test-set", default="photos", choices=["photos", "small", "framed"],
                   help="test on the photos as they are, shrunk to 64 px and darkened, or 40 px on a 64-px wall")
    args = p.parse_args()
    if not (CACHE / "photos.npz").exists():
        raise SystemExit(f"no cache: run bench/landmark_cache.py {args.photos} first")
    with np.load(CACHE / "photos.npz") as npz:
        photos = {k: npz[k] for k in npz.files}
    with np.load(CACHE / f"{args.test_set}.npz") as npz:
        tested = {k: npz[k] for k in npz.files}
    if not np.array_equal(tested["sha256"], photos["sha256"]):
        raise SystemExit(f"{args.test_set}.npz is not made of the same photos: rebuild the cache")
    found = landmarks.has_hand(_views(tested["points"], landmarks.VIEWS))
    print(f"test set: {args.test_set}; landmarks found in {found.mean():.1%} of its photos ({landmarks.VIEWS})")
    print(f"{len(photos['letter'])} photos, signers {sorted(set(photos['signer']))}; seeds {args.seeds}; "
          f"{args.members} head member(s)\n")
    names = sorted(set(photos["signer"]))
    print(f"{'#':>2} {'recipe':<50} {'views':<14} " + " ".join(f"{n:>23}" for n in names) + f" {'mean':>23}")
    for k, recipe in enumerate(RECIPES):
        if args.only and k not in args.only:
            continue
        started = time.perf_counter()
        result = run(recipe, photos, tested, args.seeds, args.members)
        for view in args.views:
            for key in (view, f"head {view}"):
                cells = [_cell(result[key][n]) for n in names] + [_cell([c for n in names for c in result[key][n]])]
                label = key if key == view else "  head alone"
                print(f"{k:>2} {recipe.name:<50} {label:<14} " + " ".join(f"{c:>23}" for c in cells), flush=True)
        print(f"   ({time.perf_counter() - started:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
