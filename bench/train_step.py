"""Training-step benchmark: the default model as Keras builds it vs the twins `train` trains.

    .venv/bin/python bench/train_step.py [--steps 40] [--rounds 3]

One process, one batch size (the default config's), random 28×28 batches. Each round times every
variant for `--steps` steps after a warm-up, variants interleaved so a slow spell of the host hits
them all; the table gives each variant's median step over the rounds and its speed-up over the
stock float32 model (what `signlens train` ran before `speedups.py`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from signlens import labels
from signlens.models import builders as models
from signlens.training import speedups  # noqa: E402
from signlens.training.config import TrainConfig  # noqa: E402

VARIANTS = {
    "stock Keras BatchNormalization, float32 (before)": None,
    "fused batch norm, float32": "float32",
    "fused batch norm, bfloat16 mixed precision (default)": "bfloat16",
}


def _compiled(precision: str | None) -> keras.Model:
    keras.utils.set_random_seed(0)
    stock = models.build("signlens", (28, 28, 1), labels.N_CLASSES)
    model = stock if precision is None else speedups.training_twin(stock, precision)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    return model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    batch = TrainConfig.batch_size
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (batch * args.steps, 28, 28, 1)).astype(np.float32)
    y = keras.utils.to_categorical(rng.integers(0, labels.N_CLASSES, len(x)), labels.N_CLASSES)
    compiled = {name: _compiled(precision) for name, precision in VARIANTS.items()}
    for model in compiled.values():  # trace and warm up
        model.fit(x[: batch * 3], y[: batch * 3], batch_size=batch, epochs=1, verbose=0)
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, model in compiled.items():
            started = time.perf_counter()
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
            times[name].append((time.perf_counter() - started) / args.steps * 1000)
    base = statistics.median(times[next(iter(VARIANTS))])
    print(f"batch {batch}, {args.steps} steps × {args.rounds} rounds (median ms a step)\n")
    print(f"| {'variant':<52} | ms/step | speed-up |")
    print(f"|{'-' * 54}|---------|----------|")
    for name, ms in times.items():
        median = statistics.median(ms)
        print(f"| {name:<52} | {median:7.1f} | {base / median:7.2f}× |")


if __name__ == "__main__":
    main()
