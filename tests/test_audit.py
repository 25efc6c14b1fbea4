"""The audit finds what was planted: near-duplicates, flipped labels, a dark slice; corruptions at
severity 0 change nothing. Synthetic data only (tests/synthetic.py), a few seconds per test."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from signlens.audit import label_issues as labels_audit
from signlens.audit import robustness
from signlens.audit import slices
from signlens.audit import duplicates as data_audit
from signlens.data.dataset import Dataset
from signlens.data.fingerprint import fingerprint
from signlens.data.groups import cluster_ids, grouped_split
from signlens.data.split import split_indices, train_val_split
from tests.synthetic import make_arrays


def _dataset(x: np.ndarray, y: np.ndarray, name: str = "synthetic") -> Dataset:
    return Dataset(x, y, name, fingerprint(x, y), tuple(f"line {i + 2}" for i in range(len(y))))


def _near_copy(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What augmentation does to a photo: a little noise and a brightness change."""
    return np.clip(img * rng.uniform(0.9, 1.1) + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def planted() -> tuple[Dataset, Dataset, list[list[int]]]:
    """Train: 24×6 distinct images + 5 copies each of 10 of them; test: 24×3 distinct + 3 copies of train images."""
    rng = np.random.default_rng(7)
    x, y = make_arrays(per_letter=6, seed=3)
    families: list[list[int]] = []
    xs, ys = [x], [y]
    for src in rng.choice(len(x), 10, replace=False):
        start = sum(len(a) for a in xs)
        xs.append(np.stack([_near_copy(x[src], rng) for _ in range(5)]))
        ys.append(np.full(5, y[src]))
        families.append([int(src), *range(start, start + 5)])
    xs.append(x[:2])  # two byte-identical copies
    ys.append(y[:2])
    families += [[0, len(np.concatenate(ys)) - 2], [1, len(np.concatenate(ys)) - 1]]
    train = _dataset(np.concatenate(xs), np.concatenate(ys), "train.csv")
    tx, ty = make_arrays(per_letter=3, seed=4)
    tx = np.concatenate([tx, np.stack([_near_copy(x[i], rng) for i in (5, 50, 100)])])
    ty = np.concatenate([ty, y[[5, 50, 100]]])
    return train, _dataset(tx, ty, "test.csv"), families


def test_clusters_hold_exactly_the_planted_near_duplicates(planted) -> None:
    train, _, families = planted
    ids = cluster_ids(train.x)
    planted_rows = {r for fam in families for r in fam}
    for fam in families:
        assert len(set(ids[fam])) == 1, "a planted family was split"
    for r in set(range(len(train))) - planted_rows:
        assert (ids == ids[r]).sum() == 1, "an independent image was merged into a cluster"


def test_data_audit_reports_duplicates_and_train_test_pairs(planted, tmp_path: Path) -> None:
    train, test, _ = planted
    s = data_audit.audit(train, test, tmp_path)
    assert s["train"]["exact_duplicate_groups"] == 2
    assert s["train"]["mixed_label_clusters"] == 0
    tt = s["train_test"]
    assert tt["test_rows_with_near_duplicate_in_train"] == 3 and tt["label_disagreements"] == 0
    with open(tmp_path / "train_test_pairs.csv") as f:
        pairs = list(csv.DictReader(f))
    assert {p["test_id"] for p in pairs} == {f"line {len(test) - k + 2}" for k in (1, 2, 3)}
    for png in ("distance_histogram.png", "clusters.png", "train_test_pairs.png"):
        assert (tmp_path / png).stat().st_size > 1000
    assert "3 test rows have a near-duplicate" in data_audit.format_summary(s)


def test_grouped_split_keeps_each_cluster_on_one_side(planted) -> None:
    train, _, families = planted
    groups = cluster_ids(train.x)
    for seed in range(5):
        tr, val = split_indices(train.y, 0.25, seed, "grouped", groups)
        assert len(np.intersect1d(groups[tr], groups[val])) == 0
        assert sorted(np.concatenate([tr, val])) == list(range(len(train)))
        assert 0.15 < len(val) / len(train) < 0.35
    a, b = train_val_split(train, 0.25, 0, "grouped")
    assert len(a) + len(b) == len(train)


def test_grouped_split_is_roughly_stratified_and_seeded() -> None:
    y = np.repeat(np.arange(4), 40)
    groups = np.arange(160) // 4  # clusters of 4 within one letter
    tr, val = grouped_split(y, groups, 0.25, seed=1)
    assert np.abs(np.bincount(y[val], minlength=4) - 10).max() <= 2  # quota 10, whole groups of 4
    assert np.array_equal(val, grouped_split(y, groups, 0.25, seed=1)[1])


def test_grouped_split_needs_groups() -> None:
    from signlens.errors import SignlensError

    with pytest.raises(SignlensError, match="group"):
        split_indices(np.zeros(10, int), 0.2, 0, "grouped")


def test_cleanlab_ranks_flipped_labels_first(tmp_path: Path) -> None:
    x, y = make_arrays(per_letter=15, seed=5)
    rng = np.random.default_rng(0)
    flipped = rng.choice(len(y), 8, replace=False)
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.integers(1, 24, 8)) % 24
    s = labels_audit.audit(_dataset(x, noisy), tmp_path, folds=5)
    with open(tmp_path / labels_audit.SUSPECTS_FILE) as f:
        rows = list(csv.DictReader(f))
    flipped_ids = {f"line {i + 2}" for i in flipped}
    top = rows[:7]  # cleanlab's pruning may leave one flip unflagged; the ones it ranks first must be flips
    assert {r["id"] for r in top} <= flipped_ids and len(top) == 7
    assert all(r["suggested"] == "ABCDEFGHIKLMNOPQRSTUVWXY"[y[int(r["id"].split()[1]) - 2]] for r in top)
    assert len(rows) <= 10 and s["suspects"] == len(rows) and (tmp_path / "label_suspects.png").exists()


def test_slice_report_shows_the_planted_dark_slice_worst(tiny_artifact: Path, tmp_path: Path) -> None:
    from signlens.models.artifact import load

    x, y = make_arrays(per_letter=6, seed=11)
    dark = np.arange(len(y)) % 3 == 0  # a third of every letter, photographed in the dark
    x[dark] = (x[dark] * 0.12).astype(np.uint8)
    s = slices.run(load(tiny_artifact), _dataset(x, y, "test.csv"), tmp_path)
    brightness = {r["slice"]: r["accuracy"] for r in s["slices"] if r["family"] == "brightness"}
    assert brightness["dark"] < min(brightness["mid"], brightness["bright"]) - 0.3
    assert s["worst_image_slices"][0]["slice"] == "dark"
    assert (tmp_path / "slices.png").exists() and "← worst" in slices.format_summary(s)


@pytest.mark.parametrize("name", list(robustness.CORRUPTIONS))
def test_severity_zero_is_identity_and_higher_severities_change_images(name: str) -> None:
    x, _ = make_arrays(per_letter=2, seed=2)
    assert np.array_equal(robustness.corrupt(x, name, 0), x)
    assert not np.array_equal(robustness.corrupt(x, name, 5), x)
    assert np.array_equal(robustness.corrupt(x, name, 3, seed=1), robustness.corrupt(x, name, 3, seed=1))


def test_robustness_severity_zero_keeps_clean_accuracy(tiny_artifact: Path, tmp_path: Path) -> None:
    from signlens.models.artifact import load
    from signlens.inference.predictor import Predictor

    x, y = make_arrays(per_letter=4, seed=12)
    data = _dataset(x, y, "test.csv")
    art = load(tiny_artifact)
    s = robustness.run([art, art], data, tmp_path, max_images=24)
    index = np.sort(np.random.default_rng(0).choice(len(y), 24, replace=False))  # the seeded subsample
    clean = float((Predictor(art).probabilities(x[index]).argmax(axis=1) == y[index]).mean())
    assert s["models"] == [art.name, f"{art.name}#2"]
    for row in s["rows"]:
        if row["severity"] == 0:
            assert row[art.name] == row[f"{art.name}#2"] == pytest.approx(clean)
    assert (tmp_path / "robustness.png").exists() and (tmp_path / "robustness_gaussian_noise.png").exists()


def test_audit_data_cli(tiny_csv: Path, tiny_test_csv: Path, tmp_path: Path, capsys) -> None:
    from signlens.cli.main import main

    assert main(["audit", "data", "--train", str(tiny_csv), "--test", str(tiny_test_csv), "--out", str(tmp_path)]) == 0
    assert "train↔test: 0 test rows" in capsys.readouterr().out
    assert (tmp_path / "distance_histogram.png").exists() and (tmp_path / "train_clusters.csv").exists()


@pytest.mark.slow
def test_audit_all_cli_writes_a_readable_report(tiny_csv: Path, tiny_test_csv: Path, tiny_artifact: Path,
                                                tmp_path: Path) -> None:
    from signlens.cli.main import main

    out = tmp_path / "audit"
    assert main(["audit", "all", str(tiny_artifact), "--train", str(tiny_csv), "--test", str(tiny_test_csv),
                 "--out", str(out), "--folds", "3", "--max-images", "48"]) == 0
    text = (out / "README.md").read_text()
    for heading in ("## 1. Near-duplicates", "## 2. Likely wrong labels", "## 3. Slices", "## 4. Robustness"):
        assert heading in text
    for link in [line.split("](")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]:
        assert (out / link).exists(), link
