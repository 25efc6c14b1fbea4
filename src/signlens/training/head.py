"""Training the hand-landmark head (the network is `models.hand_head`).

It learns handshapes from landmarks of Sign-MNIST *training* images (a per-letter sample: the
landmark model costs ~5 ms an image), kinematic synthetic hands with the variants real signers
make (training/handshapes.py) and, under the signer-independent protocol, real photos; all with
mirror images (left hands) and 3-D augmented copies (training/landmark_augment.py), so a turned or
differently built hand is learnt rather than averaged over test-time views.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np
from tqdm import tqdm

from signlens import labels, paths
from signlens.data import Dataset
from signlens.data.fingerprint import file_sha256
from signlens.data.load import portable
from signlens.errors import SignlensError
from signlens.models.hand_head import MEMBERS, build
from signlens.training.clone import copy_model
from signlens.training import handshapes, landmark_augment
from signlens.training.config import TrainConfig
from signlens.training.seeding import seed_everything
from signlens.vision import landmarks

PER_LETTER = TrainConfig.hand_head_per_letter
#: Each member trains 10 epochs: on the real dev photos (crop view, seeds 0-2) one 40-epoch member
#: got 71.0%, 10 epochs 71.6% (BENCHMARKS.md, issue 8). Fewer epochs learn less of what is
#: peculiar to Sign-MNIST's coarse landmarks.
EPOCHS = 10
#: Each real photo counts this many times beside the ~9,000 Sign-MNIST and ~7,000 synthetic hands.
PHOTO_REPEAT = 10


@dataclass(frozen=True)
class HeadResult:
    model: keras.Model
    record: dict  # what was trained on and how well, for the artifact's meta


def sample_points(data: Dataset, per_letter: int, seed: int, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks of up to `per_letter` images per letter -> (points (M, 21, 3), letters (M,)).

    Images where the landmark model sees no hand are left out (about 4% of Sign-MNIST). Reading
    them takes minutes, so they are kept in the cache (`paths.cache_dir`), keyed by the data's
    fingerprint, the sample and the landmark model."""
    key = f"{data.fingerprint.split(':')[-1][:16]}-{per_letter}-{seed}-{file_sha256(landmarks.MODEL_PATH)[:12]}"
    cached = paths.cache_dir() / f"landmarks-{key}.npz"
    if cached.exists():
        with np.load(cached) as npz:
            return npz["points"], npz["letters"]
    rng = np.random.default_rng(seed)
    picks = np.concatenate([rng.permutation(np.flatnonzero(data.y == c))[:per_letter]
                            for c in range(labels.N_CLASSES)])
    points, letters = [], []
    for i in tqdm(picks, desc="hand landmarks", unit="img", disable=None if progress else True, mininterval=2):
        p = landmarks.grid_points(data.x[i])
        if p is not None:
            points.append(p)
            letters.append(data.y[i])
    if not points:
        return np.zeros((0, landmarks.N_POINTS, 3), np.float32), np.zeros(0, np.int64)
    out = np.stack(points), np.asarray(letters, np.int64)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp.npz")
        np.savez(tmp, points=out[0], letters=out[1])
        tmp.replace(cached)
    except OSError:
        pass  # a read-only cache only costs time
    return out


def fit(points: np.ndarray, letters: np.ndarray, seed: int, epochs: int = EPOCHS,
        base: keras.Model | None = None, learning_rate: float = 1e-3, copies: int = 0,
        members: int = MEMBERS, process_wide_seed: bool = True) -> keras.Model:
    """Train a head (or continue `base`'s training, as one model) on landmarks, their mirror images
    and `copies` 3-D augmented copies of them (landmark_augment.py): the head learns to read a
    turned, resized, differently built hand instead of being shown it in many views.

    `process_wide_seed=False` (inside a server, via finetune) leaves global RNGs and op determinism alone."""
    if process_wide_seed:
        seed_everything(seed)
    rng = np.random.default_rng(seed)
    points = np.asarray(points, np.float32)
    varied = [points, landmarks.mirrored(points)] + [landmark_augment.augment(points, rng) for _ in range(copies)]
    x = landmarks.features(np.concatenate(varied))
    y = np.tile(letters, len(varied))
    if base is None:
        head, trainer = build(x, members)
    else:
        head = trainer = copy_model(base)
    n_outputs = len(trainer.outputs)
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate),
                    loss=["sparse_categorical_crossentropy"] * n_outputs)
    trainer.fit(x, [y] * n_outputs if n_outputs > 1 else y, epochs=epochs, batch_size=256, shuffle=True, verbose=0)
    return head


def photo_points(photos: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Every view of every photo in which the landmark model saw the hand -> (points, letters)."""
    if photos.hand_points is None:
        raise SignlensError(f"{photos.source}: not a photo folder, it has no hand landmarks")
    found = landmarks.views_found(photos.hand_points)
    letters = np.repeat(photos.y[:, None], found.shape[1], axis=1)
    return photos.hand_points[found], letters[found]


def train(data: Dataset, seed: int, per_letter: int = PER_LETTER, progress: bool = True,
          synthetic: int = 0, copies: int = 0, photos: Dataset | None = None, epochs: int = EPOCHS,
          members: int = MEMBERS) -> HeadResult:
    """A head from Sign-MNIST landmarks (`per_letter` images per letter of `data`), `synthetic`
    kinematic hands per handshape variant (training/handshapes.py) and, when given, real `photos`
    (each repeated `PHOTO_REPEAT` times), all with `copies` 3-D augmented copies; `members` MLPs
    trained `epochs` epochs (the record keeps both, so a refit can repeat the recipe)."""
    started = time.perf_counter()
    points, letters = sample_points(data, per_letter, seed, progress)
    if len(letters) == 0:
        raise SignlensError(f"{data.source}: the landmark model found no hand in any sampled image")
    parts = [(points, letters)]
    if synthetic:
        made, made_letters, _ = handshapes.sample(synthetic, seed)
        parts.append((made, made_letters))
    if photos is not None:
        real, real_letters = photo_points(photos)
        parts.append((np.tile(real, (PHOTO_REPEAT, 1, 1)), np.tile(real_letters, PHOTO_REPEAT)))
    model = fit(np.concatenate([p for p, _ in parts]), np.concatenate([y for _, y in parts]), seed, epochs=epochs,
                copies=copies, members=members)
    acc = (model.predict(landmarks.features(points), verbose=0).argmax(axis=1) == letters).mean()
    return HeadResult(model, {
        "landmark_model": landmarks.MODEL_PATH.name,
        "landmark_model_sha256": file_sha256(landmarks.MODEL_PATH),
        "trained_on": portable(data.source),
        "per_letter": per_letter,
        "n_images": int(len(letters)),
        "synthetic_per_pose": synthetic,
        "n_synthetic": int(len(parts[1][1])) if synthetic else 0,
        "augmented_copies": copies,
        "photos": None if photos is None else {"source": portable(photos.source), "fingerprint": photos.fingerprint,
                                               "n_photos": int(len(photos)), "repeat": PHOTO_REPEAT},
        "views": list(landmarks.VIEWS),
        "features": landmarks.N_FEATURES,
        "seed": seed,
        "epochs": epochs,
        "members": members,
        "train_accuracy": round(float(acc), 4),
        "seconds": round(time.perf_counter() - started, 1),
    })
