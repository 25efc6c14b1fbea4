"""`signlens audit slices`: accuracy per slice of a dataset, worst slices first.

Why: one accuracy number hides who the model fails. Slices are computed from the images alone
(Sign-MNIST has no metadata): per letter, and per tercile of brightness, contrast, sharpness
(Laplacian variance), background brightness (image border) and off-centre-ness (distance of the
intensity centroid from the centre). Terciles use the dataset's own quantiles, so "dark" means the
darkest third of *this* data.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import cv2
import numpy as np

from signlens import labels
from signlens.audit import figures as audit_plots
from signlens.data.dataset import Dataset

if TYPE_CHECKING:
    from signlens.models.artifact import Artifact

StatFn = Callable[[np.ndarray], np.ndarray]


def _brightness(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1).mean(axis=1)


def _contrast(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1).std(axis=1)


def _sharpness(x: np.ndarray) -> np.ndarray:
    return np.array([cv2.Laplacian(img, cv2.CV_64F).var() for img in x])


def _background(x: np.ndarray) -> np.ndarray:
    border = np.concatenate([x[:, :2].reshape(len(x), -1), x[:, -2:].reshape(len(x), -1),
                             x[:, :, :2].reshape(len(x), -1), x[:, :, -2:].reshape(len(x), -1)], axis=1)
    return border.mean(axis=1)


def _off_centre(x: np.ndarray) -> np.ndarray:
    w = x.astype(np.float64) + 1e-6
    grid = np.arange(x.shape[1]) - (x.shape[1] - 1) / 2
    cy = (w.sum(axis=2) * grid).sum(axis=1) / w.sum(axis=(1, 2))
    cx = (w.sum(axis=1) * grid).sum(axis=1) / w.sum(axis=(1, 2))
    return np.hypot(cx, cy)


#: family -> (statistic of each image, names of its low/mid/high terciles)
STATS: dict[str, tuple[StatFn, tuple[str, str, str]]] = {
    "brightness": (_brightness, ("dark", "mid", "bright")),
    "contrast": (_contrast, ("low contrast", "mid", "high contrast")),
    "sharpness": (_sharpness, ("blurry", "mid", "sharp")),
    "background": (_background, ("dark background", "mid", "bright background")),
    "off-centre": (_off_centre, ("centred", "mid", "off-centre")),
}


def slice_table(x: np.ndarray, y: np.ndarray, pred: np.ndarray) -> list[dict[str, Any]]:
    """Rows of {family, slice, n, accuracy, low, high}; letters first, then the image statistics."""
    correct = pred == y
    rows = [{"family": "letter", "slice": labels.LETTERS[c], "n": int((y == c).sum()),
             "accuracy": float(correct[y == c].mean())} for c in range(labels.N_CLASSES) if (y == c).any()]
    for family, (stat, names) in STATS.items():
        values = stat(x)
        edges = np.quantile(values, [1 / 3, 2 / 3])
        bucket = np.digitize(values, edges, right=True)
        for b, name in enumerate(names):
            members = bucket == b
            if members.any():
                rows.append({"family": family, "slice": name, "n": int(members.sum()),
                             "accuracy": float(correct[members].mean()),
                             "low": float(values[members].min()), "high": float(values[members].max())})
    return rows


def report(x: np.ndarray, y: np.ndarray, pred: np.ndarray, out_dir: Path, title: str = "") -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = slice_table(x, y, pred)
    overall = float((pred == y).mean())
    with open(out_dir / "slices.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["family", "slice", "n", "accuracy", "low", "high"])
        w.writeheader()
        w.writerows(rows)
    audit_plots.slice_bars(rows, overall, out_dir / "slices.png")
    worst = sorted((r for r in rows if r["accuracy"] < overall), key=lambda r: r["accuracy"])  # none if all equal
    summary = {"title": title, "n": len(y), "accuracy": overall, "slices": rows,
               "worst": worst[:5], "worst_image_slices": [r for r in worst if r["family"] != "letter"][:3]}
    (out_dir / "slices.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def run(art: "Artifact", data: Dataset, out_dir: Path) -> dict[str, Any]:
    """Slices for an artifact on a dataset (the predictor is imported here: TensorFlow is slow to load)."""
    from signlens.inference.predictor import Predictor

    pred = Predictor(art).probabilities(data.x).argmax(axis=1)
    return report(data.x, data.y, pred, out_dir, title=f"{art.name} on {Path(data.source).name}")


def format_summary(s: dict[str, Any]) -> str:
    lines = [f"{s['title']}: accuracy {s['accuracy']:.2%} (n={s['n']})", "family       slice                   n  accuracy"]
    worst = {id(r) for r in s["worst"]}
    for r in s["slices"]:
        mark = "  ← worst" if id(r) in worst else ""
        lines.append(f"{r['family']:<12} {r['slice']:<20} {r['n']:5d}  {r['accuracy']:7.2%}{mark}")
    return "\n".join(lines)
