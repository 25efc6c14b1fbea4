"""Calibration and "no hand": ECE before/after temperature scaling, and how often "no hand" is said.

    PYTHONPATH=src .venv/bin/python bench/calibration.py [MODEL] --photos ../shared/data/real-photos-dev

Grids: the temperature is fitted on the model's own grouped validation split of the *training*
split (never the test split); the Sign-MNIST test split is only measured, with that temperature.
Photos: leave-one-signer-out: each signer's ECE uses a temperature fitted on the other signer's
photos only. When MODEL's head learnt from these very photos (the shipped default), each signer's
predictions come from a head refit with the recorded recipe without that signer's photos
(evaluation/loso_refit.py: two refits, ~5 min each on 2 cores), as `signlens calibrate` fits them. MODEL's stored calibration is ignored: everything starts from raw answers. 15
equal-width bins. The ECE a perfectly calibrated model would still show on so few photos (its
sampling noise) is printed beside it. "No hand": how often it is said on the dev photos and the
committed examples (should be never) and on made-up non-hands (should be always).
Writes bench/results/calibration.txt and reliability-{grids,photos}.png.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests import nonhands  # noqa: E402

from signlens.data import load  # noqa: E402
from signlens.evaluation import calibrate, calibration, loso_refit  # noqa: E402
from signlens.inference.predictor import Predictor  # noqa: E402
from signlens.models.resolve import resolve  # noqa: E402
from signlens.vision import hand, landmarks  # noqa: E402
from signlens.vision.preprocess import Preprocessed, decode_image  # noqa: E402

RESULTS = ROOT / "bench" / "results"
HOLD_CONFIDENCE = 0.6  # the page's fingerspelling default (serving/settings.py)


def noise_floor(probs: np.ndarray, n: int, draws: int = 500, seed: int = 0) -> float:
    """Mean ECE of a *perfectly* calibrated model with these confidences, on n answers: each answer
    right with probability equal to its confidence. Below this, ECE on n answers says nothing."""
    rng = np.random.default_rng(seed)
    conf = probs.max(axis=1)
    out = []
    for _ in range(draws):
        c = conf[rng.integers(0, len(conf), n)]
        two = np.stack([c, 1 - c], axis=1)
        out.append(calibration.ece(two, np.where(rng.random(n) < c, 0, 1)))
    return float(np.mean(out))


def grids(predictor: Predictor, art) -> None:
    val = calibrate.grid_validation(art)
    held = calibrate.grid_heldout(predictor, val, art.meta["config"].get("val_split", "random"))
    rec = calibrate.grid_record(held)
    t = rec["temperature"]
    test = load(split="test")
    test_probs = predictor.with_hands(predictor.probabilities(test.x), calibrated=False)
    print(f"grids: temperature {t} fitted on {held.data}")
    print(f"{'data':<40} {'n':>6} {'accuracy':>9} {'ECE before':>11} {'ECE after':>10}")
    print(f"{'grouped validation (fit here)':<40} {rec['n']:>6} {rec['accuracy']:>9.4f} {rec['ece_before']:>11.4f} "
          f"{rec['ece_after']:>10.4f}")
    acc = float((test_probs.argmax(1) == test.y).mean())
    print(f"{'Sign-MNIST test (measured only)':<40} {len(test):>6} {acc:>9.4f} "
          f"{calibration.ece(test_probs, test.y):>11.4f} {calibration.ece(calibration.temper(test_probs, t), test.y):>10.4f}")
    calibration.reliability_diagram(
        {"validation, before": (held.probs, held.y), f"validation, T={t}": (calibration.temper(held.probs, t), held.y),
         f"test, T={t}": (calibration.temper(test_probs, t), test.y)},
        RESULTS / "reliability-grids.png", f"{art.name} ({art.version}): grids")


def photos(predictor: Predictor, art, folder: str) -> None:
    data = load(folder)
    refit = loso_refit.head_trained_on(art, data)
    held, who = (loso_refit.heldout(art, predictor, data, progress=False) if refit
                 else calibrate.photo_heldout(predictor, data))
    rec = calibrate.photo_record(held, who)
    loso_probs = np.empty_like(held.probs)
    print(f"\nphotos: {held.data}; leave-one-signer-out"
          + ("\n(the head learnt these photos: every figure below is on LOSO refit predictions)" if refit else ""))
    print(f"{'tested signer':<14} {'n':>4} {'accuracy':>9} {'T (other signer)':>17} {'ECE before':>11} "
          f"{'ECE after':>10} {'noise floor':>12} {'NLL before/after':>17} {f'conf>={HOLD_CONFIDENCE} before/after':>24}")
    for signer, v in rec["loso"].items():
        m = who == signer
        loso_probs[m] = calibration.temper(held.probs[m], v["temperature_from_others"])
        above = [(p.max(1) >= HOLD_CONFIDENCE).mean() for p in (held.probs[m], loso_probs[m])]
        print(f"{signer:<14} {v['n']:>4} {v['accuracy']:>9.4f} {v['temperature_from_others']:>17} {v['ece_before']:>11.4f} "
              f"{v['ece_after']:>10.4f} {noise_floor(loso_probs[m], v['n']):>12.4f} "
              f"{v['nll_before']:>8.3f} / {v['nll_after']:.3f} {above[0]:>14.0%} / {above[1]:.0%}")
    print(f"{'both (weighted)':<14} {rec['n']:>4} {'':>9} {'':>17} {rec['loso_ece_before']:>11.4f} {rec['loso_ece_after']:>10.4f}")
    print(f"shipped photo temperature (fitted on all {rec['n']}{' LOSO refit predictions' if refit else ''}): "
          f"{rec['temperature']}; in-sample ECE {calibration.ece(held.probs, held.y):.4f} -> "
          f"{rec['ece_after_in_sample']:.4f} (the temperature's own fit, not a held-out figure)")
    calibration.reliability_diagram(
        {"before": (held.probs, held.y), "after, leave-one-signer-out": (loso_probs, held.y)},
        RESULTS / "reliability-photos.png", f"{art.name} ({art.version}): {Path(folder).name}, image model × "
        + ("head refit without the tested signer" if refit else "head"))
    seen = landmarks.views_found(data.hand_points).any(axis=1)
    rows = [Preprocessed(x, tuple(box), bool(found), points if any_view else None)
            for x, box, found, points, any_view in zip(data.x, data.boxes, data.hand_found, data.hand_points, seen)]
    said = sum(not predictor.sees_hand(r) for r in rows)
    print(f"'no hand' on the {len(rows)} dev photos (should be 0): {said}")


def no_hand(predictor: Predictor, per_kind: int) -> None:
    print(f"\n'no hand' answers ({'with' if predictor.has_head else 'without'} a hand-landmark head)")
    examples = sorted((ROOT / "examples").glob("*.png"))
    said = [not p.hand for p in predictor.predict([f.read_bytes() for f in examples])]
    print(f"{'examples/*.png (28×28 grids; should be 0)':<44} {sum(said):>3} of {len(said)}")
    for kind in nonhands.KINDS:
        answers = predictor.predict([nonhands.make(kind, seed) for seed in range(per_kind)])
        letters = sorted({p.letter for p in answers if p.hand})
        print(f"{kind + ' (should be all)':<44} {sum(not p.hand for p in answers):>3} of {per_kind}"
              + (f"   (read as {', '.join(letters)})" if letters else ""))


def colour_finder(folder: str | None, per_kind: int) -> None:
    """The rule for models without a head: the colour-based hand finder alone (vision/hand.py)."""
    print("\n'no hand' from the colour-based hand finder alone (the rule for models without a head)")
    if folder:
        files = sorted(Path(folder).glob("*/*"))
        missed = sum(not hand.find_hand(decode_image(f.read_bytes())).found for f in files)
        print(f"{'dev photos (should be 0)':<44} {missed:>3} of {len(files)}")
    for kind in nonhands.KINDS:
        said = sum(not hand.find_hand(nonhands.make(kind, seed)).found for seed in range(per_kind))
        print(f"{kind + ' (should be all)':<44} {said:>3} of {per_kind}")


def cpu_name() -> str:
    """The CPU's model name (lscpu's), so a result says where it was measured."""
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", nargs="?", help="artifact directory (default: the shipped default)")
    p.add_argument("--photos", help="dev photos folder, signers named in the file names")
    p.add_argument("--per-kind", type=int, default=10, help="made-up non-hands of each kind")
    args = p.parse_args()
    art = resolve(args.model)
    predictor = Predictor(art)
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = io.StringIO()
    with redirect_stdout(report):
        print(f"{art.name} ({art.version}); ECE over {calibration.N_BINS} equal-width bins; CPU: {cpu_name()}")
        grids(predictor, art)
        if args.photos:
            photos(predictor, art, args.photos)
        no_hand(predictor, args.per_kind)
        colour_finder(args.photos, args.per_kind)
    print(report.getvalue(), end="")
    (RESULTS / "calibration.txt").write_text(report.getvalue())


if __name__ == "__main__":
    main()
