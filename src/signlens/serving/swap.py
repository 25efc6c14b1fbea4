"""Loading a model to serve: the smoke check every model must pass, and the hot swap.

A reload loads and checks the new model on a worker thread while the old one keeps answering,
then replaces the served entry in one assignment on the event loop. Requests look their model up
right before submitting to its batcher (no await in between), so after the swap nothing new
reaches the old batcher; it drains what it already holds and stops.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from signlens import labels
from signlens.vision import landmarks
from signlens.serving.batching import MicroBatcher

if TYPE_CHECKING:
    from signlens.inference.predictor import Predictor


@dataclass
class ServedModel:
    """One loaded model under its serving name, with its own micro-batcher."""

    name: str
    predictor: Predictor
    batcher: MicroBatcher


def load_checked(ref: str | None) -> Predictor:
    """Load a model and run the smoke prediction (which also traces it, so no request pays for that).

    Raises on anything unservable: a model that loads but answers NaNs or the wrong shape is refused
    here instead of by the first unlucky user.
    """
    from signlens.models.resolve import resolve
    from signlens.inference.predictor import Predictor

    predictor = Predictor(resolve(ref))
    _check(predictor.probabilities(np.zeros((1, 28, 28), np.uint8)), "smoke prediction")
    if predictor.has_head:  # its first photo would otherwise also wait ~0.2 s for the landmark model to load
        landmarks.warm_up()
        _check(predictor.hand_probabilities(np.zeros((1, 1, landmarks.N_POINTS, 3), np.float32)), "hand-landmark head")
    return predictor


def _check(probs: np.ndarray, what: str) -> None:
    probs = np.asarray(probs)
    if probs.shape != (1, labels.N_CLASSES):
        raise ValueError(f"{what}: expected 1×{labels.N_CLASSES} probabilities, got shape {probs.shape}")
    if not np.isfinite(probs).all() or (probs < 0).any() or abs(float(probs.sum()) - 1) > 1e-3:
        raise ValueError(f"{what}: probabilities are not finite, non-negative and summing to 1")


def start_served(name: str, predictor: Predictor, executor: Executor, max_size: int, wait_s: float,
                 on_batch: Callable[[int], None]) -> ServedModel:
    """Wrap a checked predictor in a running batcher (call on the event loop)."""
    batcher = MicroBatcher(predictor.probabilities, executor, max_size, wait_s, on_batch=on_batch)
    batcher.start()
    return ServedModel(name, predictor, batcher)
