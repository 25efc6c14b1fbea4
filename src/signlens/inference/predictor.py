"""Predictor: the one inference path for the CLI, REST routes, web page and worker.

It never imports training code. The model is called through the concrete function of a
tf.function with a fixed input signature instead of `model.predict`, which would rebuild a data
pipeline per call and costs milliseconds for a single image; calling the concrete function also
skips tf.function's per-call argument dispatch (~0.15 ms of a ~1 ms single-image call, bench/serving.py).

When the artifact has a hand-landmark head and a photo's hand landmarks are known
(`Preprocessed.hand_points`), that photo's probabilities are the product of both (`with_hands`).
`with_hands` also applies the artifact's calibration (temperature.py): one temperature for the
image model alone, one for the combined answer. A photo in which no landmarks were read, for a
model with a head, is "no hand" (`sees_hand`): the landmark model turns away noise, charts, walls
and faces that the colour-based hand finder takes for hands (bench/calibration.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from signlens import labels
from signlens.vision import landmarks
from signlens.models.artifact import Artifact
from signlens.errors import SignlensError
from signlens.models.resolve import resolve
from signlens.inference.temperature import temper, temperatures
from signlens.vision.preprocess import Preprocessed, preprocess, to_model_input


def _runner(model: Any, shape: list[int | None]) -> Callable[[np.ndarray], np.ndarray]:
    """numpy in, numpy out: a non-Keras backend (TFLite) as it is, a Keras model through `_concrete`."""
    return model.probabilities if hasattr(model, "probabilities") else _concrete(model, shape)


def _concrete(model: keras.Model, shape: list[int | None]) -> Callable[[np.ndarray], np.ndarray]:
    """numpy in, numpy out, through the model's concrete function (no per-call dispatch)."""
    call = tf.function(lambda x: model(x, training=False),
                       input_signature=[tf.TensorSpec(shape, tf.float32)]).get_concrete_function()
    return lambda x: call(tf.constant(x, tf.float32)).numpy()


@dataclass(frozen=True)
class Prediction:
    letter: str
    confidence: float
    probabilities: dict[str, float]  # all 24 letters
    model: str
    version: str
    preprocessed: Preprocessed
    hand: bool = True  # False: a photo with no hand in it; `letter` is then only the least unlikely one

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda kv: -kv[1])[:k]


def build_prediction(row: np.ndarray, model: str, version: str, preprocessed: Preprocessed,
                     hand: bool = True) -> Prediction:
    """The one place a row of 24 probabilities becomes a result (CLI, batch, server and worker)."""
    best = int(row.argmax())
    return Prediction(
        letter=labels.LETTERS[best],
        confidence=float(row[best]),
        probabilities={letter: float(p) for letter, p in zip(labels.LETTERS, row)},
        model=model,
        version=version,
        preprocessed=preprocessed,
        hand=hand,
    )


class Predictor:
    def __init__(self, art: Artifact, batch_size: int = 1024):
        self.artifact = art
        self.batch_size = batch_size
        self._run = _runner(art.model, [None, 28, 28, 1])
        self._head = _runner(art.hand_head, [None, landmarks.N_FEATURES]) if art.hand_head is not None else None
        self.temperatures = temperatures(art.meta)

    @classmethod
    def from_ref(cls, ref: str | None = None) -> "Predictor":
        return cls(resolve(ref))

    @property
    def name(self) -> str:
        return self.artifact.name

    @property
    def version(self) -> str:
        return self.artifact.version

    def probabilities(self, grids: np.ndarray, hand_points: np.ndarray | None = None) -> np.ndarray:
        """(N, 28, 28) uint8 grids [+ (N, views, 21, 3) landmarks, NaN where none] -> (N, 24) probabilities.

        Without `hand_points` this is the image model's raw output (the micro-batcher's step;
        `with_hands` finishes it); with them (all NaN for grids) it is the final, calibrated answer."""
        x = to_model_input(grids)
        out = [self._run(x[i : i + self.batch_size]) for i in range(0, len(x), self.batch_size)]
        probs = np.concatenate(out) if out else np.zeros((0, labels.N_CLASSES), np.float32)
        return self.with_hands(probs, hand_points) if hand_points is not None else probs

    def with_hands(self, probs: np.ndarray, hand_points: np.ndarray | None = None, calibrated: bool = True) -> np.ndarray:
        """The final answer from the image model's raw probabilities: combined with the head's for
        rows that have landmarks, then each row tempered by its path's temperature (`calibrated`)."""
        has = np.zeros(len(probs), bool) if hand_points is None or self._head is None else landmarks.has_hand(hand_points)
        out = probs.copy()
        if has.any():
            out[has] = landmarks.combine(probs[has], self.hand_probabilities(hand_points[has]))
        if calibrated:
            out[~has] = temper(out[~has], self.temperatures["grid"])
            out[has] = temper(out[has], self.temperatures["photo"])
        return out

    def sees_hand(self, prepped: Preprocessed) -> bool:
        """Is there a hand to read? A 28×28 grid always is one (Sign-MNIST's format). A photo is,
        for a model with a head, when the landmark model found a hand in it (its presence score;
        no dev photo misses it, no synthetic non-hand passes it: bench/calibration.py); for a model
        without one, when the colour-based hand finder found one."""
        if is_grid(prepped):
            return True
        return prepped.hand_points is not None if self.has_head else prepped.hand_found

    @property
    def has_head(self) -> bool:
        """Whether photos' hand landmarks count here (else `preprocess` need not take them)."""
        return self._head is not None

    def hand_probabilities(self, hand_points: np.ndarray) -> np.ndarray:
        """The hand-landmark head alone: (N, views, 21, 3) landmarks, NaN for views that saw no hand
        (each row has at least one) -> (N, 24), pooled over the views."""
        if self._head is None:
            raise SignlensError(f"{self.name} has no hand-landmark head (signlens add-hand-head)")
        found = landmarks.views_found(hand_points)
        probs = np.zeros((*found.shape, labels.N_CLASSES), np.float32)
        probs[found] = self._head(landmarks.features(hand_points[found]))
        return landmarks.pool_views(probs, found)

    def predict(self, images: Sequence[np.ndarray | bytes]) -> list[Prediction]:
        """Images of any size (bytes or arrays) -> one Prediction each, via the one preprocess."""
        prepped = [preprocess(img, hands=self.has_head) for img in images]
        if not prepped:
            return []
        probs = self.probabilities(np.stack([p.pixels for p in prepped]),
                                   landmarks.as_array([p.hand_points for p in prepped]))
        return self.postprocess(probs, prepped)

    def postprocess(self, probs: np.ndarray, prepped: Sequence[Preprocessed]) -> list[Prediction]:
        """(N, 24) probabilities of N preprocessed inputs -> their Predictions, under this model's name."""
        return [build_prediction(row, self.name, self.version, p, self.sees_hand(p)) for p, row in zip(prepped, probs)]


def is_grid(prepped: Preprocessed) -> bool:
    """Whether the input was a 28×28 grid, used as it is (preprocess keeps no hand box for it)."""
    return not prepped.hand_found and prepped.hand_points is None and tuple(prepped.box) == (0, 0, *prepped.pixels.shape)
