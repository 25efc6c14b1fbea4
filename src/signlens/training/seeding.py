"""One way to seed a training run, so a seeded run gives the same weights whichever command runs it."""

from __future__ import annotations

import keras
import tensorflow as tf


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's kernels deterministic.

    Op determinism changes which kernels run, and with them the floating-point results: a head
    trained with it on (inside `signlens train`) and without it (`signlens add-hand-head`) came out
    different from the same seed. So every trainer turns it on, not only `train`.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
