"""Matplotlib figures written to PNG files (headless: the Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from signlens import labels  # noqa: E402


def save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def learning_curves(histories: dict[str, dict[str, list[float]]], path: Path) -> Path:
    """Loss and accuracy per epoch, train vs validation; several runs overlay (runs compare)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
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
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, t in zip(axes.flat, images, titles):
        ax.imshow(img, cmap="gray", vmin=0, vmax=255)
        ax.set_title(t, fontsize=7)
    if title:
        fig.suptitle(title)
    return save(fig, path)


def label_histogram(counts: Sequence[int], path: Path, title: str = "Images per letter") -> Path:
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.bar(labels.LETTERS, counts, color="#3b7dd8")
    ax.set_ylabel("images")
    ax.set_title(title)
    for i, c in enumerate(counts):
        ax.text(i, c, str(c), ha="center", va="bottom", fontsize=7)
    return save(fig, path)


def confusion_matrix(cm: np.ndarray, path: Path, title: str = "Confusion matrix") -> Path:
    """Row-normalized so rare letters are as visible as common ones; counts annotated."""
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(9, 8))
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
    fig, axes = plt.subplots(1, 4, figsize=(18, 3.6))
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
