"""`signlens audit data|labels|slices|robustness|all`: the audit command group.

Every command defaults to the vendored Sign-MNIST (train for data and labels, test for model
audits) and writes under reports/audit/.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from signlens.cli import console, refs

DEFAULT_OUT = Path("reports/audit")


def _datasets(args: argparse.Namespace) -> tuple[Any, Any]:
    from signlens.data import load

    return load(args.train, "train"), load(args.test, "test")


def _artifacts(names: list[str | None]) -> list[Any]:
    for name in names:
        refs.check_model(name)
    console.import_tensorflow()
    return [refs.resolve(None if name == "default" else name) for name in (names or ["default"])]


def _data(args: argparse.Namespace) -> None:
    from signlens.audit import duplicates as audit

    train, test = _datasets(args)
    out = Path(args.out or DEFAULT_OUT / "data")
    kwargs = {} if args.threshold is None else {"threshold": args.threshold}
    print(audit.format_summary(audit.audit(train, test, out, **kwargs)))
    print(f"wrote {out}/ (distance_histogram.png, clusters.png, train_test_pairs.csv/.png, train_clusters.csv)")


def _labels(args: argparse.Namespace) -> None:
    from signlens.audit import label_issues as labels_audit
    from signlens.data import load

    out = Path(args.out or DEFAULT_OUT / "labels")
    print(labels_audit.format_summary(labels_audit.audit(load(args.train, "train"), out, args.folds, args.seed)))
    print(f"wrote {out}/{labels_audit.SUSPECTS_FILE} and label_suspects.png; after review: "
          f"signlens train exclude={out}/{labels_audit.SUSPECTS_FILE}")


def _slices(args: argparse.Namespace) -> None:
    model = _artifacts([args.model])[0]
    from signlens.audit import slices
    from signlens.data import load

    out = Path(args.out or DEFAULT_OUT / "slices")
    print(slices.format_summary(slices.run(model, load(args.test, "test"), out)))
    print(f"wrote {out}/slices.csv and slices.png")


def _robustness(args: argparse.Namespace) -> None:
    models = _artifacts(args.models)
    from signlens.audit import robustness
    from signlens.data import load

    out = Path(args.out or DEFAULT_OUT / "robustness")
    summary = robustness.run(models, load(args.test, "test"), out, args.max_images or None, args.seed)
    print(robustness.format_summary(summary))
    print(f"wrote {out}/robustness.csv, robustness.png and one robustness_<corruption>.png each")


def _all(args: argparse.Namespace) -> None:
    models = _artifacts(args.models)
    from signlens.audit import report as audit_report

    train, test = _datasets(args)
    path = audit_report.write(Path(args.out or DEFAULT_OUT), train, test, models, args.folds,
                              args.max_images or None, args.seed)
    print(f"wrote {path}")


def _command(cmds: argparse._SubParsersAction, name: str, help: str, func: Any) -> argparse.ArgumentParser:
    p = cmds.add_parser(name, help=help)
    p.add_argument("--train", help="training CSV/dir (default: vendored Sign-MNIST train split)")
    p.add_argument("--test", help="test CSV/dir (default: vendored Sign-MNIST test split)")
    p.add_argument("--out", help=f"output folder (default: {DEFAULT_OUT}/...)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=func)
    return p


def register_data_audit(cmds: argparse._SubParsersAction, name: str = "audit") -> None:
    """The duplicates audit; also reachable as `signlens data audit` beside describe/validate."""
    d = _command(cmds, name, "exact and near-duplicates within and across splits, distance histogram", _data)
    d.add_argument("--threshold", type=float, default=None, help="near-duplicate distance (default: data.groups.THRESHOLD)")


def register(sub: Any) -> None:
    """Add the `audit` command group to the top-level subparsers."""
    audit = sub.add_parser("audit", help="audit data and models: duplicates, labels, slices, robustness")
    cmds = audit.add_subparsers(dest="audit_command", required=True)

    register_data_audit(cmds, "data")
    lb = _command(cmds, "labels", "likely wrong labels (grouped out-of-fold + cleanlab), ranked CSV + grid", _labels)
    lb.add_argument("--folds", type=int, default=5)
    s = _command(cmds, "slices", "accuracy per slice (letter, brightness, contrast, sharpness, ...) on the test split", _slices)
    s.add_argument("model", nargs="?", default="default", help="artifact or TF.js dir (default: shipped model)")
    for name, help, func in (("robustness", "accuracy under corruptions at 6 severities; several models side by side", _robustness),
                             ("all", "write the whole audit as a report folder (README.md + PNGs)", _all)):
        p = _command(cmds, name, help, func)
        p.add_argument("models", nargs="*", help="artifact or TF.js dirs to compare (default: the shipped model)")
        p.add_argument("--max-images", type=int, default=2400, help="robustness subsample of the test split (0: all)")
        if name == "all":
            p.add_argument("--folds", type=int, default=5)
