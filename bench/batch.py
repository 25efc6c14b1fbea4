"""Batch prediction throughput on the full Sign-MNIST test split, against plain Keras model.predict.

    .venv/bin/python bench/batch.py [--model models/default]

Every row is measured in the same run on the same 7,172 images; ratios are against
`model.predict(x)` (Keras defaults, batch 32). Also prints single-image latency per backend and the
end-to-end `signlens predict --batch` path (CSV parse + predict + CSV write).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from signlens.models import artifact
from signlens.inference import batch
from signlens.inference import export
from signlens.models import tflite  # noqa: E402
from signlens.data import load  # noqa: E402
from signlens.data.load import EMBEDDED_DIR  # noqa: E402
from signlens.inference.predictor import Predictor  # noqa: E402
from signlens.vision.preprocess import to_model_input  # noqa: E402


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/default")
    args = ap.parse_args()
    art = artifact.load(args.model)
    data = load(None, "test")
    x, n = data.x, len(data)
    train = load(None, "train")
    lite = {q: tflite.TFLiteModel(export.convert(art.model, q, export.representative_grids(train)))
            for q in ("none", "int8")}

    def lite_predictor(q: str, batch_size: int = 1024) -> Predictor:
        return Predictor(artifact.Artifact(lite[q], art.meta, art.path), batch_size=batch_size)

    keras_pred = Predictor(art)
    paths = {
        "keras model.predict (baseline)": lambda: art.model.predict(to_model_input(x), verbose=0),
        "signlens Predictor, Keras tf.function, batch 1024": lambda: keras_pred.probabilities(x),
        "signlens Predictor, TFLite fp32, batch 1024": lambda: lite_predictor("none").probabilities(x),
        "signlens Predictor, TFLite int8, batch 1024": lambda: lite_predictor("int8").probabilities(x),
    }
    print(f"model {art.name}, {n} test images, {os.cpu_count()} CPUs\n")
    print(f"{'path':55s} {'images/s':>10s} {'× predict':>10s}")
    base = None
    for name, fn in paths.items():
        fn()  # warm-up
        rate = n / best_of(fn)
        base = base or rate
        print(f"{name:55s} {rate:10,.0f} {rate / base:10.1f}")

    csv = next(EMBEDDED_DIR.glob("sign_mnist_test.csv*"))
    for q in ("none", "int8"):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            batch.run(lite_predictor(q), csv, Path(tmp) / "out.csv", progress=False)
            rate = n / (time.perf_counter() - t)
        print(f"{'end-to-end predict --batch (CSV->CSV), TFLite ' + q:55s} {rate:10,.0f} {rate / base:10.1f}")

    print(f"\n{'single-image latency (median of 200)':40s} {'ms':>8s}")
    one = x[:1]
    for name, pred in (("Keras tf.function", keras_pred), ("TFLite fp32", lite_predictor("none")),
                       ("TFLite int8", lite_predictor("int8"))):
        print(f"{name:40s} {export.single_image_latency_ms(pred.probabilities, one):8.3f}")
    print(f"\nTFLite sizes: fp32 {lite['none'].size_bytes:,} B, int8 {lite['int8'].size_bytes:,} B "
          f"({lite['int8'].size_bytes / lite['none'].size_bytes:.2f})")
    agree = (lite_predictor("int8").probabilities(x).argmax(1) == keras_pred.probabilities(x).argmax(1)).mean()
    print(f"int8 agreement with Keras on the test split: {agree:.4%}")


if __name__ == "__main__":
    main()
