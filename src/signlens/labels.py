"""The one place that knows the label sets.

Sign-MNIST labels are 0..24 for A..Y with 9 (J) never used (J and Z need motion). signlens
models output the 24 static letters in alphabetical order; the seed codelab's models output 26
classes (index = Sign-MNIST label, 9 and 25 unused). Nothing else computes a class count.
"""

from __future__ import annotations

import numpy as np

LETTERS: tuple[str, ...] = tuple("ABCDEFGHIKLMNOPQRSTUVWXY")
N_CLASSES = len(LETTERS)
#: Sign-MNIST label of each model output index.
SIGN_MNIST_LABELS: tuple[int, ...] = tuple(ord(c) - ord("A") for c in LETTERS)
SEED_N_OUTPUTS = 26

_INDEX_OF_SIGN_LABEL = {label: i for i, label in enumerate(SIGN_MNIST_LABELS)}
_INDEX_OF_LETTER = {letter: i for i, letter in enumerate(LETTERS)}


def is_valid_sign_label(label: int) -> bool:
    return label in _INDEX_OF_SIGN_LABEL


def index_of_sign_label(label: int) -> int:
    """Model index of a Sign-MNIST label; raises ValueError for 9 (J), 25 (Z) or out of range."""
    try:
        return _INDEX_OF_SIGN_LABEL[label]
    except KeyError:
        raise ValueError(f"label {label} is not one of the 24 Sign-MNIST letters (0..24 without 9)") from None


def index_of_letter(letter: str) -> int:
    try:
        return _INDEX_OF_LETTER[letter.strip().upper()]
    except KeyError:
        raise ValueError(f"{letter!r} is not one of the 24 static letters {''.join(LETTERS)}") from None


def sign_labels_to_indices(labels: np.ndarray) -> np.ndarray:
    """Vectorised index_of_sign_label for already-validated labels."""
    lut = np.full(SEED_N_OUTPUTS, -1, dtype=np.int64)
    lut[list(SIGN_MNIST_LABELS)] = np.arange(N_CLASSES)
    return lut[np.asarray(labels, dtype=np.int64)]


def indices_to_sign_labels(indices: np.ndarray) -> np.ndarray:
    return np.asarray(SIGN_MNIST_LABELS, dtype=np.int64)[np.asarray(indices, dtype=np.int64)]
