"""`signlens audit data`: exact duplicates, near-duplicate clusters within and across splits.

Why: a validation or test image that is a near-copy of a training image measures memory, not
generalization. The audit counts such copies, writes them out (CSV + example grids) and plots the
nearest-neighbour distance histograms that justify the near-duplicate threshold (data.groups).
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors

from signlens import labels
from signlens.audit import figures as audit_plots
from signlens.evaluation import plots
from signlens.data.dataset import Dataset
from signlens.data.groups import THRESHOLD, cluster_ids, signatures

SUMMARY_FILE = "data_audit.json"


def _nearest(query: np.ndarray, reference: np.ndarray, skip_self: bool) -> tuple[np.ndarray, np.ndarray]:
    """Distance and index of each query signature's nearest reference (not itself when skip_self)."""
    k = 2 if skip_self else 1
    if len(reference) < k:
        return np.full(len(query), np.inf), np.full(len(query), -1)
    dist, idx = NearestNeighbors(n_neighbors=k).fit(reference).kneighbors(query)
    return dist[:, k - 1], idx[:, k - 1]


def exact_duplicate_groups(x: np.ndarray) -> list[list[int]]:
    """Rows whose 784 bytes are identical, as lists of row indices (only groups of 2+)."""
    by_hash: dict[str, list[int]] = {}
    for i, img in enumerate(x):
        by_hash.setdefault(hashlib.sha1(img.tobytes()).hexdigest(), []).append(i)
    return [rows for rows in by_hash.values() if len(rows) > 1]


def cluster_summary(data: Dataset, ids: np.ndarray) -> dict[str, Any]:
    sizes = np.bincount(ids)
    multi = np.flatnonzero(sizes > 1)
    mixed = [int(c) for c in multi if len(np.unique(data.y[ids == c])) > 1]
    return {
        "n": len(data), "clusters": int(len(sizes)), "singletons": int((sizes == 1).sum()),
        "rows_in_multi_clusters": int(sizes[multi].sum()), "largest": int(sizes.max()) if len(sizes) else 0,
        "median_size": float(np.median(sizes)) if len(sizes) else 0.0,
        "mixed_label_clusters": len(mixed), "mixed_label_examples": mixed[:20],
        "exact_duplicate_groups": len(exact_duplicate_groups(data.x)),
    }


def _cluster_grid(data: Dataset, ids: np.ndarray, path: Path, n_clusters: int = 8, per: int = 10) -> None:
    """One row per cluster (largest first): shows what 'near-duplicate' means at this threshold."""
    sizes = np.bincount(ids)
    images, titles = [], []
    for c in np.argsort(-sizes, kind="stable")[:n_clusters]:
        members = np.flatnonzero(ids == c)[:per]
        images += list(data.x[members]) + [np.zeros((28, 28), np.uint8)] * (per - len(members))
        titles += [f"#{c} {labels.LETTERS[data.y[i]]}" for i in members] + [""] * (per - len(members))
    plots.image_grid(np.array(images), titles, path, cols=per, title="Largest near-duplicate clusters (one per row)")


def _pairs_grid(train: Dataset, test: Dataset, pairs: list[dict[str, Any]], path: Path, n: int = 12) -> None:
    images, titles = [], []
    for p in pairs[:n]:
        images += [test.x[p["test_row"]], train.x[p["train_row"]]]
        titles += [f"test {p['test_letter']}", f"train {p['train_letter']} d={p['distance']:.3f}"]
    if images:
        plots.image_grid(np.array(images), titles, path, cols=8, title="Closest test↔train pairs (test, train)")


def audit(train: Dataset, test: Dataset | None, out_dir: Path, threshold: float = THRESHOLD) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    f_train = signatures(train.x)
    train_ids = cluster_ids(train.x, threshold)
    summary: dict[str, Any] = {"threshold": threshold, "signature": "7×7 area-downscaled, zero-mean, unit-length",
                               "train": {"source": train.source, **cluster_summary(train, train_ids)}}
    d_train, _ = _nearest(f_train, f_train, skip_self=True)
    histograms = {"train: nearest other train image": d_train}
    with open(out_dir / "train_clusters.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "cluster", "letter"])
        w.writerows((row_id, int(c), labels.LETTERS[y]) for row_id, c, y in zip(train.ids, train_ids, train.y))
    _cluster_grid(train, train_ids, out_dir / "clusters.png")

    if test is not None:
        f_test = signatures(test.x)
        summary["test"] = {"source": test.source, **cluster_summary(test, cluster_ids(test.x, threshold))}
        d_test, _ = _nearest(f_test, f_test, skip_self=True)
        d_cross, nearest = _nearest(f_test, f_train, skip_self=False)
        histograms["test: nearest other test image"] = d_test
        histograms["test: nearest train image"] = d_cross
        close = np.flatnonzero(d_cross <= threshold)
        pairs = sorted(({
            "test_id": test.ids[i], "train_id": train.ids[nearest[i]], "distance": float(d_cross[i]),
            "test_letter": labels.LETTERS[test.y[i]], "train_letter": labels.LETTERS[train.y[nearest[i]]],
            "test_row": int(i), "train_row": int(nearest[i]),
        } for i in close), key=lambda p: p["distance"])
        train_hashes = {hashlib.sha1(img.tobytes()).hexdigest() for img in train.x}
        summary["train_test"] = {
            "test_rows_with_near_duplicate_in_train": len(pairs),
            "train_clusters_touched": len({int(train_ids[p["train_row"]]) for p in pairs}),
            "label_disagreements": sum(p["test_letter"] != p["train_letter"] for p in pairs),
            "exact_duplicates": sum(hashlib.sha1(img.tobytes()).hexdigest() in train_hashes for img in test.x),
            "nearest_distance_quantiles": {q: float(np.quantile(d_cross, float(q))) for q in ("0.01", "0.5")},
        }
        with open(out_dir / "train_test_pairs.csv", "w", newline="") as f:
            w = csv.DictWriter(f, ["test_id", "train_id", "distance", "test_letter", "train_letter"], extrasaction="ignore")
            w.writeheader()
            w.writerows(pairs)
        _pairs_grid(train, test, pairs, out_dir / "train_test_pairs.png")
    summary["nearest_distance_quantiles"] = {
        name: {q: float(np.quantile(d, float(q))) for q in ("0.01", "0.5", "0.99")} for name, d in histograms.items()
    }
    audit_plots.distance_histogram(histograms, threshold, out_dir / "distance_histogram.png")
    (out_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def format_summary(s: dict[str, Any]) -> str:
    lines = [f"near-duplicate threshold {s['threshold']} on {s['signature']} signatures"]
    for split in ("train", "test"):
        if split in s:
            c = s[split]
            lines.append(
                f"{split}: {c['n']} rows in {c['clusters']} clusters ({c['singletons']} singletons, largest "
                f"{c['largest']}, median {c['median_size']:g}); {c['exact_duplicate_groups']} exact-duplicate groups; "
                f"{c['mixed_label_clusters']} clusters with more than one letter"
            )
    if "train_test" in s:
        t = s["train_test"]
        lines.append(
            f"train↔test: {t['test_rows_with_near_duplicate_in_train']} test rows have a near-duplicate in train "
            f"({t['train_clusters_touched']} train clusters, {t['label_disagreements']} with another letter); "
            f"{t['exact_duplicates']} exact duplicates"
        )
    return "\n".join(lines)
