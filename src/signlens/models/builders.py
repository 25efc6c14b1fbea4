"""Model builders. Models get shapes, not datasets: build(name, input_shape, n_classes, **hparams).

Every model takes float32 (N, 28, 28, 1) in 0..255 and rescales inside itself, so the saved
model is self-contained for serving and TFLite export.
"""

from __future__ import annotations

from typing import Callable

import keras
from keras import layers

from signlens.errors import SignlensError

InputShape = tuple[int, int, int]


def _head(inputs: keras.KerasTensor) -> keras.KerasTensor:
    return layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)


def build_mlp(input_shape: InputShape, n_classes: int, dropout: float | None = None) -> keras.Model:
    """The codelab MLP: 784 -> 512 -> Dropout(0.1) -> 256 -> Dropout(0.1) -> softmax."""
    rate = 0.1 if dropout is None else dropout
    inputs = keras.Input(input_shape, name="image")
    x = layers.Flatten()(_head(inputs))
    x = layers.Dense(512, activation="relu")(x)
    x = layers.Dropout(rate)(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(rate)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="mlp")


def build_cnn(input_shape: InputShape, n_classes: int, dropout: float | None = None) -> keras.Model:
    """The codelab CNN: 3 × [Conv 64 3×3 relu + MaxPool 2] -> Dense 128 -> Dropout(0.2) -> softmax."""
    rate = 0.2 if dropout is None else dropout
    inputs = keras.Input(input_shape, name="image")
    x = _head(inputs)
    for _ in range(3):
        x = layers.Conv2D(64, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(rate)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="cnn")


def _conv_bn(x: keras.KerasTensor, filters: int) -> keras.KerasTensor:
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def build_signlens(input_shape: InputShape, n_classes: int, dropout: float | None = None) -> keras.Model:
    """The default: small VGG-style conv blocks with batch norm, global pooling, dropout.

    Batch norm lets it train fast at a high learning rate on 2 CPU cores; global average pooling
    keeps it small (~100k parameters) and tolerant to the shifts the augmentation teaches.
    """
    rate = 0.3 if dropout is None else dropout
    inputs = keras.Input(input_shape, name="image")
    x = _head(inputs)
    x = _conv_bn(x, 32)
    x = layers.MaxPooling2D(2)(x)  # 14×14
    x = _conv_bn(x, 64)
    x = _conv_bn(x, 64)
    x = layers.MaxPooling2D(2)(x)  # 7×7
    x = _conv_bn(x, 128)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(rate)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="signlens")


MODELS: dict[str, Callable[..., keras.Model]] = {
    "mlp": build_mlp,
    "cnn": build_cnn,
    "signlens": build_signlens,
}


def build(name: str, input_shape: InputShape, n_classes: int, **hparams: object) -> keras.Model:
    try:
        builder = MODELS[name]
    except KeyError:
        raise SignlensError(f"unknown model {name!r}; choose one of {sorted(MODELS)}") from None
    return builder(input_shape, n_classes, **hparams)


def augmenter(seed: int) -> keras.Sequential:
    """Training-time geometric jitter, applied in the input pipeline (never saved in the model).

    Small rotations/shifts/zooms mimic how the test split's photos differ from the train split's.
    No flips: handshapes are not mirror-symmetric letters.
    """
    return keras.Sequential(
        [
            layers.RandomRotation(0.04, fill_mode="nearest", seed=seed),
            layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed + 1),
            layers.RandomZoom(0.1, fill_mode="nearest", seed=seed + 2),
        ],
        name="augment",
    )
