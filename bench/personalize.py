"""Personalization benchmark: zero-shot vs fine-tuned on k photos per letter of one person.

    .venv/bin/python bench/personalize.py PHOTOS [--model DIR] [--train hand3] [--test hand4] [--shots 1 3 10]

PHOTOS is an image folder <LETTER>/*.jpg whose file names contain the person (e.g. the dev set's
`hand3`/`hand4`). The model is fine-tuned (signlens.training.finetune, Sign-MNIST rehearsal) on the first
k photos per letter of the --train person and evaluated on ALL photos of the --test person, who is
never seen; Sign-MNIST test accuracy shows whether fine-tuning made the model forget. k larger
than the photos a person has per letter is capped (the table says how many were used).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from signlens.data import Dataset, load  # noqa: E402
from signlens.training.finetune import finetune  # noqa: E402
from signlens.models.resolve import resolve  # noqa: E402
from signlens.inference.predictor import Predictor  # noqa: E402


def _person(data: Dataset, name: str) -> np.ndarray:
    return np.array([i for i, p in enumerate(data.ids) if name in Path(p).name])


def _first_k(data: Dataset, index: np.ndarray, k: int) -> np.ndarray:
    return np.array([i for c in np.unique(data.y[index]) for i in index[data.y[index] == c][:k]])


def _accuracy(art, data: Dataset, hands: bool = True) -> float:
    """As `signlens evaluate` scores it: photos with landmarks also go to the hand-landmark head."""
    points = data.hand_points if hands else None
    return float((Predictor(art).probabilities(data.x, points).argmax(1) == data.y).mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos")
    p.add_argument("--model", default=None, help="base artifact (default: the shipped default model)")
    p.add_argument("--train", default="hand3")
    p.add_argument("--test", default="hand4")
    p.add_argument("--shots", type=int, nargs="+", default=[1, 3, 10])
    p.add_argument("--epochs", type=int, default=8)
    args = p.parse_args()

    photos, mnist_test = load(args.photos), load(split="test")
    train_i, test_i = _person(photos, args.train), _person(photos, args.test)
    if not len(train_i) or not len(test_i):
        raise SystemExit(f"no photos named *{args.train}* or *{args.test}* in {args.photos}")
    test = photos.subset(test_i)
    base = resolve(args.model)
    rows = [("zero-shot", 0, _accuracy(base, test), _accuracy(base, test, hands=False), _accuracy(base, mnist_test), 0.0)]
    with tempfile.TemporaryDirectory() as tmp:
        for k in args.shots:
            chosen = _first_k(photos, train_i, k)
            started = time.perf_counter()  # the whole fine-tune: image model and hand-landmark head
            result = finetune(base, photos.subset(chosen), Path(tmp) / f"k{k}", epochs=args.epochs)
            seconds = time.perf_counter() - started
            art = resolve(result.artifact_dir)
            used = len(chosen) / len(np.unique(photos.y[chosen]))
            rows.append((f"{k} per letter", used, _accuracy(art, test), _accuracy(art, test, hands=False),
                         _accuracy(art, mnist_test), seconds))
            print(f"  done k={k}", flush=True)
    print(f"\nbase {base.name} ({base.path}); fine-tune on {args.train}, test on {args.test} "
          f"(n={len(test)}), {args.epochs} epochs\n")
    print(f"{'setting':<15} {'used/letter':>11} {args.test + ' acc':>10} {'image model alone':>18} "
          f"{'SignMNIST test':>15} {'seconds':>8}")
    for name, used, acc, image_only, mnist, secs in rows:
        print(f"{name:<15} {used:>11.1f} {acc:>10.1%} {image_only:>18.1%} {mnist:>15.2%} {secs:>8.0f}")


if __name__ == "__main__":
    main()
