"""Real hands in other settings: the dev photos' hands composited into webcam-sized frames.

    .venv/bin/python bench/backgrounds.py PHOTOS [--model models/default] [--limit N]

PHOTOS is an image folder <LETTER>/*.jpg of hands segmented on black (e.g.
../shared/data/real-photos-dev). Its 240 photos are one setting only: the hand fills a black
frame. Users' webcams and the held-out photos are not like that, so each hand is cut out along
its own black background and pasted, feathered, into a 640×480 frame over a procedural
background (light wall, dark room, skin-toned wall, clutter, the signer's face and shoulders),
large or small, off-centre (it may cover the face, as hands do), then
JPEG-encoded as a camera would. Nothing is downloaded: the backgrounds are drawn here, seeded.

Each setting is read two ways in the same run: with `hand.find_hand`'s box alone (the baseline,
`preprocess` before locate.py) and with the box the landmark model checked (`preprocess` now).
For each, the table gives how often the box is on the hand (IoU ≥ 0.5 with the square `hand.py`
would draw around the true hand) and the accuracy of image model × hand-landmark head; also how
often the landmark model saw a hand and the image model alone, both for `preprocess` now. The first
row, the photos as they are, is what `signlens evaluate` reads.
"""

from __future__ import annotations

import argparse
import os
import time
from functools import partial
from pathlib import Path
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from signlens.vision import hand
from signlens.vision import landmarks
from signlens.vision import locate  # noqa: E402
from signlens.data import load  # noqa: E402
from signlens.inference.predictor import Predictor  # noqa: E402
from signlens.vision.preprocess import (  # noqa: E402
    PHOTO_BLUR_SIGMA, SIZE, Preprocessed, decode_image, normalize, preprocess, to_grayscale,
)

FRAME_H, FRAME_W = 480, 640
Background = Callable[[np.random.Generator], np.ndarray]


def _flat(rgb: tuple[int, int, int], noise: float = 3.0) -> Background:
    """A wall: one colour, lit a little unevenly from one side, with sensor noise."""

    def draw(rng: np.random.Generator) -> np.ndarray:
        ramp = np.linspace(0.85, 1.1, FRAME_W, dtype=np.float32)[None, :, None]
        frame = np.asarray(rgb, np.float32)[None, None] * ramp
        frame = frame + rng.normal(0, noise, (FRAME_H, FRAME_W, 3))
        return np.clip(frame, 0, 255).astype(np.uint8)

    return draw


def _clutter(rng: np.random.Generator) -> np.ndarray:
    """A room: a wall, then shelves, posters, furniture and a door frame in random colours, some
    warm (wood and cardboard look like skin to a colour rule)."""
    frame = _flat(tuple(int(v) for v in rng.integers(120, 230, 3)))(rng)
    for _ in range(int(rng.integers(12, 20))):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.3:  # wood, cardboard, a beige sofa
            colour = tuple(int(v) for v in np.array([180, 130, 90]) + rng.integers(-30, 30, 3))
        x0, y0 = int(rng.integers(0, FRAME_W)), int(rng.integers(0, FRAME_H))
        w, h = int(rng.integers(30, 260)), int(rng.integers(30, 260))
        if rng.random() < 0.7:
            cv2.rectangle(frame, (x0, y0), (x0 + w, y0 + h), colour, -1)
        else:
            cv2.ellipse(frame, (x0, y0), (w // 2, h // 2), float(rng.integers(0, 180)), 0, 360, colour, -1)
    for _ in range(6):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        p0 = (int(rng.integers(0, FRAME_W)), int(rng.integers(0, FRAME_H)))
        p1 = (int(rng.integers(0, FRAME_W)), int(rng.integers(0, FRAME_H)))
        cv2.line(frame, p0, p1, colour, int(rng.integers(2, 8)))
    return cv2.GaussianBlur(frame, (0, 0), 1.5)


def _face(rng: np.random.Generator) -> np.ndarray:
    """A webcam's usual view: a wall and the signer's face (skin, larger than the hand) and hair."""
    frame = _flat(tuple(int(v) for v in rng.integers(150, 230, 3)))(rng)
    cx, cy = int(rng.integers(180, 460)), int(rng.integers(170, 260))
    skin = tuple(int(v) for v in np.array([200, 150, 120]) * rng.uniform(0.6, 1.1))
    cv2.ellipse(frame, (cx, cy - 40), (120, 130), 0, 180, 360, (40, 30, 25), -1)  # hair
    cv2.ellipse(frame, (cx, cy), (100, 135), 0, 0, 360, skin, -1)
    cv2.rectangle(frame, (cx - 160, cy + 150), (cx + 160, FRAME_H), tuple(int(v) for v in rng.integers(0, 256, 3)), -1)
    return cv2.GaussianBlur(frame, (0, 0), 1.5)


BACKGROUNDS: dict[str, Background] = {
    "black": _flat((8, 8, 8), noise=2.0),
    "light wall": _flat((215, 212, 205)),
    "dark room": _flat((45, 42, 48)),
    "skin-toned wall": _flat((205, 165, 135)),
    "clutter": _clutter,
    "face in view": _face,
}
#: The hand's longer side as a share of the frame's height: a close-up, and arm's length.
SIZES = {"large": 0.75, "small": 0.4}


def cut_out(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A hand segmented on black -> (its pixels, a soft alpha mask), both cropped to the hand."""
    mask = (rgb.max(axis=2) > 25).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask)
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = stats[best, :4]
    alpha = cv2.GaussianBlur((lab == best).astype(np.float32), (0, 0), 1.5)
    return rgb[y : y + h, x : x + w], alpha[y : y + h, x : x + w]


def composite(rgb: np.ndarray, background: np.ndarray, size: float,
              rng: np.random.Generator) -> tuple[bytes, tuple[int, int, int, int]]:
    """Paste the hand into the frame at `size` of its height, off-centre -> (JPEG, true box)."""
    hand_px, alpha = cut_out(rgb)
    scale = size * FRAME_H / max(hand_px.shape[:2])
    w, h = max(1, round(hand_px.shape[1] * scale)), max(1, round(hand_px.shape[0] * scale))
    hand_px = cv2.resize(hand_px, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    x = int(rng.integers(0, FRAME_W - w + 1))
    y = int(rng.integers(max(0, (FRAME_H - h) // 4), FRAME_H - h + 1))  # hands rise from below
    frame = background.astype(np.float32)
    region = frame[y : y + h, x : x + w]
    frame[y : y + h, x : x + w] = alpha * hand_px + (1 - alpha) * region
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(frame.astype(np.uint8), cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return jpeg.tobytes(), (x, y, w, h)


def true_square(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The square crop box `hand.square_box` makes for a hand whose bounding box is `box`."""
    x, y, w, h = box
    mask = np.zeros((y + h + 1, x + w + 1), bool)
    mask[y : y + h, x : x + w] = True
    return hand.square_box(mask)


def finder_only(image: bytes) -> Preprocessed:
    """`preprocess` as it was before locate.py: `find_hand`'s box (or the centre), never checked."""
    rgb = decode_image(image)
    found = hand.find_hand(rgb)
    pixels = cv2.resize(hand.crop(to_grayscale(rgb), found.box, found.background), (SIZE, SIZE),
                        interpolation=cv2.INTER_AREA)
    mask = None
    if found.found:
        mask = cv2.resize(hand.crop(found.mask.astype(np.float32), found.box, 0.0), (SIZE, SIZE),
                          interpolation=cv2.INTER_AREA)
    soft = cv2.GaussianBlur(normalize(pixels, mask), (0, 0), PHOTO_BLUR_SIGMA)
    return Preprocessed(soft, found.box, found.found, landmarks.photo_views(rgb, found.box, pixels))


def _score(predictor: Predictor, images: list[bytes], truths: list[tuple[int, int, int, int]] | None,
           y: np.ndarray, prep: Callable[[bytes], Preprocessed]) -> dict[str, float]:
    prepped = [prep(im) for im in images]
    grids = np.stack([p.pixels for p in prepped])
    points = landmarks.as_array([p.hand_points for p in prepped])
    image_alone = predictor.probabilities(grids).argmax(1) == y
    combined = predictor.probabilities(grids, points).argmax(1) == y
    if truths is None:  # the photos as they are: the hand fills the frame
        located = np.array([p.hand_found for p in prepped])
    else:  # compared with the square `hand.py` would draw around the true hand
        located = np.array([p.hand_found and locate.overlap(p.box, true_square(t)) >= 0.5
                            for p, t in zip(prepped, truths)])
    return {"found": located.mean(), "landmarks": landmarks.has_hand(points).mean(),
            "image": image_alone.mean(), "combined": combined.mean()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos")
    p.add_argument("--model", default="models/default")
    p.add_argument("--limit", type=int, default=None, help="only every k-th photo, k chosen to keep N")
    args = p.parse_args()

    predictor = Predictor.from_ref(args.model)
    data = load(args.photos)
    keep = np.arange(len(data))
    if args.limit and args.limit < len(data):
        keep = keep[:: int(np.ceil(len(data) / args.limit))]
    originals = [Path(data.ids[k]).read_bytes() for k in keep]
    y = data.y[keep]
    now = partial(preprocess, hands=True)

    def both(images: list[bytes], truths: list[tuple[int, int, int, int]] | None) -> tuple[dict, dict]:
        return _score(predictor, images, truths, y, finder_only), _score(predictor, images, truths, y, now)

    rows = [("photos as they are", "", *both(originals, None))]
    started = time.perf_counter()
    for bg_name, draw in BACKGROUNDS.items():
        for size_name, size in SIZES.items():
            rng = np.random.default_rng(len(rows))  # one seed per setting: the same frames every run
            made = [composite(decode_image(raw), draw(rng), size, rng) for raw in originals]
            rows.append((bg_name, size_name, *both([m for m, _ in made], [t for _, t in made])))
    print(f"\n{predictor.name} ({predictor.version}), {len(y)} photos of {args.photos}, "
          f"{len(rows) - 1} settings in {time.perf_counter() - started:.0f} s\n")
    print("| setting | hand | box on the hand: find_hand | checked | image × head: find_hand's box | "
          "checked box | landmarks seen | image model alone |")
    print("|---|---|---|---|---|---|---|---|")
    for bg_name, size_name, old, new in rows:
        print(f"| {bg_name} | {size_name} | {old['found']:.1%} | {new['found']:.1%} | {old['combined']:.1%} | "
              f"**{new['combined']:.1%}** | {new['landmarks']:.1%} | {new['image']:.1%} |")


if __name__ == "__main__":
    main()
