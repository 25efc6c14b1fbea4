"""What the centre-crop fallback is worth: photos read as if hand finding had failed on every one.

    .venv/bin/python bench/fallback.py PHOTOS [--model models/default]

PHOTOS is an image folder <LETTER>/*.jpg (e.g. ../shared/data/real-photos-dev). Every photo gets
the centre crop `preprocess` falls back to, the same 28×28 steps, and landmarks of that crop;
the table compares the image model alone with image model × hand-landmark head on them, next to
the normal path. Frames with no hand (flat and noise) check that the landmark model turns them away.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from signlens.vision import hand
from signlens.vision import landmarks  # noqa: E402
from signlens.data import load  # noqa: E402
from signlens.vision.preprocess import PHOTO_BLUR_SIGMA, SIZE, decode_image, normalize, to_grayscale  # noqa: E402
from signlens.inference.predictor import Predictor  # noqa: E402


def centre_crop_inputs(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The grid and landmark views of the centre crop itself (`preprocess` goes on from there to a
    box around the joints it sees, locate.py; this measures what the centre crop alone gives)."""
    box = hand.centre_square(*rgb.shape[:2])
    raw = cv2.resize(hand.crop(to_grayscale(rgb), box, 0), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    grid = cv2.GaussianBlur(normalize(raw, None), (0, 0), PHOTO_BLUR_SIGMA)
    return grid, landmarks.photo_views(rgb, box, raw)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos")
    p.add_argument("--model", default="models/default")
    args = p.parse_args()

    predictor = Predictor.from_ref(args.model)
    if not predictor.has_head:
        raise SystemExit(f"{args.model} has no hand-landmark head (signlens add-hand-head)")
    data = load(args.photos)  # the normal path: hand finding, crops, landmarks
    forced = [centre_crop_inputs(decode_image(Path(i).read_bytes())) for i in data.ids]
    grids = np.stack([g for g, _ in forced])
    points = landmarks.as_array([v for _, v in forced])

    def acc(probs: np.ndarray) -> str:
        return f"{(probs.argmax(1) == data.y).mean():.1%}"

    normal = predictor.probabilities(data.x)
    centre = predictor.probabilities(grids)
    print(f"\n{predictor.name} ({predictor.version}) on {args.photos}, n={len(data)}\n")
    print(f"{'path':<34} {'landmarks':>10} {'image alone':>12} {'image × head':>13}")
    print(f"{'normal (hand.py crop)':<34} {int(landmarks.has_hand(data.hand_points).sum()):>10} "
          f"{acc(normal):>12} {acc(predictor.with_hands(normal, data.hand_points)):>13}")
    print(f"{'forced centre-crop fallback':<34} {int(landmarks.has_hand(points).sum()):>10} "
          f"{acc(centre):>12} {acc(predictor.with_hands(centre, points)):>13}")
    rng = np.random.default_rng(0)
    frames = [np.full((480, 640, 3), v, np.uint8) for v in (30, 128, 220)]
    frames += [(rng.random((480, 640, 3)) * 255).astype(np.uint8) for _ in range(3)]
    seen = sum(centre_crop_inputs(f)[1] is not None for f in frames)
    print(f"\nframes without a hand (3 flat, 3 noise) given landmarks: {seen} of {len(frames)}")


if __name__ == "__main__":
    main()
