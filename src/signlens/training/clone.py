"""One way to copy a Keras model: the same architecture (optionally with layers swapped) and weights."""

from __future__ import annotations

from typing import Callable

import keras


def copy_model(model: keras.Model,
               clone_layer: Callable[[keras.layers.Layer], keras.layers.Layer] | None = None) -> keras.Model:
    """A new model with `model`'s weights; `clone_layer` rebuilds each layer (default: from its
    config). The copy trains without touching the original."""
    copy = keras.models.clone_model(model, clone_function=clone_layer)
    copy.set_weights(model.get_weights())
    return copy
