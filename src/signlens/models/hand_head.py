"""The hand-landmark head: a small classifier on `landmarks.features`, stored beside model.keras.

At prediction time it only speaks for photos in which `preprocess` found a hand, once for each
view of the hand (`landmarks.VIEWS`, pooled by `landmarks.pool_views`); its probabilities are
multiplied with the image model's (`landmarks.combine`). It is an ensemble of `MEMBERS` small MLPs
in one Keras model. How it is trained lives in `training.head`.
"""

from __future__ import annotations

import keras
import numpy as np

from signlens import labels
from signlens.vision import landmarks

#: Three members trained 10 epochs each: on the real dev photos (crop view, seeds 0-2) one 40-epoch
#: member got 71.0%, 10 epochs 71.6%, and averaging members and views more (BENCHMARKS.md, issue 8).
MEMBERS = 3


def build(train_features: np.ndarray, members: int = MEMBERS) -> tuple[keras.Model, keras.Model]:
    """-> (head, trainer). The head averages its members' logits (the normalized geometric mean of
    their probabilities); the trainer gives each member its own output and loss, so they learn
    independently from their own initial weights and only share the input standardization."""
    norm = keras.layers.Normalization(name="standardize")
    norm.adapt(train_features)
    inputs = keras.Input((landmarks.N_FEATURES,), name="hand_features")
    x = norm(inputs)
    logits = []
    for k in range(members):
        h = x
        for width in (256, 128):
            h = keras.layers.Dense(width, activation="relu", name=f"m{k}_dense{width}")(h)
            h = keras.layers.Dropout(0.2, name=f"m{k}_dropout{width}")(h)
        logits.append(keras.layers.Dense(labels.N_CLASSES, name=f"m{k}_logits")(h))
    pooled = keras.layers.Average(name="pool")(logits) if members > 1 else logits[0]
    head = keras.Model(inputs, keras.layers.Softmax(name="probs")(pooled), name="hand_head")
    trainer = keras.Model(inputs, [keras.layers.Softmax(name=f"m{k}_probs")(z) for k, z in enumerate(logits)])
    return head, trainer
