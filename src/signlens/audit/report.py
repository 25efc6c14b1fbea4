"""`signlens audit all`: the whole audit as one folder a person reads top to bottom (README.md + PNGs).

Order follows the questions one asks of data before trusting a number: are the splits independent
(near-duplicates), are the labels right (suspects), whom does the model fail (slices), and what
breaks it (corruptions). Each section is written by its own module into its own subfolder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from signlens.audit import label_issues as labels_audit
from signlens.audit import robustness
from signlens.audit import slices
from signlens.audit import duplicates as data_audit
from signlens.data.dataset import Dataset

if TYPE_CHECKING:
    from signlens.models.artifact import Artifact


def _pct(v: float) -> str:
    return f"{v:.1%}"


def _data_section(s: dict[str, Any]) -> list[str]:
    out = ["## 1. Near-duplicates and leakage", "",
           f"Images are compared by a {s['signature']} signature; two images closer than **{s['threshold']}** are "
           "near-duplicates and linked into clusters. The histogram shows why this threshold: augmented copies "
           "of one photo sit far left, distinct photos to the right.", "",
           "![distance histogram](data/distance_histogram.png)", "",
           "| split | rows | clusters | singletons | largest | median size | exact-dup groups | mixed-letter clusters |",
           "|---|---|---|---|---|---|---|---|"]
    for split in ("train", "test"):
        if split in s:
            c = s[split]
            out.append(f"| {split} | {c['n']} | {c['clusters']} | {c['singletons']} | {c['largest']} | "
                       f"{c['median_size']:g} | {c['exact_duplicate_groups']} | {c['mixed_label_clusters']} |")
    if "train_test" in s:
        t = s["train_test"]
        out += ["", f"**{t['test_rows_with_near_duplicate_in_train']}** test rows have a near-duplicate in train "
                f"({t['train_clusters_touched']} train clusters; {t['label_disagreements']} of them labelled with "
                f"another letter; {t['exact_duplicates']} byte-identical). Pairs: `data/train_test_pairs.csv`."]
        if t["test_rows_with_near_duplicate_in_train"]:
            out += ["", "![closest pairs](data/train_test_pairs.png)"]
    out += ["", "Largest clusters (one per row) — what a random validation split leaks:", "",
            "![clusters](data/clusters.png)", "",
            "Cluster id per training row: `data/train_clusters.csv`. `val_split = \"grouped\"` keeps each cluster "
            "on one side of the train/validation split.", ""]
    return out


def _labels_section(s: dict[str, Any]) -> list[str]:
    out = ["## 2. Likely wrong labels", "",
           f"Out-of-fold probabilities from {s['folds']}-fold cross-validation grouped by cluster ({s['model']}; "
           f"out-of-fold accuracy {_pct(s['out_of_fold_accuracy'])}), ranked by cleanlab. **{s['suspects']}** rows "
           "are flagged; review `labels/label_suspects.csv`, keep the rows that really are wrong, and train "
           "without them: `signlens train exclude=labels/label_suspects.csv`.", "",
           "| row | given | suggested | label quality |", "|---|---|---|---|"]
    out += [f"| {t['id']} | {t['given']} | {t['suggested']} | {t['label_quality']:.3f} |" for t in s["top"]]
    return out + (["", "![suspects](labels/label_suspects.png)", ""] if s["suspects"] else [""])


def _slices_section(name: str, folder: str, s: dict[str, Any]) -> list[str]:
    out = [f"### {name}: accuracy {_pct(s['accuracy'])} on {s['n']} images", "",
           ("Worst slices: " + "; ".join(f"{r['family']} **{r['slice']}** {_pct(r['accuracy'])} (n={r['n']})"
                                         for r in s["worst"])) if s["worst"] else "No slice is below the overall accuracy.", "",
           "| family | slice | n | accuracy |", "|---|---|---|---|"]
    worst = {(r["family"], r["slice"]) for r in s["worst"]}
    for r in s["slices"]:
        acc = _pct(r["accuracy"])
        out.append(f"| {r['family']} | {r['slice']} | {r['n']} | {f'**{acc}**' if (r['family'], r['slice']) in worst else acc} |")
    return out + ["", f"![slices]({folder}/slices.png)", ""]


def _robustness_section(s: dict[str, Any]) -> list[str]:
    models = s["models"]
    out = ["## 4. Robustness to corruptions", "",
           f"Accuracy on {s['n']} images under each corruption at severities 0 (clean) to 5; the same seeded "
           "corruptions for every model.", "", "![robustness](robustness/robustness.png)", "",
           "![examples](robustness/corruption_examples.png)", "",
           "| corruption | severity | level | " + " | ".join(models) + " |", "|---" * (3 + len(models)) + "|"]
    out += [f"| {r['corruption']} | {r['severity']} | {r['level']:g} | " + " | ".join(_pct(r[m]) for m in models) + " |"
            for r in s["rows"]]
    return out + [""]


def write(out_dir: Path, train: Dataset, test: Dataset, arts: list["Artifact"], folds: int = 5,
          max_images: int | None = None, seed: int = 0) -> Path:
    """Run every audit and write out_dir/README.md linking the figures; returns the README path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = ["# signlens data and model audit", "",
             f"Train: `{train.source}` ({len(train)} rows, {train.fingerprint[:19]}). "
             f"Test: `{test.source}` ({len(test)} rows, {test.fingerprint[:19]}). "
             f"Models: {', '.join(a.name for a in arts) or 'none'}.", ""]
    lines += _data_section(data_audit.audit(train, test, out_dir / "data"))
    lines += _labels_section(labels_audit.audit(train, out_dir / "labels", folds=folds, seed=seed))
    if arts:
        lines += ["## 3. Slices: whom does the model fail?", "",
                  "Slices from the images themselves (terciles of this split's own statistics); worst in bold / red.", ""]
        for i, art in enumerate(arts):
            folder = f"slices/{i + 1}-{art.name}"
            lines += _slices_section(art.name, folder, slices.run(art, test, out_dir / folder))
        lines += _robustness_section(robustness.run(arts, test, out_dir / "robustness", max_images, seed))
    path = out_dir / "README.md"
    path.write_text("\n".join(lines) + "\n")
    return path
