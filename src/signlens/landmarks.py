"""Hand landmarks: a second view of the handshape that does not care what the photo looks like.

A CNN trained on Sign-MNIST's 28×28 grays learns their look (lighting, blur, background) as much
as the handshape, and gets about a third of real photos right. The 21 joint positions of a hand
do not change with the camera, so a classifier on them, trained on the *same* Sign-MNIST images,
carries over to photos far better (bench: BENCHMARKS.md, issue 8).

The landmarks come from MediaPipe's hand-landmark model (`assets/hand_landmark_full.tflite`,
Apache-2.0, taken from the mediapipe 0.10.21 wheel and run here with LiteRT, so nothing is
downloaded and mediapipe itself is not a dependency). Its palm detector is not used: it misses
most fists and nearly every upscaled Sign-MNIST image. We give the landmark model the square crop
that `hand.find_hand` found instead, a little wider (`CROP_SCALE`), as MediaPipe expects.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from signlens import hand

MODEL_PATH = Path(__file__).parent / "assets" / "hand_landmark_full.tflite"
INPUT_SIDE = 224
#: The landmark model wants the hand to fill ~75% of its input: the crop box grows by this much.
CROP_SCALE = 1.16
#: Below this hand-presence score the model is describing something that is not a hand.
MIN_PRESENCE = 0.5
#: A 28×28 grid is upscaled to this share of the input; the rest is its edge pixels, repeated.
GRID_FILL = 1 / 1.4
N_POINTS = 21
_PAIRS = list(itertools.combinations(range(N_POINTS), 2))
N_FEATURES = (N_POINTS - 1) * 3 + len(_PAIRS)


class _Model:
    """The LiteRT interpreter, loaded on first use; one call at a time (it is not thread-safe)."""

    _lock = threading.Lock()
    _loaded: tuple[Any, int, int, int] | None = None  # interpreter, input, points and presence tensors

    @classmethod
    def _load(cls) -> tuple[Any, int, int, int]:
        from ai_edge_litert.interpreter import Interpreter

        interp = Interpreter(model_path=str(MODEL_PATH), num_threads=1)
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


def _points(rgb: np.ndarray) -> np.ndarray | None:
    """(224, 224, 3) uint8 -> (21, 3) landmarks in input pixels, or None when it sees no hand."""
    points, presence = _Model.run(rgb)
    return points if presence >= MIN_PRESENCE else None


def photo_points(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """Landmarks of the hand inside `box` (the square crop `find_hand` chose) of an RGB photo."""
    x, y, side, _ = box
    grown = int(round(side * CROP_SCALE))
    wider = (int(round(x + (side - grown) / 2)), int(round(y + (side - grown) / 2)), grown, grown)
    crop = hand.crop(rgb, wider, fill=0)
    return _points(cv2.resize(np.ascontiguousarray(crop), (INPUT_SIDE, INPUT_SIDE), interpolation=cv2.INTER_AREA))


def grid_points(grid: np.ndarray) -> np.ndarray | None:
    """Landmarks of a 28×28 Sign-MNIST grid: upscaled, with its edges repeated as a border."""
    inner = int(round(INPUT_SIDE * GRID_FILL))
    before = (INPUT_SIDE - inner) // 2
    after = INPUT_SIDE - inner - before
    big = cv2.resize(np.asarray(grid, np.uint8), (inner, inner), interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, before, after, before, after, cv2.BORDER_REPLICATE)
    return _points(cv2.cvtColor(big, cv2.COLOR_GRAY2RGB))


def features(points: np.ndarray) -> np.ndarray:
    """(N, 21, 3) landmarks -> (N, N_FEATURES): joints relative to the wrist, in units of the palm
    (wrist to middle knuckle), plus every pairwise 2-D joint distance. Position and size of the
    hand in the frame drop out; only its shape is left."""
    pts = np.asarray(points, np.float32)
    rel = pts - pts[:, :1, :]
    palm = np.linalg.norm(rel[:, 9, :2], axis=1)[:, None, None] + 1e-6
    rel = rel / palm
    i, j = np.array(_PAIRS).T
    dist = np.linalg.norm(rel[:, i, :2] - rel[:, j, :2], axis=2)
    return np.concatenate([rel[:, 1:].reshape(len(rel), -1), dist], axis=1).astype(np.float32)


def mirrored(points: np.ndarray) -> np.ndarray:
    """The same hands seen left-right flipped: a left hand's letters as a right hand signs them."""
    out = np.array(points, np.float32, copy=True)
    out[..., 0] = -out[..., 0]
    return out


def combine(image_probs: np.ndarray, hand_probs: np.ndarray) -> np.ndarray:
    """Product of the two experts' probabilities, renormalized (equal weights: nothing was tuned)."""
    joint = np.asarray(image_probs, np.float64) * np.asarray(hand_probs, np.float64) + 1e-12
    return (joint / joint.sum(axis=-1, keepdims=True)).astype(np.float32)


def as_array(points: list[np.ndarray | None]) -> np.ndarray:
    """Per-image landmarks (None where there is no hand) -> (N, 21, 3) with NaN rows for None."""
    out = np.full((len(points), N_POINTS, 3), np.nan, np.float32)
    for k, p in enumerate(points):
        if p is not None:
            out[k] = p
    return out
