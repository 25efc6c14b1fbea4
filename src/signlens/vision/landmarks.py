"""Hand landmarks: a second view of the handshape that does not care what the photo looks like.

A CNN trained on Sign-MNIST's 28×28 grays learns their look (lighting, blur, background) as much
as the handshape, and gets about a third of real photos right. The 21 joint positions of a hand
do not change with the camera, so a classifier on them, trained on the *same* Sign-MNIST images,
carries over to photos far better (bench: BENCHMARKS.md, issue 8).

The landmarks come from MediaPipe's hand-landmark model (`assets/hand_landmark_full.tflite`,
Apache-2.0, taken from the mediapipe 0.10.21 wheel and run here with LiteRT, so nothing is
downloaded and mediapipe itself is not a dependency). Its palm detector is not used: it misses
most fists and nearly every upscaled Sign-MNIST image. We give the landmark model the square crop
around the hand instead (`hand.find_hand`'s, checked by `locate.py`), a little wider
(`CROP_SCALE`), as MediaPipe expects, and that crop's 28×28 gray upscaled as Sign-MNIST's are
(`VIEWS`); the head learnt turned and mirrored hands in training instead of seeing each photo in
many views.
"""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from signlens.paths import ASSETS_DIR
from signlens.vision import hand

MODEL_PATH = ASSETS_DIR / "hand_landmark_full.tflite"
INPUT_SIDE = 224
#: The landmark model wants the hand to fill ~75% of its input: the crop box grows by this much.
CROP_SCALE = 1.16
#: A photo's hand is read in two images: the crop, and its 28×28 gray upscaled as the head's
#: Sign-MNIST training images are. The head learnt turned, mirrored and differently built hands
#: from 3-D augmented landmarks (training/landmark_augment.py), so these two views do what 20
#: (each image also tilted by `TILTS` and mirrored, `TTA_VIEWS`) did at a tenth of the cost
#: (bench/real_photos.py: LOSO on the dev photos, issue 20).
TILTS = (0, -7, 7, -15, 15)
_TTA_PARTS = [(image, tilt, mirror) for mirror in (False, True) for image in ("crop", "grid") for tilt in TILTS]
_VIEW_PARTS = [("crop", 0, False), ("grid", 0, False)]


def _name(image: str, tilt: int, mirror: bool) -> str:
    return f"{image}{f' tilted {tilt:+d}°' if tilt else ''}{' mirrored' if mirror else ''}"


VIEWS = tuple(_name(*part) for part in _VIEW_PARTS)
#: The landmark model misses some small, dark hands it finds turned a little: dev photos as 40-px
#: hands on a 64-px wall, darkened, 93.3% seen in `VIEWS`, 97.9% with these tried after a miss.
FALLBACK_TILTS = (-7, 7, -15, 15)
#: The 20 views of test-time averaging, kept to measure the two views against (bench/).
TTA_VIEWS = tuple(_name(*part) for part in _TTA_PARTS)
#: Below this hand-presence score the model is describing something that is not a hand.
MIN_PRESENCE = 0.5
#: A 28×28 grid is upscaled to this share of the input; the rest is its edge pixels, repeated.
GRID_FILL = 1 / 1.4
N_POINTS = 21
_PAIRS = list(itertools.combinations(range(N_POINTS), 2))
#: Each joint's bone: from the joint before it in its finger (the wrist for a finger's base).
_BONES = [(0 if k % 4 == 1 else k - 1, k) for k in range(1, N_POINTS)]
N_FEATURES = (N_POINTS - 1) * 3 + len(_PAIRS) + len(_BONES) * 2


class _Model:
    """The LiteRT interpreter, loaded on first use; one call at a time (it is not thread-safe)."""

    _lock = threading.Lock()
    _loaded: tuple[Any, int, int, int] | None = None  # interpreter, input, points and presence tensors

    @classmethod
    def _load(cls) -> tuple[Any, int, int, int]:
        from ai_edge_litert.interpreter import Interpreter

        # Both cores: 8.3 -> 4.9 ms a call on this 2-core machine (one call at a time anyway).
        interp = Interpreter(model_path=str(MODEL_PATH), num_threads=min(4, os.cpu_count() or 1))
        interp.allocate_tensors()
        outputs = {d["name"]: d["index"] for d in interp.get_output_details()}
        return interp, interp.get_input_details()[0]["index"], outputs["Identity"], outputs["Identity_1"]

    @classmethod
    def run(cls, rgb: np.ndarray) -> tuple[np.ndarray, float]:
        with cls._lock:
            if cls._loaded is None:
                cls._loaded = cls._load()
            interp, image, points, presence = cls._loaded
            interp.set_tensor(image, (rgb.astype(np.float32) / 255.0)[None])
            interp.invoke()
            return (interp.get_tensor(points).reshape(N_POINTS, 3).copy(),
                    float(interp.get_tensor(presence).ravel()[0]))


def warm_up() -> None:
    """Load the landmark model now (a server does this before its first photo arrives)."""
    _Model.run(np.zeros((INPUT_SIDE, INPUT_SIDE, 3), np.uint8))


def _points(rgb: np.ndarray) -> np.ndarray | None:
    """(224, 224, 3) uint8 -> (21, 3) landmarks in input pixels, or None when it sees no hand."""
    points, presence = _Model.run(rgb)
    return points if presence >= MIN_PRESENCE else None


def _grown(box: hand.Box, scale: float) -> hand.Box:
    """`box`, `scale` times wider about its centre."""
    x, y, side, _ = box
    grown = int(round(side * scale))
    return int(round(x + (side - grown) / 2)), int(round(y + (side - grown) / 2)), grown, grown


def _photo_input(rgb: np.ndarray, box: hand.Box, scale: float = CROP_SCALE) -> np.ndarray:
    """The landmark model's input for a photo: the square around the hand, `scale` times wider."""
    crop = hand.crop(rgb, _grown(box, scale), fill=0)
    return cv2.resize(np.ascontiguousarray(crop), (INPUT_SIDE, INPUT_SIDE), interpolation=cv2.INTER_AREA)


def _to_photo(points: np.ndarray, box: hand.Box, scale: float) -> np.ndarray:
    """(21, 2+) landmarks in the input of `_photo_input(rgb, box, scale)` -> (21, 2) photo pixels."""
    x, y, side, _ = _grown(box, scale)
    return points[:, :2] * (side / INPUT_SIDE) + (x, y)


def sighting(rgb: np.ndarray, box: hand.Box, scale: float) -> tuple[np.ndarray, float]:
    """The hand's 21 joints in photo pixels (21, 2), seen in `box` `scale` times wider, and the
    model's hand-presence score for that view."""
    points, presence = _Model.run(_photo_input(rgb, box, scale))
    return _to_photo(points, box, scale), presence


def look(rgb: np.ndarray, box: hand.Box, scale: float) -> np.ndarray | None:
    """`sighting`'s joints, or None when the landmark model sees no hand there."""
    joints, presence = sighting(rgb, box, scale)
    return joints if presence >= MIN_PRESENCE else None


def _grid_input(grid: np.ndarray) -> np.ndarray:
    """The landmark model's input for a 28×28 grid: upscaled, with its edges repeated as a border."""
    inner = int(round(INPUT_SIDE * GRID_FILL))
    before = (INPUT_SIDE - inner) // 2
    after = INPUT_SIDE - inner - before
    big = cv2.resize(np.asarray(grid, np.uint8), (inner, inner), interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, before, after, before, after, cv2.BORDER_REPLICATE)
    return cv2.cvtColor(big, cv2.COLOR_GRAY2RGB)


def grid_points(grid: np.ndarray) -> np.ndarray | None:
    """Landmarks of a 28×28 Sign-MNIST grid (how the head's training landmarks are made)."""
    return _points(_grid_input(grid))


def photo_views(rgb: np.ndarray, box: hand.Box, grid: np.ndarray, views: tuple[str, ...] = VIEWS) -> np.ndarray | None:
    """Landmarks of a photo's hand seen each of the `views` ways (names from `TTA_VIEWS`) ->
    (len(views), 21, 3), NaN rows for views where the model saw no hand; None when no view saw one.

    `box` is the square around the hand (`locate.locate`) and `grid` that crop's plain 28×28 gray (before any
    intensity matching): its landmarks are as coarse as the Sign-MNIST ones the head learnt from.
    """
    parts = [_TTA_PARTS[TTA_VIEWS.index(v)] for v in views]
    images = {image: _photo_input(rgb, box) if image == "crop" else _grid_input(grid)
              for image in {p[0] for p in parts}}
    found = [_tilted_points(np.ascontiguousarray(images[image][:, ::-1]) if mirror else images[image], tilt)
             for image, tilt, mirror in parts]
    if all(p is None for p in found):
        found = _second_look(images, parts)
    return None if all(p is None for p in found) else as_array(found, shape=(N_POINTS, 3))


def _second_look(images: dict[str, np.ndarray], parts: list[tuple[str, int, bool]]) -> list[np.ndarray | None]:
    """When no view saw the hand (small, dark frames), the same images turned by `FALLBACK_TILTS`,
    one at a time: the first that sees it stands for its untilted view (joints turned back)."""
    for tilt in FALLBACK_TILTS:
        for k, (image, _, _) in enumerate(parts):
            points = _tilted_points(images[image], tilt)
            if points is not None:
                return [points if j == k else None for j in range(len(parts))]
    return [None] * len(parts)


def _tilted_points(rgb: np.ndarray, degrees: float) -> np.ndarray | None:
    """`_points` of `rgb` turned by `degrees` about its centre, turned back into `rgb`'s frame."""
    if not degrees:
        return _points(rgb)
    turn = cv2.getRotationMatrix2D((INPUT_SIDE / 2, INPUT_SIDE / 2), degrees, 1.0)
    points = _points(cv2.warpAffine(rgb, turn, (INPUT_SIDE, INPUT_SIDE), borderMode=cv2.BORDER_REPLICATE))
    if points is None:
        return None
    back = cv2.invertAffineTransform(turn)
    points[:, :2] = points[:, :2] @ back[:, :2].T + back[:, 2]
    return points


def in_photo(views: np.ndarray, box: hand.Box) -> list[list[float]] | None:
    """A photo's crop-view landmarks as (x, y) pixels of the photo itself, for drawing the hand's
    skeleton over it; None when that view did not see the hand."""
    crop = np.asarray(views)[VIEWS.index("crop")]
    if np.isnan(crop).any():
        return None
    return np.round(_to_photo(crop, box, CROP_SCALE), 1).tolist()


def features(points: np.ndarray) -> np.ndarray:
    """(N, 21, 3) landmarks -> (N, N_FEATURES): joints relative to the wrist in units of the palm,
    every pairwise 2-D joint distance, and each bone's 2-D direction. Position and size of the hand
    in the frame drop out; its shape and its orientation in the image (which tells H from U, G from
    Q, P from K) stay. The palm's size is the mean side of its triangle (wrist, index and pinky
    knuckles), which stays up when the hand is turned sideways or points at the camera."""
    pts = np.asarray(points, np.float32)
    rel = pts - pts[:, :1, :]
    flat = rel[:, :, :2]
    sides = [np.linalg.norm(flat[:, a] - flat[:, b], axis=1) for a, b in ((0, 5), (0, 17), (5, 17))]
    palm = (sum(sides) / 3)[:, None, None] + 1e-6
    rel = rel / palm
    i, j = np.array(_PAIRS).T
    dist = np.linalg.norm(rel[:, i, :2] - rel[:, j, :2], axis=2)
    start, end = np.array(_BONES).T
    bones = rel[:, end, :2] - rel[:, start, :2]
    bones = bones / (np.linalg.norm(bones, axis=2, keepdims=True) + 1e-6)
    return np.concatenate([rel[:, 1:].reshape(len(rel), -1), dist, bones.reshape(len(rel), -1)],
                          axis=1).astype(np.float32)


def mirrored(points: np.ndarray) -> np.ndarray:
    """The same hands seen left-right flipped: a left hand's letters as a right hand signs them."""
    out = np.array(points, np.float32, copy=True)
    out[..., 0] = -out[..., 0]
    return out


def views_found(points: np.ndarray) -> np.ndarray:
    """(N, views, 21, 3) landmarks -> (N, views) bool: which views saw the hand."""
    return ~np.isnan(points).any(axis=(-1, -2))


def has_hand(points: np.ndarray) -> np.ndarray:
    """(N, views, 21, 3) landmarks -> (N,) bool: did any view see the hand?"""
    return views_found(points).any(axis=-1)


def pool_views(probs: np.ndarray, found: np.ndarray) -> np.ndarray:
    """(N, views, C) probabilities, (N, views) bool -> (N, C): the normalized geometric mean over
    the views that found the hand (each photo has at least one)."""
    logp = np.where(found[..., None], np.log(np.asarray(probs, np.float64) + 1e-12), 0.0)
    mean = logp.sum(axis=1) / found.sum(axis=1, keepdims=True)
    joint = np.exp(mean - mean.max(axis=-1, keepdims=True))
    return (joint / joint.sum(axis=-1, keepdims=True)).astype(np.float32)


def combine(image_probs: np.ndarray, hand_probs: np.ndarray) -> np.ndarray:
    """Product of the two experts' probabilities, renormalized (equal weights: nothing was tuned)."""
    joint = np.asarray(image_probs, np.float64) * np.asarray(hand_probs, np.float64) + 1e-12
    return (joint / joint.sum(axis=-1, keepdims=True)).astype(np.float32)


def as_array(points: list[np.ndarray | None], shape: tuple[int, ...] = (len(VIEWS), N_POINTS, 3)) -> np.ndarray:
    """Per-image landmark views (None where there is no hand) -> (N, *shape), NaN for None."""
    out = np.full((len(points), *shape), np.nan, np.float32)
    for k, p in enumerate(points):
        if p is not None:
            out[k] = p
    return out
