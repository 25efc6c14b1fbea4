"""Figures for the audit (distance histogram, slice bars, robustness curves), kept apart from plots.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from signlens.evaluation.plots import save, subplots


def distance_histogram(distances: dict[str, np.ndarray], threshold: float, path: Path) -> Path:
    """Nearest-neighbour distances per comparison on a log x axis, with the threshold drawn.

    Augmented copies of one photo sit far left; different photos (what test→train mostly shows)
    sit to the right. The threshold should fall in the gap between the two.
    """
    fig, ax = subplots(figsize=(9, 4))
    finite = [d[np.isfinite(d)] for d in distances.values()]
    low = max(1e-4, min((d[d > 0].min() for d in finite if (d > 0).any()), default=1e-3))
    high = max((d.max() for d in finite if len(d)), default=1.0)
    bins = np.geomspace(low, max(high, low * 10), 60)
    for (name, _), d in zip(distances.items(), finite):
        ax.hist(np.clip(d, low, None), bins=bins, histtype="step", linewidth=1.5, density=True, label=f"{name} (n={len(d)})")
    ax.axvline(threshold, color="red", linestyle="--", label=f"near-duplicate threshold {threshold}")
    ax.set_xscale("log")
    ax.set_xlabel("distance to nearest neighbour (7×7 normalized signature)")
    ax.set_ylabel("density")
    ax.set_title("Nearest-neighbour distances: near-copies (left) vs different photos (right)")
    ax.legend(fontsize=8)
    return save(fig, path)


def slice_bars(rows: Sequence[dict[str, Any]], overall: float, path: Path) -> Path:
    """One panel per slice family; the worst slice of each family in red when it is below overall."""
    families = list(dict.fromkeys(r["family"] for r in rows))
    fig, axes = subplots(len(families), 1, figsize=(10, 1.2 + 0.32 * len(rows)),
                             gridspec_kw={"height_ratios": [sum(r["family"] == f for r in rows) for f in families]},
                             squeeze=False)
    for ax, family in zip(axes[:, 0], families):
        fam = [r for r in rows if r["family"] == family]
        accs = [r["accuracy"] for r in fam]
        worst = int(np.argmin(accs)) if min(accs) < overall else -1
        colors = ["#d83b3b" if i == worst else "#3b7dd8" for i in range(len(fam))]
        ax.barh([f"{r['slice']} (n={r['n']})" for r in fam], accs, color=colors)
        ax.axvline(overall, color="black", linestyle=":", linewidth=1)
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.set_title(family, fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel(f"accuracy (dotted: overall {overall:.1%})")
    fig.tight_layout()
    return save(fig, path)


def robustness_curve(name: str, levels: Sequence[Any], unit: str, accuracies: dict[str, Sequence[float]],
                     path: Path, ax: Any = None) -> Path | None:
    """Accuracy vs severity for one corruption, one line per model. With `ax`, draws there only."""
    own = ax is None
    if own:
        fig, ax = subplots(figsize=(5, 3.5))
    for model, accs in accuracies.items():
        ax.plot(range(len(levels)), accs, marker="o", label=model)
    ax.set_xticks(range(len(levels)), [f"{v:g}" if isinstance(v, float) else str(v) for v in levels], fontsize=7)
    ax.set_xlabel(f"severity ({unit})", fontsize=8)
    ax.set_ylabel("accuracy", fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title(name, fontsize=9)
    ax.legend(fontsize=7)
    return save(fig, path) if own else None


def robustness_overview(curves: dict[str, tuple[Sequence[Any], str, dict[str, Sequence[float]]]], path: Path) -> Path:
    cols = 3
    rows = int(np.ceil(len(curves) / cols))
    fig, axes = subplots(rows, cols, figsize=(5 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat[len(curves):]:
        ax.axis("off")
    for ax, (name, (levels, unit, accs)) in zip(axes.flat, curves.items()):
        robustness_curve(name, levels, unit, accs, path, ax=ax)
    fig.tight_layout()
    return save(fig, path)
