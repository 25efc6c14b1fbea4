"""What a photo costs: one-photo `predict` reading the hand in `landmarks.VIEWS` (2) against the 20
test-time views of the previous default, without a head, preprocessing alone, and live mode's CPU.

    .venv/bin/python bench/photo_latency.py PHOTOS [--model models/default] [--baseline models/seed-cnn]

PHOTOS is an image folder (<LETTER>/*.jpg, e.g. ../shared/data/real-photos-dev); every 12th photo
is used, each predicted 3 times, one at a time as the page's webcam sends them. "20 views" runs
the same preprocessing and models with the hand read in all `landmarks.TTA_VIEWS` (what every
photo cost before issue 20; accuracy of both: bench/real_photos.py). The baseline is a model
without a head, for which `preprocess` takes no landmarks. Live mode: the photos pasted into
640×480 webcam frames, sent at 10 frames/s; "cores" is the process's CPU time per second of video.
The last row is live mode's worst case: frames with no hand, for which `locate.py` searches.
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

LIVE_FPS = 10


def latencies(fn, photos: list[bytes], repeat: int = 3) -> tuple[np.ndarray, float]:
    """-> (wall ms per call, CPU seconds per call)."""
    for b in photos[:3]:  # warm-up: first calls build the model's function and load the landmark model
        fn(b)
    times = []
    cpu = time.process_time()
    for _ in range(repeat):
        for b in photos:
            t = time.perf_counter()
            fn(b)
            times.append(time.perf_counter() - t)
    return np.array(times) * 1000, (time.process_time() - cpu) / len(times)


def webcam_frames(photos: list[bytes]) -> list[bytes]:
    """Each photo's hand ~200 px tall on a 640×480 lit wall, JPEG, as the page's live mode sends."""
    frames = []
    for k, b in enumerate(photos):
        hand = cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR)
        scale = 200 / max(hand.shape[:2])
        hand = cv2.resize(hand, (max(1, round(hand.shape[1] * scale)), max(1, round(hand.shape[0] * scale))))
        frame = np.full((480, 640, 3), 170, np.uint8)
        y, x = 140 + (k % 3) * 20, 220 + (k % 5) * 30
        frame[y:y + hand.shape[0], x:x + hand.shape[1]] = hand
        frames.append(cv2.imencode(".jpg", frame)[1].tobytes())
    return frames


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
    if not model.has_head:
        raise SystemExit(f"{args.model} has no hand-landmark head to time")

    def with_views(views: tuple[str, ...]):
        def run(b: bytes) -> np.ndarray:
            prepped = preprocess(b, views=views)
            points = landmarks.as_array([prepped.hand_points], shape=(len(views), landmarks.N_POINTS, 3))
            return model.probabilities(prepped.pixels[None], points)
        return run

    live = webcam_frames(photos)
    n, tta = len(landmarks.VIEWS), len(landmarks.TTA_VIEWS)
    predict = lambda b: model.predict([b])  # noqa: E731
    rows = [
        (f"{model.name} predict ({n} views + head)", latencies(predict, photos)),
        (f"same, {tta} views (test-time averaging)", latencies(with_views(landmarks.TTA_VIEWS), photos)),
        (f"same, {n} views, as the row above runs it", latencies(with_views(landmarks.VIEWS), photos)),
        (f"{baseline.name} predict (no head, no landmarks)", latencies(lambda b: baseline.predict([b]), photos)),
        ("preprocess(hands=False) alone", latencies(lambda b: preprocess(b, hands=False), photos)),
        (f"live: 640×480 frames, {n} views", latencies(predict, live)),
        (f"live: 640×480 frames, {tta} views", latencies(with_views(landmarks.TTA_VIEWS), live)),
        ("live: 640×480 frame without a hand", latencies(predict, empty_frames())),
    ]
    print(f"\none photo at a time, {len(photos)} photos × 3, {os.cpu_count()} CPUs; "
          f"cores = CPU time per call × {LIVE_FPS} frames/s\n")
    print(f"{'path':<52} {'p50 ms':>7} {'p90 ms':>7} {'cores @10fps':>13}")
    for name, (ms, cpu) in rows:
        print(f"{name:<52} {np.median(ms):>7.1f} {np.percentile(ms, 90):>7.1f} {cpu * LIVE_FPS:>13.2f}")


if __name__ == "__main__":
    main()
