"""Near-duplicate clusters: the unit a leakage-aware split must keep on one side.

Sign-MNIST's train split is ~1,700 photos × ~20 augmented variants. Two variants of one photo are
nearly the same image, so a random validation split scores near-copies of training images. We
cluster images whose *shape* is nearly the same: each image is area-downscaled to 7×7 (which
forgives small shifts and blur), centred and scaled to unit length (which forgives brightness and
contrast changes), and images within `THRESHOLD` Euclidean distance are linked; clusters are the
connected components. On the real data this takes a few seconds for all 27,455 rows, and the
threshold sits in the gap between within-train nearest neighbours (median 0.012) and test→train
nearest neighbours (1st percentile ~0.05): see `signlens audit data`'s distance histogram.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.sparse.csgraph import connected_components
from sklearn.neighbors import NearestNeighbors

from signlens.errors import SignlensError

FEATURE_SIZE = 7
#: Distance between unit-length 7×7 signatures below which two images count as near-duplicates.
THRESHOLD = 0.05


def signatures(x: np.ndarray, size: int = FEATURE_SIZE) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, size²) float32, zero-mean, unit-length (flat images stay zero)."""
    small = np.stack([cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA) for img in x]) if len(x) else \
        np.zeros((0, size, size), np.uint8)
    f = small.reshape(len(x), -1).astype(np.float32)
    f -= f.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(f, axis=1, keepdims=True)
    return np.divide(f, norm, out=np.zeros_like(f), where=norm > 1e-6)


def cluster_ids(x: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """Cluster id per image (0..K-1): connected components of the 'within threshold' graph."""
    if len(x) == 0:
        return np.zeros(0, np.int64)
    f = signatures(x)
    graph = NearestNeighbors().fit(f).radius_neighbors_graph(f, radius=threshold, mode="connectivity")
    _, ids = connected_components(graph, directed=False)
    return ids.astype(np.int64)


def grouped_split(y: np.ndarray, groups: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole groups to validation, in seeded random order, until each letter has ~`fraction` there.

    A group joins validation only while its letter (the group's most common label) is still short
    of its quota, so the split stays roughly stratified without ever cutting a group in two.
    """
    y, groups = np.asarray(y), np.asarray(groups)
    if len(groups) != len(y):
        raise SignlensError(f"grouped split: {len(groups)} group ids for {len(y)} labels")
    index = np.arange(len(y))
    uniq, inverse = np.unique(groups, return_inverse=True)
    sizes = np.bincount(inverse)
    per_letter = np.zeros((len(uniq), int(y.max()) + 1), np.int64)
    np.add.at(per_letter, (inverse, y), 1)
    majority = per_letter.argmax(axis=1)
    quota = fraction * np.bincount(y, minlength=int(y.max()) + 1)
    taken = np.zeros_like(quota)
    in_val = np.zeros(len(uniq), bool)
    for g in np.random.default_rng(seed).permutation(len(uniq)):
        c = majority[g]
        if taken[c] + sizes[g] / 2 <= quota[c]:  # closest to the quota without overshooting by half a group
            in_val[g] = True
            taken[c] += sizes[g]
    val = in_val[inverse]
    return index[~val], index[val]
