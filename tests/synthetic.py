"""Tiny synthetic Sign-MNIST-like data: each letter is a bright bar at its own place and angle.

Easy enough that a small model learns it in a couple of epochs on a CPU, so tests of training,
evaluation and serving run in seconds and can still fail when the pipeline is wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signlens import labels
from signlens.data.validate import HEADER


def letter_image(index: int, rng: np.random.Generator, noise: float = 12.0) -> np.ndarray:
    img = np.full((28, 28), 60.0)
    row, col = divmod(index, 6)  # 4 rows × 6 columns of distinct block positions
    y0, x0 = 2 + row * 6, 1 + col * 4
    img[y0 : y0 + 6, x0 : x0 + 4] = 230.0
    img += rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_arrays(per_letter: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(labels.N_CLASSES), per_letter)
    x = np.stack([letter_image(int(c), rng) for c in y])
    return x, y


def write_csv(path: Path, x: np.ndarray, y: np.ndarray, line_ending: str = "\r\n") -> Path:
    rows = [",".join(HEADER)]
    sign = labels.indices_to_sign_labels(y)
    rows += [",".join([str(int(s))] + [str(int(v)) for v in img.reshape(-1)]) for s, img in zip(sign, x)]
    path.write_text(line_ending.join(rows) + line_ending, newline="")
    return path
