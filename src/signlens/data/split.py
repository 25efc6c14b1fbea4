"""Validation split drawn from the training split only (the test split is for reporting)."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from signlens.data.dataset import Dataset
from signlens.data.groups import cluster_ids, grouped_split
from signlens.errors import SignlensError


def split_indices(y: np.ndarray, fraction: float, seed: int, method: str = "random",
                  groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """'grouped' keeps each near-duplicate cluster (`groups`, see data.groups) on one side."""
    index = np.arange(len(y))
    if fraction == 0:
        return index, index[:0]
    if method == "grouped":
        if groups is None:
            raise SignlensError("val_split 'grouped' needs group ids (data.groups.cluster_ids)")
        return grouped_split(y, groups, fraction, seed)
    if method != "random":
        raise SignlensError(f"val_split {method!r} is not one of 'random', 'grouped'")
    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 else None
    train, val = train_test_split(index, test_size=fraction, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(val)


def train_val_split(data: Dataset, fraction: float, seed: int, method: str = "random") -> tuple[Dataset, Dataset | None]:
    groups = cluster_ids(data.x) if method == "grouped" and fraction > 0 else None
    train, val = split_indices(data.y, fraction, seed, method, groups)
    if len(val) == 0:
        return data, None
    return data.subset(train, "#train"), data.subset(val, "#val")
