"""Validation/test gap: a random vs a grouped validation split, over several seeds (issue 7).

    .venv/bin/python bench/valgap.py [--seeds 0 1 2] [--model cnn]     # ~10 min for the codelab CNN

A validation score is only useful if it predicts the test score. Sign-MNIST's train split holds
~20 augmented near-copies of each photo, so a random validation split scores images whose twins
were trained on. For each seed this trains the model twice with `signlens train` (the codelab
recipe by default), once per split method, and evaluates once on the official test split; the gap
is validation minus test accuracy, in points. One seed's grouped validation holds only ~180
clusters, so its gap moves by a point or two from seed to seed: the mean over seeds is the number.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import CODELAB, ROOT, _train  # noqa: E402

from signlens.data import load  # noqa: E402
from signlens.evaluation.evaluate import evaluate  # noqa: E402
from signlens.models.resolve import resolve  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--model", choices=[*CODELAB, "default"], default="cnn",
                   help="codelab recipe to train, or the default config (~7 min per run)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "valgap.json"))
    args = p.parse_args()

    test = load(split="test")
    recipe = [] if args.model == "default" else CODELAB[args.model]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for split in ("random", "grouped"):
                out = Path(tmp) / f"{split}-{seed}"
                seconds = _train(out, [*recipe, f"seed={seed}", f"val_split={split}"])
                art = resolve(out)
                val = art.meta["metrics"]["val_accuracy"]
                acc = evaluate(art, test)["accuracy"]
                rows.append(dict(model=args.model, seed=seed, split=split, val_accuracy=val, test_accuracy=acc,
                                 gap_pt=(val - acc) * 100, train_seconds=round(seconds, 1)))
                print(f"  seed {seed} {split:8s}: val {val:.2%} test {acc:.2%} gap {rows[-1]['gap_pt']:+.2f} pt "
                      f"({seconds:.0f}s)", flush=True)

    print(f"\n{args.model}: validation minus test accuracy, points")
    print(f"{'split':8s} " + " ".join(f"{'seed ' + str(s):>8s}" for s in args.seeds) + f" {'mean':>7s} {'mean |gap|':>10s}")
    for split in ("random", "grouped"):
        gaps = [r["gap_pt"] for r in rows if r["split"] == split]
        print(f"{split:8s} " + " ".join(f"{g:+8.2f}" for g in gaps)
              + f" {sum(gaps) / len(gaps):+7.2f} {sum(abs(g) for g in gaps) / len(gaps):10.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "cpu_count": os.cpu_count()}, indent=1) + "\n")


if __name__ == "__main__":
    main()
