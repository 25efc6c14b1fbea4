"""Landmarks read once, kept in .npz under .signlens/cache/ (git-ignored): reading them is the slow part.

    nice -n 10 .venv/bin/python bench/landmark_cache.py PHOTOS [--per-letter 400] [--model models/default]

Writes photos.npz (each dev photo: fingerprint, signer, letter, the 20-view landmarks, the image
model's probabilities), small.npz (the same photos shrunk to 64 px and darkened), framed.npz (the hand 40 px tall
on a 64-px wall, darkened: the hidden webcam-style set's look) and
signmnist-<per_letter>.npz (landmarks of Sign-MNIST training images, as the head learns from).
"""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from signlens import labels  # noqa: E402
from signlens.data.load import image_files, load  # noqa: E402
from signlens.evaluation.signers import signer_of  # noqa: E402
from signlens.training import head as hand_head  # noqa: E402
from signlens.vision import landmarks  # noqa: E402
from signlens.vision.preprocess import decode_image, preprocess  # noqa: E402

CACHE = Path(".signlens/cache")


def small_dark(rgb: np.ndarray, side: int = 64, gain: float = 0.45) -> np.ndarray:
    """A webcam-style frame: the photo shrunk to `side` px on its longer side and darkened."""
    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return np.clip(small.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def framed(rgb: np.ndarray, side: int = 64, hand: int = 40, gain: float = 0.45) -> np.ndarray:
    """A webcam-style frame: the photo's hand `hand` px tall on a `side`-px lit wall, darkened."""
    h, w = rgb.shape[:2]
    scale = hand / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    frame = np.empty((side, side, 3), np.uint8)
    frame[:] = (178, 170, 160)  # a beige wall
    y, x = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    dark = small.max(axis=2, keepdims=True) < 20  # the dev photos' black background shows the wall
    spot = frame[y:y + small.shape[0], x:x + small.shape[1]]
    spot[:] = np.where(dark, spot, small)
    return np.clip(frame.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def read_photos(root: Path, transform=None) -> dict[str, np.ndarray]:
    rows = {k: [] for k in ("name", "sha256", "signer", "letter", "points", "pixels")}
    for path in image_files(root):
        data = path.read_bytes()
        rgb = decode_image(data)
        prepped = preprocess(transform(rgb) if transform else rgb, views=landmarks.TTA_VIEWS)
        rows["name"].append(path.name)
        rows["sha256"].append(hashlib.sha256(data).hexdigest())
        rows["signer"].append(signer_of(path))
        rows["letter"].append(labels.index_of_letter(path.parent.name))
        rows["points"].append(prepped.hand_points)
        rows["pixels"].append(prepped.pixels)
    out = {k: np.asarray(v) for k, v in rows.items() if k != "points"}
    out["points"] = landmarks.as_array(rows["points"], shape=(len(landmarks.TTA_VIEWS), landmarks.N_POINTS, 3))
    return out


def image_probs(model_dir: str, pixels: np.ndarray) -> np.ndarray:
    from signlens.inference.predictor import Predictor

    return Predictor.from_ref(model_dir).probabilities(pixels)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos")
    p.add_argument("--per-letter", type=int, default=400)
    p.add_argument("--model", default="models/default")
    p.add_argument("--only", choices=["photos", "small", "framed", "signmnist"], nargs="*")
    args = p.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    todo = args.only or ["photos", "small", "framed", "signmnist"]
    for name, transform in (("photos", None), ("small", small_dark), ("framed", framed)):
        if name in todo:
            rows = read_photos(Path(args.photos), transform)
            rows["image_probs"] = image_probs(args.model, rows["pixels"])
            np.savez(CACHE / f"{name}.npz", **rows)
            print(name, len(rows["letter"]), "hand found", landmarks.has_hand(rows["points"]).mean(), flush=True)
    if "signmnist" in todo:
        points, letters = hand_head.sample_points(load(), args.per_letter, seed=0, progress=False)
        np.savez(CACHE / f"signmnist-{args.per_letter}.npz", points=points, letters=letters)
        print("signmnist", len(letters), flush=True)


if __name__ == "__main__":
    main()
