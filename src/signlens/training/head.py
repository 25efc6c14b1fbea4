"""Training the hand-landmark head (the network is `models.hand_head`).

It is trained on landmarks of Sign-MNIST *training* images (a per-letter sample: the landmark model
costs ~5 ms an image) plus their mirror images, so left and right hands both count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np
from tqdm import tqdm

from signlens import labels
from signlens.data import Dataset
from signlens.data.fingerprint import file_sha256
from signlens.data.load import portable
from signlens.errors import SignlensError
from signlens.models.hand_head import MEMBERS, build
from signlens.training.clone import copy_model
from signlens.training.config import TrainConfig
from signlens.training.seeding import seed_everything
from signlens.vision import landmarks

PER_LETTER = TrainConfig.hand_head_per_letter
#: Each member trains 10 epochs: on the real dev photos (crop view, seeds 0-2) one 40-epoch member
#: got 71.0%, 10 epochs 71.6% (BENCHMARKS.md, issue 8). Fewer epochs learn less of what is
#: peculiar to Sign-MNIST's coarse landmarks.
EPOCHS = 10


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
    for i in tqdm(picks, desc="hand landmarks", unit="img", disable=None if progress else True,  # None: off when not a TTY
                  mininterval=2):
        p = landmarks.grid_points(data.x[i])
        if p is not None:
            points.append(p)
            letters.append(data.y[i])
    if not points:
        return np.zeros((0, landmarks.N_POINTS, 3), np.float32), np.zeros(0, np.int64)
    return np.stack(points), np.asarray(letters, np.int64)


def fit(points: np.ndarray, letters: np.ndarray, seed: int, epochs: int = EPOCHS,
        base: keras.Model | None = None, learning_rate: float = 1e-3, process_wide_seed: bool = True) -> keras.Model:
    """Train a head (or continue `base`'s training, as one model) on landmarks and their mirror images.

    `process_wide_seed=False` (inside a server, via finetune) leaves global RNGs and op determinism alone."""
    if process_wide_seed:
        seed_everything(seed)
    x = landmarks.features(np.concatenate([points, landmarks.mirrored(points)]))
    y = np.concatenate([letters, letters])
    if base is None:
        head, trainer = build(x)
    else:
        head = trainer = copy_model(base)
    n_outputs = len(trainer.outputs)
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate),
                    loss=["sparse_categorical_crossentropy"] * n_outputs)
    trainer.fit(x, [y] * n_outputs if n_outputs > 1 else y, epochs=epochs, batch_size=128, shuffle=True, verbose=0)
    return head


def train(data: Dataset, seed: int, per_letter: int = PER_LETTER, progress: bool = True) -> HeadResult:
    started = time.perf_counter()
    points, letters = sample_points(data, per_letter, seed, progress)
    if len(letters) == 0:
        raise SignlensError(f"{data.source}: the landmark model found no hand in any sampled image")
    model = fit(points, letters, seed)
    acc = (model.predict(landmarks.features(points), verbose=0).argmax(axis=1) == letters).mean()
    return HeadResult(model, {
        "landmark_model": landmarks.MODEL_PATH.name,
        "landmark_model_sha256": file_sha256(landmarks.MODEL_PATH),
        "trained_on": portable(data.source),
        "per_letter": per_letter,
        "n_images": int(len(letters)),
        "seed": seed,
        "epochs": EPOCHS,
        "members": MEMBERS,
        "train_accuracy": round(float(acc), 4),
        "seconds": round(time.perf_counter() - started, 1),
    })
