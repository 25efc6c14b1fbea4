"""Input-pipeline benchmark: one epoch of Sign-MNIST training batches, as `train` built them before
(`from_tensor_slices().shuffle().batch()`, its shuffle order carried over from epoch to epoch) and
as `pipeline.TrainBatches` builds them now (an order from (seed, epoch), rows gathered per batch).

    .venv/bin/python bench/input_pipeline.py [--rounds 3] [--batch-size 128]

Only the input is timed (every batch is read to the end, no model), the two builders interleaved
per round so a slow spell of the host hits both; the table gives each one's median epoch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from signlens import labels  # noqa: E402
from signlens.data import load  # noqa: E402
from signlens.models import builders  # noqa: E402
from signlens.training.pipeline import TrainBatches  # noqa: E402
from signlens.vision.preprocess import to_model_input  # noqa: E402


def before(images: np.ndarray, letters: np.ndarray, batch_size: int, augment: bool) -> tf.data.Dataset:
    x = to_model_input(images)
    y = keras.utils.to_categorical(letters, labels.N_CLASSES).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=0, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment:
        aug = builders.augmenter(0)
        ds = ds.map(lambda a, b: (aug(a, training=True), b), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def now(images: np.ndarray, letters: np.ndarray, batch_size: int, augment: bool) -> tf.data.Dataset:
    return TrainBatches(images, letters, batch_size, 0, augment=augment).dataset


def epoch_seconds(ds: tf.data.Dataset) -> float:
    started = time.perf_counter()
    for _ in ds:
        pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    data = load(split="train")
    rows = []
    for augment in (False, True):
        built = {name: make(data.x, data.y, args.batch_size, augment) for name, make in
                 (("before: shuffle buffer", before), ("now: TrainBatches", now))}
        for ds in built.values():
            epoch_seconds(ds)  # warm-up: tracing, first fill
        times: dict[str, list[float]] = {name: [] for name in built}
        for _ in range(args.rounds):
            for name, ds in built.items():
                times[name].append(epoch_seconds(ds))
        base = statistics.median(times["before: shuffle buffer"])
        for name, ts in times.items():
            rows.append((f"{name}{' + augment' if augment else ''}", statistics.median(ts), base / statistics.median(ts)))
    print(f"one epoch of {len(data)} Sign-MNIST images, batch {args.batch_size}, median of {args.rounds} rounds")
    print(f"{'pipeline':40s} {'epoch s':>8s} {'speed vs before':>16s}")
    for name, seconds, speed in rows:
        print(f"{name:40s} {seconds:8.2f} {speed:15.2f}x")


if __name__ == "__main__":
    main()
