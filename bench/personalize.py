"""Personalization as users live it: fine-tune on k photos per letter of one person, test on that
person's other photos, beside what the model read of them before (the cross-person figure).

    nice -n 10 .venv/bin/python bench/personalize.py PHOTOS [--model models/default] [--shots 1 3] [--seeds 0]

PHOTOS is the dev photo folder; the person is read from file names (`hand3`, `hand4`). For each
person, the base is the model's image model with a hand-landmark head trained as the shipped
default's recipe (its config) but WITHOUT that person's photos (leave-one-signer-out), so "before"
is a signer-independent figure. It is then fine-tuned (`signlens finetune`: image model and head,
Sign-MNIST rehearsal) on the first k photos per letter of that person and tested on the rest of
that person's photos; Sign-MNIST test accuracy shows whether fine-tuning made it forget.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from signlens.data import Dataset, load  # noqa: E402
from signlens.evaluation import signers  # noqa: E402
from signlens.inference.predictor import Predictor  # noqa: E402
from signlens.models import artifact  # noqa: E402
from signlens.training import head as hand_head  # noqa: E402
from signlens.training.finetune import finetune  # noqa: E402


def _first_k(data: Dataset, index: np.ndarray, k: int) -> np.ndarray:
    return np.array([i for c in np.unique(data.y[index]) for i in index[data.y[index] == c][:k]])


def _accuracy(art, data: Dataset) -> float:
    """As `signlens evaluate` scores it: photos with landmarks also go to the hand-landmark head."""
    return float((Predictor(art).probabilities(data.x, data.hand_points).argmax(1) == data.y).mean())


def _base_without(model: Path, photos: Dataset, train: np.ndarray, out: Path, seed: int) -> artifact.Artifact:
    """`model`'s image model with a head trained on its recipe, photos limited to `train`."""
    shutil.copytree(model, out)
    config = artifact.load(model).meta.get("config", {})
    head = hand_head.train(load(None, "train"), seed, int(config.get("hand_head_per_letter", hand_head.PER_LETTER)),
                           progress=False, synthetic=int(config.get("hand_head_synthetic", 0)),
                           copies=int(config.get("hand_head_augment", 0)), photos=photos.subset(train))
    artifact.save_hand_head(out, head.model, head.record)
    return artifact.load(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos")
    p.add_argument("--model", default="models/default")
    p.add_argument("--shots", type=int, nargs="+", default=[1, 3])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    photos, mnist_test = load(args.photos), load(split="test")
    names = [signers.signer_of(i) for i in photos.ids]
    shas = [hashlib.sha256(Path(i).read_bytes()).hexdigest() for i in photos.ids]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fold in signers.folds(names, shas):
            base = _base_without(Path(args.model), photos, fold.train, Path(tmp) / f"base-{fold.signer}", args.seed)
            before = _accuracy(base, photos.subset(fold.test))
            for k in args.shots:
                shown = _first_k(photos, fold.test, k)
                rest = np.setdiff1d(fold.test, shown)
                started = time.perf_counter()
                result = finetune(base, photos.subset(shown), Path(tmp) / f"{fold.signer}-k{k}",
                                  epochs=args.epochs, seed=args.seed)
                art = artifact.load(result.artifact_dir)
                rows.append((fold.signer, k, len(rest), _accuracy(base, photos.subset(rest)),
                             _accuracy(art, photos.subset(rest)), _accuracy(art, mnist_test),
                             time.perf_counter() - started))
                print(f"  done {fold.signer} k={k}", flush=True)
            print(f"  {fold.signer}: before fine-tuning, all {len(fold.test)} photos: {before:.1%}", flush=True)
    print(f"\nimage model of {args.model}; head per person without that person's photos (LOSO); "
          f"fine-tune {args.epochs} epochs, seed {args.seed}\n")
    print(f"{'person':<7} {'k/letter':>8} {'tested':>7} {'before (LOSO)':>14} {'after':>7} "
          f"{'SignMNIST test':>15} {'seconds':>8}")
    for name, k, n, before, after, mnist, secs in rows:
        print(f"{name:<7} {k:>8} {n:>7} {before:>14.1%} {after:>7.1%} {mnist:>15.2%} {secs:>8.0f}")
    for k in args.shots:
        mine = [r for r in rows if r[1] == k]
        print(f"{'mean':<7} {k:>8} {sum(r[2] for r in mine):>7} "
              f"{np.mean([r[3] for r in mine]):>14.1%} {np.mean([r[4] for r in mine]):>7.1%}")


if __name__ == "__main__":
    main()
