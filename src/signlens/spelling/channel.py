"""Calibrating the channel: how a model really reads each letter on people's hands.

A model's probabilities can be confidently wrong the same way every time (the shipped default reads
almost every real-photo T as S or N). A confusion matrix C[c, a] = the mean probability vector the
model gives photos of true letter c turns a reading p into likelihoods L[c] = Σ_a p[a] C[c, a]: "how
often does a c look like this?". Fit it on photos of people other than the signer (the person whose
letters are decoded must not be in it), e.g. from user feedback or a calibration set.
"""

from __future__ import annotations

import numpy as np

from signlens import labels
from signlens.errors import SignlensError

#: Share of a uniform reading mixed into each letter's row: a letter never seen read some way stays possible.
MIX = 0.05


def fit_confusion(probs: np.ndarray, letters: np.ndarray, mix: float = MIX) -> np.ndarray:
    """(N, 24) probabilities of photos with true letter indices (N,) -> (24, 24) C[true, read].
    Letters with no photos get the identity row (the model is taken at its word for them)."""
    probs, letters = np.asarray(probs, np.float64), np.asarray(letters)
    if probs.ndim != 2 or probs.shape[1] != labels.N_CLASSES or len(letters) != len(probs):
        raise SignlensError(f"need (N, {labels.N_CLASSES}) probabilities and N letters, got {probs.shape} and {len(letters)}")
    confusion = np.eye(labels.N_CLASSES)
    for c in range(labels.N_CLASSES):
        rows = probs[letters == c]
        if len(rows):
            confusion[c] = rows.mean(axis=0) / rows.mean(axis=0).sum()
    return (1 - mix) * confusion + mix / labels.N_CLASSES


def likelihoods(probs: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """(n, 24) readings -> (n, 24) L[i, c] = P(reading i | true letter c) under the confusion matrix."""
    if confusion.shape != (labels.N_CLASSES, labels.N_CLASSES):
        raise SignlensError(f"confusion must be ({labels.N_CLASSES}, {labels.N_CLASSES}), got {confusion.shape}")
    return probs @ confusion.T
