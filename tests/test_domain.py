"""Domain augmentation: shape and range kept, seeded, and really changes images."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from signlens.training import config
from signlens.training import domain_augment as domain
from tests.synthetic import make_arrays


def test_augment_is_seeded_in_range_and_changes_about_half() -> None:
    x, _ = make_arrays(per_letter=4, seed=0)
    batch = tf.constant(x[..., None].astype(np.float32))
    a = domain.augment(batch, tf.constant([0, 1], tf.int64)).numpy()
    b = domain.augment(batch, tf.constant([0, 1], tf.int64)).numpy()
    c = domain.augment(batch, tf.constant([0, 2], tf.int64)).numpy()
    assert a.shape == batch.shape and a.min() >= 0 and a.max() <= 255
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    changed = np.abs(a - batch.numpy()).reshape(len(a), -1).max(1) > 1
    assert 0.2 < changed.mean() < 0.8


def test_flag_is_a_config_key() -> None:
    assert config.build({"domain_augment": "true"}).domain_augment is True
    assert config.TrainConfig().domain_augment is False
