"""Matplotlib figures written to PNG files.

Figures are made with matplotlib's object API (`Figure`), not pyplot: no GUI backend is chosen,
nothing is set process-wide when this module is imported, no figure registry has to be closed,
and figures can be drawn from a server's worker threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure

from signlens import labels


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
             **kwargs: Any) -> tuple[Figure, Any]:
    """A new figure and its axes, as `pyplot.subplots` returns them."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")  # PNG through the Agg renderer
    return path


def learning_curves(histories: dict[str, dict[str, list[float]]], path: Path) -> Path:
    """Loss and accuracy per epoch, train vs validation; several runs overlay (runs compare)."""
    fig, axes = subplots(1, 2, figsize=(11, 4))
    for run, h in histories.items():
        prefix = f"{run} " if len(histories) > 1 else ""
        for ax, key in zip(axes, ("loss", "accuracy")):
            epochs = np.arange(1, len(h.get(key, [])) + 1)
            line = ax.plot(epochs, h.get(key, []), label=f"{prefix}train")[0] if key in h else None
            if f"val_{key}" in h:
                color = line.get_color() if line is not None else None
                ax.plot(np.arange(1, len(h[f"val_{key}"]) + 1), h[f"val_{key}"], "--", color=color,
                        label=f"{prefix}validation")
    for ax, key in zip(axes, ("loss", "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_title("Loss")
    axes[1].set_title("Accuracy")
    return save(fig, path)


def image_grid(images: np.ndarray, titles: Sequence[str], path: Path, cols: int = 12, title: str = "") -> Path:
    n = len(images)
    rows = max(1, int(np.ceil(n / cols)))
    fig, axes = subplots(rows, cols, figsize=(cols * 1.1, rows * 1.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, t in zip(axes.flat, images, titles):
        ax.imshow(img, cmap="gray", vmin=0, vmax=255)
        ax.set_title(t, fontsize=7)
    if title:
        fig.suptitle(title)
    return save(fig, path)


def label_histogram(counts: Sequence[int], path: Path, title: str = "Images per letter") -> Path:
    fig, ax = subplots(figsize=(10, 3.5))
    ax.bar(labels.LETTERS, counts, color="#3b7dd8")
    ax.set_ylabel("images")
    ax.set_title(title)
    for i, c in enumerate(counts):
        ax.text(i, c, str(c), ha="center", va="bottom", fontsize=7)
    return save(fig, path)


def confusion_matrix(cm: np.ndarray, path: Path, title: str = "Confusion matrix") -> Path:
    """Row-normalized so rare letters are as visible as common ones; counts annotated."""
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = subplots(figsize=(9, 8))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(labels.N_CLASSES), labels.LETTERS)
    ax.set_yticks(range(labels.N_CLASSES), labels.LETTERS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i, j in zip(*np.nonzero(cm)):
        ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                color="white" if norm[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of true letter")
    return save(fig, path)


def drift_figure(ref: object, cur: dict[str, np.ndarray], path: Path) -> Path:
    """Reference vs recent: predicted letters, confidence, brightness, contrast."""
    fig, axes = subplots(1, 4, figsize=(18, 3.6))
    ref_letters = np.asarray(ref.letter_counts, float)  # type: ignore[attr-defined]
    cur_letters = np.bincount(cur["letters"], minlength=labels.N_CLASSES).astype(float)
    positions = np.arange(labels.N_CLASSES)
    axes[0].bar(positions - 0.2, ref_letters / ref_letters.sum(), 0.4, label="reference")
    axes[0].bar(positions + 0.2, cur_letters / cur_letters.sum(), 0.4, label="recent")
    axes[0].set_xticks(positions, labels.LETTERS, fontsize=7)
    axes[0].set_title("predicted letter")
    for ax, key, rng in zip(axes[1:], ("confidence", "brightness", "contrast"), ((0, 1), (0, 255), (0, 128))):
        ax.hist(getattr(ref, key), bins=20, range=rng, density=True, alpha=0.5, label="reference")
        ax.hist(cur[key], bins=20, range=rng, density=True, alpha=0.5, label="recent")
        ax.set_title(key)
    for ax in axes:
        ax.legend(fontsize=7)
    return save(fig, path)
