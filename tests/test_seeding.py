"""A seeded head is the same whichever command trains it.

`signlens train` used to turn on TensorFlow's op determinism and `signlens add-hand-head` did
not, so the shipped head could not be rebuilt by the config that names it. Each case runs in a
fresh process, because op determinism cannot be turned off again once on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import numpy as np

FIT = """
import sys, numpy as np, tensorflow as tf
if sys.argv[1] == "after-train":  # what `signlens train` had done before it trained the head
    tf.config.experimental.enable_op_determinism()
from signlens.training import head as hand_head
from signlens.vision import landmarks
rng = np.random.default_rng(0)
points = rng.normal(size=(240, landmarks.N_POINTS, 3)).astype(np.float32)
head = hand_head.fit(points, np.arange(240) % 24, seed=0, epochs=3)
np.save(sys.argv[2], np.concatenate([w.ravel() for w in head.get_weights()]))
"""


def _head_weights(case: str, out: Path) -> np.ndarray:
    subprocess.run([sys.executable, "-c", FIT, case, str(out)], check=True, capture_output=True, timeout=300)
    return np.load(out)


@pytest.mark.slow  # two fresh processes, each importing TensorFlow: ~20 s
def test_head_weights_do_not_depend_on_what_ran_before(tmp_path: Path) -> None:
    alone = _head_weights("alone", tmp_path / "alone.npy")
    after_train = _head_weights("after-train", tmp_path / "after.npy")
    np.testing.assert_array_equal(alone, after_train)
