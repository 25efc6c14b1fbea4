"""The tf.data input of every trainer (train, finetune): batches whose randomness is a function of
(seed, epoch) only.

Each epoch's data order, photo-domain augmentation and the random state of every Keras layer that
draws numbers (dropout, the geometric augmenter) are set from the seed and the epoch number when
the epoch begins, never carried over from the epochs before. So epoch 3 of a run resumed from a
checkpoint sees exactly what epoch 3 of an uninterrupted run saw, and a resumed seeded run ends
with the same weights and metrics.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from signlens import labels
from signlens.models import builders
from signlens.training import domain_augment as domain
from signlens.vision.preprocess import to_model_input


def _inputs(images: np.ndarray, letters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return to_model_input(images), keras.utils.to_categorical(letters, labels.N_CLASSES).astype(np.float32)


def eval_batches(images: np.ndarray, letters: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """(uint8 grids, letter indices) -> batches in order, for validation and evaluation."""
    return tf.data.Dataset.from_tensor_slices(_inputs(images, letters)).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _epoch_seed(seed: int, epoch: int, stream: int) -> int:
    """A seed for one random stream (a layer's generator) in one epoch."""
    return int(np.random.SeedSequence([seed, epoch, stream]).generate_state(1)[0])


def _seed_states(*models: keras.Model) -> list[Any]:
    """The state variables of the Keras seed generators in `models` (dropout, random augmentation)."""
    return [v for m in models for v in m.variables if v.name == "seed_generator_state"]


class TrainBatches:
    """Shuffled, optionally augmented training batches. Pass `dataset` and `callback()` to fit()."""

    def __init__(self, images: np.ndarray, letters: np.ndarray, batch_size: int, seed: int, *,
                 augment: bool = False, domain_augment: bool = False):
        self.seed = seed
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)  # set by callback() as each epoch begins
        self.augmenter = builders.augmenter(seed) if augment else None
        x, y = (tf.constant(a) for a in _inputs(images, letters))
        n, seed_t = len(letters), tf.constant(seed, tf.int64)

        def epoch_order(_: Any) -> tf.data.Dataset:  # read when an epoch's iterator starts
            keys = tf.random.stateless_uniform([n], seed=tf.stack([seed_t, self.epoch]))
            return tf.data.Dataset.from_tensor_slices(tf.argsort(keys)).batch(batch_size)

        def gather(step: tf.Tensor, rows: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            batch = tf.gather(x, rows)
            if domain_augment:
                batch_seed = tf.random.experimental.stateless_fold_in(tf.stack([seed_t, self.epoch]), step)
                batch = domain.augment(batch, batch_seed)
            if self.augmenter is not None:
                batch = self.augmenter(batch, training=True)
            return batch, tf.gather(y, rows)

        n_batches = -(-n // batch_size)
        self.dataset = (tf.data.Dataset.from_tensors(0).flat_map(epoch_order)
                        .apply(tf.data.experimental.assert_cardinality(n_batches))
                        .enumerate().map(gather, num_parallel_calls=tf.data.AUTOTUNE)
                        .prefetch(tf.data.AUTOTUNE))

    def callback(self) -> keras.callbacks.Callback:
        """Sets the epoch and reseeds every random layer (the model's and the augmenter's) as the
        epoch begins, before fit() starts reading that epoch's batches."""
        batches = self

        class _Reseed(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
                batches.epoch.assign(epoch)
                extra = [batches.augmenter] if batches.augmenter is not None else []
                for stream, state in enumerate(_seed_states(self.model, *extra)):
                    state.assign(np.array([_epoch_seed(batches.seed, epoch, stream), 0], dtype=state.dtype))

        return _Reseed()
