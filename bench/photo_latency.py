"""What a photo costs: one-photo `predict` with the hand-landmark head, without it, and preprocessing alone.

    .venv/bin/python bench/photo_latency.py PHOTOS [--model models/default] [--baseline models/seed-cnn]

PHOTOS is an image folder (<LETTER>/*.jpg, e.g. ../shared/data/real-photos-dev); every 12th photo
is used, each predicted 3 times, one at a time as the page's webcam sends them. The baseline is a
model without a head, for which `preprocess` takes no landmarks; then the hand finding, crop and
28×28 grid without landmarks or any model. The last row is the worst case of the page's live mode:
640×480 webcam frames with no hand in them, for which `locate.py` searches the whole frame.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from signlens.vision import landmarks  # noqa: E402
from signlens.data.load import image_files  # noqa: E402
from signlens.inference.predictor import Predictor  # noqa: E402
from signlens.vision.preprocess import preprocess  # noqa: E402


def latencies(fn, photos: list[bytes], repeat: int = 3) -> np.ndarray:
    for b in photos[:3]:  # warm-up: first calls build the model's function and load the landmark model
        fn(b)
    times = []
    for _ in range(repeat):
        for b in photos:
            t = time.perf_counter()
            fn(b)
            times.append(time.perf_counter() - t)
    return np.array(times) * 1000


def empty_frames(n: int = 6) -> list[bytes]:
    """Webcam frames of a wall, lit unevenly, with sensor noise and no hand: JPEG, as the page sends."""
    rng = np.random.default_rng(0)
    frames = []
    for k in range(n):
        wall = np.linspace(90 + 20 * k, 170 + 10 * k, 640, dtype=np.float32)[None, :, None]
        frame = np.clip(wall + rng.normal(0, 4, (480, 640, 3)), 0, 255).astype(np.uint8)
        frames.append(cv2.imencode(".jpg", frame)[1].tobytes())
    return frames


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos")
    p.add_argument("--model", default="models/default")
    p.add_argument("--baseline", default="models/seed-cnn")
    args = p.parse_args()

    photos = [path.read_bytes() for path in image_files(Path(args.photos))[::12]]
    if not photos:
        raise SystemExit(f"no images under {args.photos}")
    model, baseline = Predictor.from_ref(args.model), Predictor.from_ref(args.baseline)
    rows = [
        (f"{model.name} predict ({len(landmarks.VIEWS)} landmark views + head)" if model.has_head
         else f"{model.name} predict (no head)", latencies(lambda b: model.predict([b]), photos)),
        (f"{baseline.name} predict (no head, no landmarks)", latencies(lambda b: baseline.predict([b]), photos)),
        ("preprocess(hands=False) alone", latencies(lambda b: preprocess(b, hands=False), photos)),
        (f"{model.name} predict, 640×480 frame without a hand", latencies(lambda b: model.predict([b]), empty_frames())),
    ]
    print(f"\none photo at a time, {len(photos)} photos × 3, {os.cpu_count()} CPUs\n")
    print(f"{'path':<52} {'p50 ms':>7} {'p90 ms':>7}")
    for name, ms in rows:
        print(f"{name:<52} {np.median(ms):>7.1f} {np.percentile(ms, 90):>7.1f}")


if __name__ == "__main__":
    main()
