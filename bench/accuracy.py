"""Accuracy benchmark: the default config over 3 seeds vs the codelab models, on the test split.

    .venv/bin/python bench/accuracy.py [--seeds 0 1 2] [--save-seed0 models/default] [--float32-row]

Each model is trained by the user's own command, `signlens train --config ... seed=N`, in a fresh
process (so a seeded run here is the same run a user gets), on the vendored train split with
validation from the train split only, and evaluated ONCE on the official Sign-MNIST test split.
The seed codelab's published models are evaluated as shipped (TF.js weights imported, 26 outputs
mapped to 24 letters). Prints a table; `--save-seed0` keeps the seed-0 default artifact.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from signlens.data import load  # noqa: E402
from signlens.evaluation.evaluate import evaluate  # noqa: E402
from signlens.models.resolve import resolve  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The codelab's recipes: Adam, default learning rate, no augmentation, float32.
CODELAB = {"cnn": ["model=cnn", "epochs=10", "augment=false", "label_smoothing=0", "schedule=constant",
                   "learning_rate=0.001", "precision=float32"],
           "mlp": ["model=mlp", "epochs=20", "augment=false", "label_smoothing=0", "schedule=constant",
                   "learning_rate=0.001", "precision=float32"]}


def _train(out: Path, overrides: list[str]) -> float:
    """Run `signlens train` as a user would; returns wall seconds."""
    cmd = [sys.executable, "-m", "signlens.cli.main", "train", "--config", str(ROOT / "configs" / "default.toml"),
           "--out", str(out), "--no-track", *overrides]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _size_kb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="default-config seeds (none: codelab rows only)")
    p.add_argument("--skip-codelab", action="store_true")
    p.add_argument("--float32-row", action="store_true",
                   help="also train seed 0 with precision=float32: what bfloat16 buys on this CPU")
    p.add_argument("--seed-models", default=str(ROOT.parent / "shared" / "anchors" / "seed-codelab"),
                   help="directory with the seed's TF.js cnn/ and mlp/ (skipped if absent)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "accuracy.json"))
    p.add_argument("--save-seed0", help="copy the seed-0 default artifact here (e.g. models/default)")
    args = p.parse_args()

    test = load(split="test")
    rows = []
    seed_dir = Path(args.seed_models)
    for name in ("cnn", "mlp"):
        if (seed_dir / name / "model.json").exists():
            art = resolve(seed_dir / name)
            weights = seed_dir / name / "group1-shard1of1.bin"
            rows.append(dict(model=f"seed codelab {name} (published weights)", seed="-",
                             test_accuracy=evaluate(art, test)["accuracy"], train_seconds=None,
                             size_kb=weights.stat().st_size / 1024))
    runs = [("signlens default", s, [f"seed={s}"]) for s in args.seeds]
    if args.float32_row:
        runs.append(("signlens default, precision=float32", 0, ["seed=0", "precision=float32"]))
    if not args.skip_codelab:
        runs += [(f"codelab {n} retrained", 0, c + ["seed=0"]) for n, c in CODELAB.items()]
    with tempfile.TemporaryDirectory() as tmp:
        for label, seed, overrides in runs:
            out = Path(tmp) / f"{label.replace(' ', '-')}-{seed}"
            seconds = _train(out, overrides)
            art = resolve(out)
            acc = evaluate(art, test)["accuracy"]
            rows.append(dict(model=label, seed=seed, test_accuracy=acc, train_seconds=round(seconds, 1),
                             val_accuracy=art.meta["metrics"].get("val_accuracy"),
                             size_kb=(out / "model.keras").stat().st_size / 1024))
            print(f"  {label} seed {seed}: val {rows[-1]['val_accuracy']:.4%}, test {acc:.4%}, {seconds:.0f}s", flush=True)
            if args.save_seed0 and label == "signlens default" and seed == 0:
                shutil.rmtree(args.save_seed0, ignore_errors=True)
                shutil.copytree(out, args.save_seed0)

    print(f"\n{'model':42s} {'seed':>4s} {'val acc':>8s} {'test acc':>9s} {'train s':>8s} {'size KB':>8s}")
    for r in rows:
        secs = "-" if r["train_seconds"] is None else f"{r['train_seconds']:.0f}"
        val = "-" if r.get("val_accuracy") is None else f"{r['val_accuracy']:.2%}"
        print(f"{r['model']:42s} {str(r['seed']):>4s} {val:>8s} {r['test_accuracy']:9.4%} {secs:>8s} {r['size_kb']:8.0f}")
    default = [r["test_accuracy"] for r in rows if r["model"] == "signlens default"]
    if default:
        print(f"\nsignlens default: mean test accuracy {sum(default) / len(default):.4%} over seeds {args.seeds}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "cpu_count": os.cpu_count()}, indent=1) + "\n")


if __name__ == "__main__":
    main()
