"""Import a TF.js layers model (the seed codelab's) as a signlens artifact, without tensorflowjs.

The seed models output 26 classes indexed by Sign-MNIST label (9=J and 25=Z unused) and take
inputs in [0, 1]. A softmax restricted to the 24 valid outputs equals the 26-way probabilities
renormalized over them, so the import keeps only those 24 columns of the last Dense layer and
puts a Rescaling layer in front: the result is a plain Keras model with signlens's contract.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers

from signlens import labels
from signlens.models.artifact import Artifact
from signlens.errors import ArtifactError
from signlens.spec import PREPROCESS_SPEC

_LAYERS = {
    "Conv2D": lambda c: layers.Conv2D(c["filters"], tuple(c["kernel_size"]), strides=tuple(c["strides"]),
                                      padding=c["padding"], activation=c["activation"]),
    "MaxPooling2D": lambda c: layers.MaxPooling2D(tuple(c["pool_size"]), strides=tuple(c["strides"]),
                                                  padding=c["padding"]),
    "Flatten": lambda c: layers.Flatten(),
    "Dense": lambda c: layers.Dense(c["units"], activation=c["activation"]),
    "Dropout": lambda c: layers.Dropout(c["rate"]),
}


def is_tfjs_dir(path: Path) -> bool:
    return (path / "model.json").exists()


def _read_weights(path: Path, manifest: list[dict[str, Any]]) -> list[np.ndarray]:
    out = []
    for group in manifest:
        blob = b"".join((path / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            if w["dtype"] != "float32":
                raise ArtifactError(f"{path}: weight {w['name']} has unsupported dtype {w['dtype']}")
            n = int(np.prod(w["shape"]))
            if offset + 4 * n > len(blob):
                raise ArtifactError(f"{path}: weight file is truncated at {w['name']}")
            out.append(np.frombuffer(blob, "<f4", n, offset).reshape(w["shape"]))
            offset += 4 * n
    return out


def import_tfjs(path: str | Path, name: str | None = None) -> Artifact:
    path = Path(path)
    try:
        spec = json.loads((path / "model.json").read_text())
        topology = spec["modelTopology"]["model_config"]["config"]["layers"]
        manifest = spec["weightsManifest"]
    except (OSError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: not a TF.js layers model ({exc})") from None
    weights = _read_weights(path, manifest)

    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    if topology[0]["config"].get("batch_input_shape", [None, 28, 28, 1])[1:] == [784]:
        x = layers.Flatten()(x)
    built: list[tuple[layers.Layer, int]] = []
    for spec_layer in topology:
        kind = spec_layer["class_name"]
        if kind == "InputLayer":
            continue
        if kind not in _LAYERS:
            raise ArtifactError(f"{path}: layer type {kind} is not supported by the importer")
        layer = _LAYERS[kind](spec_layer["config"])
        penultimate, x = x, layer(x)
        built.append((layer, 2 if kind in ("Conv2D", "Dense") else 0))
    last, _ = built[-1]
    if not isinstance(last, layers.Dense) or last.units != labels.SEED_N_OUTPUTS:
        raise ArtifactError(f"{path}: expected a final Dense layer with {labels.SEED_N_OUTPUTS} outputs")

    # Rebuild the final layer over the 24 valid letters (see module docstring).
    head = layers.Dense(labels.N_CLASSES, activation="softmax", name="probs")
    model = keras.Model(inputs, head(penultimate), name=name or path.name)
    cursor = 0
    for layer, n_weights in built[:-1]:
        if n_weights:
            layer.set_weights(weights[cursor : cursor + n_weights])
            cursor += n_weights
    kernel, bias = weights[cursor], weights[cursor + 1]
    keep = list(labels.SIGN_MNIST_LABELS)
    head.set_weights([kernel[:, keep], bias[keep]])

    meta = {
        "format_version": 1, "name": name or f"seed-{path.name}", "labels": list(labels.LETTERS),
        "preprocess": PREPROCESS_SPEC, "dataset_fingerprint": "", "config": {"imported_from": str(path)},
        "metrics": {}, "version": "seed",
    }
    return Artifact(model, meta, path)
