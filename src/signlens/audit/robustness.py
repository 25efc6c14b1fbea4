"""`signlens audit robustness`: accuracy under controlled corruptions, for one or more models.

Why: real photos are rotated, off-centre, badly lit, noisy, blurred or partly covered; Sign-MNIST
test images mostly are not. Each corruption has six severities; severity 0 is exactly the
identity, so its accuracy is the clean accuracy and every curve starts from the same point.
Corruptions act on the 28×28 uint8 grid (what every model sees) and are seeded, so two models
compared side by side see the very same corrupted images.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import cv2
import numpy as np

from signlens.audit import figures as audit_plots
from signlens.data.dataset import Dataset

if TYPE_CHECKING:
    from signlens.models.artifact import Artifact

SIZE = 28
CENTRE = ((SIZE - 1) / 2, (SIZE - 1) / 2)


def _warp(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Affine warp with edge pixels repeated (no black wedges that would be a corruption of their own)."""
    return np.stack([cv2.warpAffine(img, matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE) for img in x])


def _rotate(x: np.ndarray, degrees: float, rng: np.random.Generator) -> np.ndarray:
    signs = rng.choice([-1.0, 1.0], len(x))  # both directions, half each
    return np.stack([_warp(img[None], cv2.getRotationMatrix2D(CENTRE, s * degrees, 1.0))[0] for img, s in zip(x, signs)])


def _shift(x: np.ndarray, pixels: float, rng: np.random.Generator) -> np.ndarray:
    angles = rng.uniform(0, 2 * np.pi, len(x))  # the given distance in a random direction
    out = []
    for img, a in zip(x, angles):
        m = np.float32([[1, 0, pixels * np.cos(a)], [0, 1, pixels * np.sin(a)]])
        out.append(_warp(img[None], m)[0])
    return np.stack(out)


def _scale(x: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    return _warp(x, cv2.getRotationMatrix2D(CENTRE, 0.0, factor))


def _brightness(x: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(x.astype(np.float32) * factor, 0, 255)


def _contrast(x: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    mean = x.reshape(len(x), -1).mean(axis=1)[:, None, None]
    return np.clip(mean + (x.astype(np.float32) - mean) * factor, 0, 255)


def _noise(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(x.astype(np.float32) + rng.normal(0, sigma, x.shape), 0, 255)


def _blur(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    return np.stack([cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE) for img in x])


def _occlude(x: np.ndarray, side: float, rng: np.random.Generator) -> np.ndarray:
    """A black square of the given side at a random place inside the central 20×20 (where the hand is)."""
    out, s = x.copy(), int(side)
    for img in out:
        top, left = rng.integers(4, max(5, 24 - s + 1), 2)
        img[top : top + s, left : left + s] = 0
    return out


def _invert(x: np.ndarray, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Blend toward the photographic negative: 1.0 is full inversion (dark hand on light background)."""
    return x.astype(np.float32) * (1 - alpha) + (255 - x.astype(np.float32)) * alpha


@dataclass(frozen=True)
class Corruption:
    apply: Callable[[np.ndarray, float, np.random.Generator], np.ndarray]
    levels: tuple[float, ...]  # severity 0..5 -> parameter; levels[0] is the identity
    unit: str


CORRUPTIONS: dict[str, Corruption] = {
    "rotation": Corruption(_rotate, (0, 5, 10, 15, 25, 35), "degrees"),
    "shift": Corruption(_shift, (0, 1, 2, 3, 4, 6), "pixels"),
    "scale": Corruption(_scale, (1.0, 0.9, 0.8, 0.7, 0.6, 0.5), "zoom-out factor"),
    "brightness": Corruption(_brightness, (1.0, 0.8, 0.6, 0.45, 0.3, 0.2), "intensity factor"),
    "contrast": Corruption(_contrast, (1.0, 0.8, 0.6, 0.4, 0.3, 0.2), "contrast factor"),
    "gaussian noise": Corruption(_noise, (0, 8, 16, 24, 32, 48), "sigma, grey levels"),
    "blur": Corruption(_blur, (0, 0.5, 0.8, 1.2, 1.6, 2.2), "gaussian sigma, pixels"),
    "occlusion": Corruption(_occlude, (0, 5, 8, 11, 14, 17), "black square side, pixels"),
    "inversion": Corruption(_invert, (0, 0.2, 0.4, 0.6, 0.8, 1.0), "blend toward negative"),
}
SEVERITIES = range(len(next(iter(CORRUPTIONS.values())).levels))


def corrupt(x: np.ndarray, name: str, severity: int, seed: int = 0) -> np.ndarray:
    """(N, 28, 28) uint8 -> the same images corrupted; severity 0 returns an identical copy."""
    c = CORRUPTIONS[name]
    if severity == 0:
        return x.copy()
    out = c.apply(np.ascontiguousarray(x, dtype=np.uint8), c.levels[severity], np.random.default_rng(seed))
    return np.rint(out).clip(0, 255).astype(np.uint8)


def accuracy_table(predict: dict[str, Callable[[np.ndarray], np.ndarray]], x: np.ndarray, y: np.ndarray,
                   seed: int = 0) -> list[dict[str, Any]]:
    """One row per (corruption, severity): its parameter and each model's accuracy."""
    rows = []
    for name, c in CORRUPTIONS.items():
        for severity in SEVERITIES:
            xc = corrupt(x, name, severity, seed)
            row: dict[str, Any] = {"corruption": name, "severity": severity, "level": c.levels[severity]}
            row.update({model: float((fn(xc) == y).mean()) for model, fn in predict.items()})
            rows.append(row)
    return rows


def _examples(x: np.ndarray, path: Path, seed: int) -> None:
    from signlens.evaluation import plots

    images, titles = [], []
    for name, c in CORRUPTIONS.items():
        for severity in SEVERITIES:
            images.append(corrupt(x[:1], name, severity, seed)[0])
            titles.append(f"{name} {c.levels[severity]:g}")
    plots.image_grid(np.array(images), titles, path, cols=len(SEVERITIES), title="Corruptions by severity (0..5)")


def report(predict: dict[str, Callable[[np.ndarray], np.ndarray]], data: Dataset, out_dir: Path,
           max_images: int | None = None, seed: int = 0) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    index = np.arange(len(data))
    if max_images is not None and len(data) > max_images:  # a seeded subsample keeps runs cheap
        index = np.sort(np.random.default_rng(seed).choice(len(data), max_images, replace=False))
    x, y = data.x[index], data.y[index]
    rows = accuracy_table(predict, x, y, seed)
    models = list(predict)
    with open(out_dir / "robustness.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["corruption", "severity", "level", *models])
        w.writeheader()
        w.writerows(rows)
    curves = {}
    for name, c in CORRUPTIONS.items():
        accs = {m: [r[m] for r in rows if r["corruption"] == name] for m in models}
        curves[name] = (c.levels, c.unit, accs)
        audit_plots.robustness_curve(name, c.levels, c.unit, accs, out_dir / f"robustness_{name.replace(' ', '_')}.png")
    audit_plots.robustness_overview(curves, out_dir / "robustness.png")
    _examples(x, out_dir / "corruption_examples.png", seed)
    summary = {"data": data.source, "n": len(y), "models": models, "rows": rows}
    (out_dir / "robustness.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def run(arts: list["Artifact"], data: Dataset, out_dir: Path, max_images: int | None = None,
        seed: int = 0) -> dict[str, Any]:
    from signlens.inference.predictor import Predictor

    predict: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    for i, art in enumerate(arts):
        name = art.name if art.name not in predict else f"{art.name}#{i + 1}"
        predict[name] = lambda grids, p=Predictor(art): p.probabilities(grids).argmax(axis=1)
    return report(predict, data, out_dir, max_images, seed)


def format_summary(s: dict[str, Any]) -> str:
    models = s["models"]
    lines = [f"robustness on {s['data']} (n={s['n']})",
             f"{'corruption':<15} sev  {'level':>6}  " + "  ".join(f"{m:>12}" for m in models)]
    lines += [f"{r['corruption']:<15} {r['severity']:3d}  {r['level']:6g}  " + "  ".join(f"{r[m]:12.2%}" for m in models)
              for r in s["rows"]]
    return "\n".join(lines)
