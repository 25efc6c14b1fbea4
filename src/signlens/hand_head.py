"""The hand-landmark head: a small classifier on `landmarks.features`, stored beside model.keras.

It is trained on landmarks of Sign-MNIST *training* images (a per-letter sample: the landmark model
costs ~5 ms an image) plus their mirror images, so left and right hands both count. At prediction
time it only speaks for photos in which `preprocess` found a hand; its probabilities are multiplied
with the image model's (`landmarks.combine`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np
from tqdm import tqdm

from signlens import labels, landmarks
from signlens.data import Dataset
from signlens.data.fingerprint import file_sha256
from signlens.errors import SignlensError

EPOCHS = 40
PER_LETTER = 400


@dataclass(frozen=True)
class HeadResult:
    model: keras.Model
    record: dict  # what was trained on and how well, for the artifact's meta


def sample_points(data: Dataset, per_letter: int, seed: int, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks of up to `per_letter` images per letter -> (points (M, 21, 3), letters (M,)).

    Images where the landmark model sees no hand are left out (about 4% of Sign-MNIST)."""
    rng = np.random.default_rng(seed)
    picks = np.concatenate([rng.permutation(np.flatnonzero(data.y == c))[:per_letter]
                            for c in range(labels.N_CLASSES)])
    points, letters = [], []
    for i in tqdm(picks, desc="hand landmarks", unit="img", disable=not progress, mininterval=2):
        p = landmarks.grid_points(data.x[i])
        if p is not None:
            points.append(p)
            letters.append(data.y[i])
    if not points:
        return np.zeros((0, landmarks.N_POINTS, 3), np.float32), np.zeros(0, np.int64)
    return np.stack(points), np.asarray(letters, np.int64)


def build(train_features: np.ndarray) -> keras.Model:
    norm = keras.layers.Normalization(name="standardize")
    norm.adapt(train_features)
    inputs = keras.Input((landmarks.N_FEATURES,), name="hand_features")
    x = norm(inputs)
    for width in (256, 128):
        x = keras.layers.Dense(width, activation="relu")(x)
        x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(labels.N_CLASSES, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="hand_head")


def fit(points: np.ndarray, letters: np.ndarray, seed: int, epochs: int = EPOCHS,
        base: keras.Model | None = None, learning_rate: float = 1e-3) -> keras.Model:
    """Train a head (or continue `base`'s training) on landmarks and their mirror images."""
    keras.utils.set_random_seed(seed)
    x = landmarks.features(np.concatenate([points, landmarks.mirrored(points)]))
    y = np.concatenate([letters, letters])
    if base is None:
        model = build(x)
    else:
        model = keras.models.clone_model(base)
        model.set_weights(base.get_weights())
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=128, shuffle=True, verbose=0)
    return model


def train(data: Dataset, seed: int, per_letter: int = PER_LETTER, progress: bool = True) -> HeadResult:
    started = time.perf_counter()
    points, letters = sample_points(data, per_letter, seed, progress)
    if len(letters) == 0:
        raise SignlensError(f"{data.source}: the landmark model found no hand in any sampled image")
    model = fit(points, letters, seed)
    _, acc = model.evaluate(landmarks.features(points), letters, verbose=0)
    return HeadResult(model, {
        "landmark_model": landmarks.MODEL_PATH.name,
        "landmark_model_sha256": file_sha256(landmarks.MODEL_PATH),
        "trained_on": data.source,
        "per_letter": per_letter,
        "n_images": int(len(letters)),
        "seed": seed,
        "epochs": EPOCHS,
        "train_accuracy": round(float(acc), 4),
        "seconds": round(time.perf_counter() - started, 1),
    })
