"""Loading a model to serve: the smoke check every model must pass, and the hot swap.

A reload loads and checks the new model on a worker thread while the old one keeps answering,
then replaces the served entry in one assignment on the event loop. Requests look their model up
right before submitting to its batcher (no await in between), so after the swap nothing new
reaches the old batcher; it drains what it already holds and stops.

The smoke check runs images whose letters are known (the shipped examples/, one per letter): a
model must answer valid probabilities that depend on the image, and a replacement must read at
least about as many of them right as the model it replaces or starts from. A model with broken
weights (NaN, zeroed) that still answers "X 27.9%" to everything is refused here, not by users.
The version a model is served under is the hash of the files (or bytes) actually loaded.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from PIL import Image

from signlens import labels
from signlens.data.fingerprint import file_sha256
from signlens.models.artifact import content_hash
from signlens.serving.batching import MicroBatcher
from signlens.spec import HEAD_FILE, MODEL_FILE
from signlens.vision import landmarks

if TYPE_CHECKING:
    from signlens.models.artifact import Artifact
    from signlens.inference.predictor import Predictor

#: A replacement may read this share of the known examples fewer right than what it replaces.
SMOKE_MARGIN = 0.25


@dataclass
class ServedModel:
    """One loaded model under its serving name, with its own micro-batcher."""

    name: str
    predictor: Predictor
    batcher: MicroBatcher


@dataclass(frozen=True)
class KnownExamples:
    """28×28 grayscale images with known letters (files named `<LETTER>.png`)."""

    grids: np.ndarray  # (N, 28, 28) uint8
    letters: np.ndarray  # (N,) class indices

    @classmethod
    def load(cls, folder: Path) -> KnownExamples:
        files = sorted(p for p in Path(folder).glob("*.png") if p.stem.upper() in labels.LETTERS)
        if not files:
            raise ValueError(f"no known examples (<LETTER>.png) in {folder}: the smoke check needs some")
        grids = np.stack([np.asarray(Image.open(p).convert("L").resize((28, 28))) for p in files])
        return cls(grids, np.array([labels.index_of_letter(p.stem) for p in files]))

    def accuracy(self, predictor: Predictor) -> float:
        return float((predictor.probabilities(self.grids).argmax(1) == self.letters).mean())


def content_version(art: Artifact) -> str:
    """A hash of the model content loaded, never the version signlens.json claims. For a Keras
    artifact it is models.artifact's formula over the files (and the temperatures applied), so an
    untampered one keeps its version."""
    if hasattr(art.model, "sha256"):  # a TFLite backend hashes the bytes it was given
        digests = [m.sha256 for m in (art.model, art.hand_head) if m is not None]
    elif art.path is not None and (art.path / MODEL_FILE).is_file():
        digests = [file_sha256(art.path / f) for f in (MODEL_FILE, HEAD_FILE) if (art.path / f).is_file()]
    else:  # converted in memory (TF.js): the weights themselves
        digests = [hashlib.sha256(b"".join(np.asarray(w).tobytes() for w in m.get_weights())).hexdigest()
                   for m in (art.model, art.hand_head) if m is not None]
    return content_hash(digests, (art.meta.get("calibration") or {}).get("temperatures"))


def load_checked(ref: str | None, known: KnownExamples, reference: Predictor | None = None) -> Predictor:
    """Load a model and run the smoke check (which also traces it, so no request pays for that).

    `reference`: the model this one replaces or was fine-tuned from. Raises on anything unservable.
    """
    from signlens.inference.predictor import Predictor
    from signlens.models.resolve import resolve

    art = resolve(ref)
    predictor = Predictor(replace(art, meta={**art.meta, "version": content_version(art)}))
    probs = predictor.probabilities(known.grids)
    _check(probs, len(known.grids), "smoke prediction")
    if np.ptp(probs, axis=0).max() < 1e-6:
        raise ValueError("smoke prediction: the same answer whatever the image (broken weights?)")
    if reference is not None:
        got, before = known.accuracy(predictor), known.accuracy(reference)
        if got < before - SMOKE_MARGIN:
            raise ValueError(f"smoke prediction: reads {got:.0%} of the known examples right, "
                             f"the model it would replace {before:.0%}")
    if predictor.has_head:  # its first photo would otherwise also wait ~0.2 s for the landmark model to load
        landmarks.warm_up()
        _check(predictor.hand_probabilities(np.zeros((1, 1, landmarks.N_POINTS, 3), np.float32)), 1,
               "hand-landmark head")
    return predictor


def _check(probs: np.ndarray, rows: int, what: str) -> None:
    probs = np.asarray(probs)
    if probs.shape != (rows, labels.N_CLASSES):
        raise ValueError(f"{what}: expected {rows}×{labels.N_CLASSES} probabilities, got shape {probs.shape}")
    if not np.isfinite(probs).all() or (probs < 0).any() or (np.abs(probs.sum(1) - 1) > 1e-3).any():
        raise ValueError(f"{what}: probabilities are not finite, non-negative and summing to 1")


def start_served(name: str, predictor: Predictor, executor: Executor, max_size: int, wait_s: float,
                 on_batch: Callable[[int], None]) -> ServedModel:
    """Wrap a checked predictor in a running batcher (call on the event loop)."""
    batcher = MicroBatcher(predictor.probabilities, executor, max_size, wait_s, on_batch=on_batch)
    batcher.start()
    return ServedModel(name, predictor, batcher)
