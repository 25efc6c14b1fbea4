"""`signlens data describe|validate|verify|audit|make-tiny`: looking at datasets before training on them."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import random
import sys
from pathlib import Path

from signlens import paths
from signlens.errors import SignlensError

#: Sign-MNIST's split files inside the vendored data directory (gzipped, listed in SHA256SUMS).
SPLIT_FILES = {"train": "sign_mnist_train.csv.gz", "test": "sign_mnist_test.csv.gz"}


def _describe(args: argparse.Namespace) -> None:
    from signlens.data import load
    from signlens.data.describe import describe

    data = load(args.data, args.split, skip_invalid=args.skip_invalid)
    summary = describe(data, Path(args.out))
    print(f"{summary['source']}: {summary['n']} images, {data.fingerprint}")
    for letter, n in summary["counts"].items():
        print(f"  {letter}  {n:6d}  {'█' * max(1 if n else 0, round(40 * n / max(summary['counts'].values())))}")
    print(f"wrote {args.out}/label_histogram.png and {args.out}/samples.png")


def _validate(args: argparse.Namespace) -> None:
    from signlens.data import load

    data = load(args.path, args.split, skip_invalid=args.skip_invalid)
    for err in data.skipped:
        print(f"skipped: {err}", file=sys.stderr)
    print(f"{data.source}: {len(data)} valid rows, {len(data.skipped)} skipped; fingerprint {data.fingerprint}")


def _verify(args: argparse.Namespace) -> None:
    root = paths.embedded_data_dir()
    ok = True
    for line in (root / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        with gzip.open(root / f"{name}.gz", "rb") as f:
            actual = hashlib.file_digest(f, "sha256").hexdigest()
        ok &= actual == digest
        print(f"{'OK ' if actual == digest else 'BAD'} {name}")
    if not ok:
        raise SignlensError("vendored data does not match SHA256SUMS")


def sample_rows(source: Path, per_letter: int, seed: int) -> tuple[str, list[str]]:
    """The header and `per_letter` random rows of each label of a Sign-MNIST CSV, in file order.

    Rows are copied as they are (the vendored data is checked against SHA256SUMS), so the sample
    is valid wherever the source is.
    """
    with gzip.open(source, "rt", newline="") as f:
        header, *rows = f.read().splitlines()
    by_label: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_label.setdefault(row.partition(",")[0], []).append(i)
    rng = random.Random(seed)
    picked = sorted(i for label in sorted(by_label, key=int)
                    for i in rng.sample(by_label[label], min(per_letter, len(by_label[label]))))
    return header, [rows[i] for i in picked]


def _make_tiny(args: argparse.Namespace) -> None:
    if args.per_letter < 1:
        raise SignlensError("--per-letter must be at least 1")
    out = Path(args.out)
    if out.suffix != ".csv":
        raise SignlensError(f"{out}: give a .csv file name")
    source = paths.embedded_data_dir() / SPLIT_FILES[args.split]
    if not source.exists():
        raise SignlensError(f"{source}: vendored Sign-MNIST not found (set SIGNLENS_DATA_DIR)")
    header, rows = sample_rows(source, args.per_letter, args.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join([header, *rows]) + "\n")
    letters = len({row.partition(",")[0] for row in rows})
    print(f"wrote {out}: {len(rows)} rows ({letters} letters, up to {args.per_letter} each) "
          f"sampled from Sign-MNIST {args.split} with seed {args.seed}")


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="inspect and validate datasets").add_subparsers(dest="data_command", required=True)
    d = data.add_parser("describe", help="counts per letter, label histogram and sample grid")
    d.add_argument("--data", help="CSV, dir or image folder (default: vendored Sign-MNIST)")
    d.add_argument("--split", default="train", choices=["train", "test"])
    d.add_argument("--out", default="reports/data", help="where the PNGs go")
    d.add_argument("--skip-invalid", action="store_true")
    d.set_defaults(func=_describe)
    v = data.add_parser("validate", help="check a CSV or image folder: the first problem stops it, named by "
                        "file, row and column (--skip-invalid lists every bad row)")
    v.add_argument("path")
    v.add_argument("--split", default="train", choices=["train", "test"])
    v.add_argument("--skip-invalid", action="store_true", help="report and skip bad rows instead of stopping")
    v.set_defaults(func=_validate)
    data.add_parser("verify", help="check the vendored CSVs against SHA256SUMS").set_defaults(func=_verify)
    from signlens.cli.audit import register_data_audit

    register_data_audit(data)  # `signlens data audit` = `signlens audit data`
    t = data.add_parser("make-tiny", help="write a small Sign-MNIST CSV sampled from the vendored data "
                        "(quick experiments, the README's examples)")
    t.add_argument("out", metavar="OUT.csv")
    t.add_argument("--per-letter", type=int, default=100, help="rows per letter (24 letters)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--split", default="train", choices=["train", "test"], help="Sign-MNIST split to sample")
    t.set_defaults(func=_make_tiny)
