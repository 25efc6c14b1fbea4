"""Personalization: fine-tune a copy of a model on a user's own photos (a few per letter).

A handful of photos would overwrite what the model knows if trained on alone (it forgets the
letters the user did not show, and Sign-MNIST accuracy collapses). So every epoch mixes the user's
photos, repeated, with an equal number of Sign-MNIST images ("rehearsal"), at a learning rate
well below training's. The base artifact is never modified; the result is a new artifact whose
meta records what it was fine-tuned from and on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import keras
import numpy as np

from signlens import labels
from signlens.data import Dataset, load
from signlens.errors import SignlensError
from signlens.models import artifact
from signlens.models.artifact import Artifact
from signlens.training import head as hand_head
from signlens.training.callbacks import EpochEnd
from signlens.training.clone import copy_model
from signlens.training.pipeline import TrainBatches
from signlens.training.seeding import seed_everything
from signlens.vision import landmarks


@dataclass(frozen=True)
class FinetuneResult:
    artifact_dir: Path
    meta: dict[str, Any]  # the "finetune" entry recorded in the artifact
    history: dict[str, list[float]]  # per-epoch loss/accuracy on the mixed set


def _mixed(user: Dataset, anchor: Dataset, n_anchor: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """User photos repeated to n_anchor, plus n_anchor Sign-MNIST images, shuffled."""
    rng = np.random.default_rng(seed)
    a = rng.choice(len(anchor), size=min(n_anchor, len(anchor)), replace=False)
    u = np.resize(rng.permutation(len(user)), max(len(a), len(user)))
    x = np.concatenate([user.x[u], anchor.x[a]])
    y = np.concatenate([user.y[u], anchor.y[a]])
    order = rng.permutation(len(y))
    return x[order], y[order]


def finetune(
    base: Artifact,
    user: Dataset,
    out_dir: Path,
    anchor: Dataset | None = None,
    epochs: int = 8,
    learning_rate: float = 3e-4,
    n_anchor: int = 1000,
    batch_size: int = 64,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    process_wide_seed: bool = True,
) -> FinetuneResult:
    """Fine-tune a copy of `base` on `user` (+ rehearsal on `anchor`, default Sign-MNIST train).

    `progress(epochs_done, epochs)` is called after every epoch (the page's progress bar).
    `process_wide_seed=False` (inside a server) leaves the process's RNGs and TensorFlow's op
    determinism alone; the data order and augmentation stay seeded, the run is not bit-reproducible.
    """
    if len(user) == 0:
        raise SignlensError("no photos to fine-tune on")
    if process_wide_seed:
        seed_everything(seed)
    anchor = anchor if anchor is not None else load(split="train")
    model = copy_model(base.model)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])

    x, y = _mixed(user, anchor, n_anchor, seed)
    batches = TrainBatches(x, y, batch_size, seed, augment=True)  # the same light geometric jitter as training
    callbacks = [batches.callback()]
    if progress:
        callbacks.append(EpochEnd(lambda epoch, _: progress(epoch + 1, epochs)))
    started = time.perf_counter()
    history = model.fit(batches.dataset, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks).history
    record = _record(base, user, anchor, n_anchor, epochs=epochs, learning_rate=learning_rate, seed=seed,
                     seconds=time.perf_counter() - started)

    curves = {k: [float(v) for v in vs] for k, vs in history.items()}
    artifact.save(
        Path(out_dir), model, name=f"{base.name}-personal", config=dict(base.meta.get("config", {})),
        fingerprint=user.fingerprint, metrics={"finetune_final_accuracy": curves["accuracy"][-1]},
        history=curves, extra={"finetune": record},
    )
    if base.hand_head is not None:
        head, n_user = _finetune_head(base.hand_head, user, anchor, n_anchor, seed, process_wide_seed)
        artifact.save_hand_head(Path(out_dir), head, {**base.meta.get("hand_head", {}), "finetuned_on": user.source,
                                                      "finetune_photos_with_landmarks": n_user})
    return FinetuneResult(Path(out_dir), record, curves)


def _record(base: Artifact, user: Dataset, anchor: Dataset, n_anchor: int, *, epochs: int, learning_rate: float,
            seed: int, seconds: float) -> dict[str, Any]:
    """What a personal model was fine-tuned from and on, for its meta and its MLflow run."""
    counts = np.bincount(user.y, minlength=labels.N_CLASSES)
    return {
        "base": str(base.path) if base.path else base.name,
        "base_name": base.name,
        "base_version": base.version,
        "images": user.source,
        "images_fingerprint": user.fingerprint,
        "n_images": len(user),
        "per_letter": {labels.LETTERS[c]: int(n) for c, n in enumerate(counts) if n},
        "anchor": anchor.source,
        "n_anchor": int(min(n_anchor, len(anchor))),
        "epochs": epochs,
        "learning_rate": learning_rate,
        "seed": seed,
        "seconds": round(seconds, 2),
    }


def _finetune_head(head: keras.Model, user: Dataset, anchor: Dataset, n_anchor: int,
                   seed: int, process_wide_seed: bool) -> tuple[keras.Model, int]:
    """The hand-landmark head learns the user's hands the same way: their landmarks, repeated, plus
    as many Sign-MNIST landmarks. Photos where no hand was found have no landmarks to give."""
    if user.hand_points is None:  # a CSV: grids, no photos
        return head, 0
    n_photos = int(landmarks.has_hand(user.hand_points).sum())
    if n_photos == 0:
        return head, 0
    # Every view that saw the hand is one more example of the user's handshape.
    points = user.hand_points.reshape(-1, landmarks.N_POINTS, 3)
    letters = np.repeat(user.y, user.hand_points.shape[1])
    found = np.flatnonzero(landmarks.views_found(user.hand_points).ravel())
    ref_points, ref_letters = hand_head.sample_points(
        anchor, per_letter=max(1, n_anchor // labels.N_CLASSES), seed=seed, progress=False)
    repeat = np.resize(found, max(len(ref_letters), len(found)))
    tuned = hand_head.fit(np.concatenate([points[repeat], ref_points]),
                          np.concatenate([letters[repeat], ref_letters]),
                          seed, epochs=20, base=head, learning_rate=3e-4, process_wide_seed=process_wide_seed)
    return tuned, n_photos
