"""Signer-independent evaluation: leave-one-signer-out (LOSO) folds over photos of several people.

A photo's signer is read from its file name (`hand3`, `hand4` in the Massey dev photos). No figure
for a person may come from a model that saw that person's photos: `folds` splits by signer and
`check_disjoint` refuses a fold whose training set holds any tested photo (by content fingerprint,
so a copy of a photo under another name is caught too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signlens.errors import SignlensError

_SIGNER = re.compile(r"(?:^|[_\-.])(hand\d+|signer\d+|person\d+)(?=[_\-.]|$)", re.IGNORECASE)


def signer_of(path: str | Path) -> str:
    """The signer named in a photo's file name (`A_hand3_a_dif_seg_1_cropped.jpeg` -> `hand3`)."""
    match = _SIGNER.search(Path(path).name)
    if match is None:
        raise SignlensError(f"{path}: no signer (hand<N>, signer<N> or person<N>) in the file name")
    return match.group(1).lower()


@dataclass(frozen=True)
class Fold:
    """One LOSO fold: `test` holds every photo of `signer`, `train` the photos of everyone else."""

    signer: str
    train: np.ndarray  # indices into the photo set
    test: np.ndarray


def folds(signers: list[str] | np.ndarray, fingerprints: list[str] | np.ndarray) -> list[Fold]:
    """One fold per signer (at least two are needed), each checked by `check_disjoint`: the same
    photo filed under two signers would put a tested photo in its own training set."""
    signers, fingerprints = np.asarray(signers), np.asarray(fingerprints)
    names = sorted(set(signers.tolist()))
    if len(names) < 2:
        raise SignlensError(f"leave-one-signer-out needs two or more signers, got {names}")
    out = [Fold(s, np.flatnonzero(signers != s), np.flatnonzero(signers == s)) for s in names]
    for fold in out:
        check_disjoint(fingerprints[fold.train], fingerprints[fold.test])
    return out


def check_disjoint(train_fingerprints: list[str] | np.ndarray, test_fingerprints: list[str] | np.ndarray) -> None:
    """Raise when any tested photo is also a training photo (same content fingerprint)."""
    leaked = set(np.asarray(train_fingerprints).tolist()) & set(np.asarray(test_fingerprints).tolist())
    if leaked:
        raise SignlensError(f"{len(leaked)} tested photo(s) are in the training set, e.g. {sorted(leaked)[0]}")


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion `correct` / `n`."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))
