"""Accuracy benchmark: the default config over 3 seeds vs the codelab models, on the test split.

    .venv/bin/python bench/accuracy.py [--seeds 0 1 2] [--out bench/results/accuracy.json]

Each model trains on the vendored train split (validation from the train split only) and is
evaluated ONCE on the official Sign-MNIST test split. The seed codelab's published models are
evaluated as shipped (TF.js weights imported, 26 outputs mapped to 24 letters). Prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from signlens import config  # noqa: E402
from signlens.data import load  # noqa: E402
from signlens.evaluate import evaluate  # noqa: E402
from signlens.modelref import resolve  # noqa: E402
from signlens.train import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The codelab's recipes: Adam, default learning rate, no augmentation.
CODELAB = {"cnn": dict(model="cnn", epochs=10, batch_size=128, learning_rate=1e-3),
           "mlp": dict(model="mlp", epochs=20, batch_size=128, learning_rate=1e-3)}


def _size_kb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--skip-codelab", action="store_true")
    p.add_argument("--seed-models", default=str(ROOT.parent / "shared" / "anchors" / "seed-codelab"),
                   help="directory with the seed's TF.js cnn/ and mlp/ (skipped if absent)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "accuracy.json"))
    args = p.parse_args()

    train_data, test = load(split="train"), load(split="test")
    rows = []
    seed_dir = Path(args.seed_models)
    for name in ("cnn", "mlp"):
        if (seed_dir / name / "model.json").exists():
            art = resolve(seed_dir / name)
            weights = seed_dir / name / "group1-shard1of1.bin"
            rows.append(dict(model=f"seed codelab {name} (published weights)", seed="-",
                             test_accuracy=evaluate(art, test)["accuracy"], train_seconds=None,
                             size_kb=weights.stat().st_size / 1024))
    runs = [("signlens default", config.load(ROOT / "configs" / "default.toml", {"seed": s})) for s in args.seeds]
    if not args.skip_codelab:
        runs += [(f"codelab {n} retrained", config.build({**c, "seed": 0})) for n, c in CODELAB.items()]
    with tempfile.TemporaryDirectory() as tmp:
        for label, cfg in runs:
            out = Path(tmp) / f"{cfg.model}-{cfg.seed}"
            started = time.perf_counter()
            result = train(cfg, out, data=train_data, verbose=0)
            seconds = time.perf_counter() - started
            acc = evaluate(resolve(out), test)["accuracy"]
            rows.append(dict(model=label, seed=cfg.seed, test_accuracy=acc, train_seconds=round(seconds, 1),
                             val_accuracy=result.metrics.get("val_accuracy"),
                             size_kb=(out / "model.keras").stat().st_size / 1024))
            print(f"  {label} seed {cfg.seed}: test {acc:.4%} in {seconds:.0f}s", flush=True)

    print(f"\n{'model':42s} {'seed':>4s} {'test acc':>9s} {'train s':>8s} {'size KB':>8s}")
    for r in rows:
        secs = "-" if r["train_seconds"] is None else f"{r['train_seconds']:.0f}"
        print(f"{r['model']:42s} {str(r['seed']):>4s} {r['test_accuracy']:9.4%} {secs:>8s} {r['size_kb']:8.0f}")
    default = [r["test_accuracy"] for r in rows if r["model"] == "signlens default"]
    if default:
        print(f"\nsignlens default: mean test accuracy {sum(default) / len(default):.4%} over seeds {args.seeds}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "cpu_count": os.cpu_count()}, indent=1) + "\n")


if __name__ == "__main__":
    main()
