"""`signlens data describe`: counts per letter, a label histogram and a sample grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signlens import labels
from signlens.evaluation import plots
from signlens.data.dataset import Dataset


def describe(data: Dataset, out_dir: Path, per_letter: int = 8, seed: int = 0) -> dict:
    counts = np.bincount(data.y, minlength=labels.N_CLASSES)
    out_dir.mkdir(parents=True, exist_ok=True)
    plots.label_histogram(counts.tolist(), out_dir / "label_histogram.png",
                          title=f"Images per letter — {Path(data.source).name} (n={len(data)})")
    rng = np.random.default_rng(seed)
    picks, titles = [], []
    for c in range(labels.N_CLASSES):
        members = np.flatnonzero(data.y == c)
        chosen = rng.choice(members, size=min(per_letter, len(members)), replace=False) if len(members) else []
        for i in chosen:
            picks.append(i)
            titles.append(labels.LETTERS[c])
        picks += [-1] * (per_letter - len(chosen))  # keep one row per letter
        titles += [""] * (per_letter - len(chosen))
    blank = np.zeros((1, 28, 28), np.uint8)
    images = np.concatenate([data.x, blank])[np.array(picks)]
    plots.image_grid(images, titles, out_dir / "samples.png", cols=per_letter * 3, title="Samples per letter")
    return {
        "source": data.source, "n": len(data), "fingerprint": data.fingerprint,
        "counts": {letter: int(n) for letter, n in zip(labels.LETTERS, counts)},
        "pixel_mean": float(data.x.mean()), "pixel_std": float(data.x.std()),
    }
