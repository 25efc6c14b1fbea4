"""Artifact round trip, clear errors for broken artifacts, and the TF.js (seed) importer."""

from __future__ import annotations

import json
import shutil

import keras
import numpy as np
import pytest

from signlens import labels
from signlens.models import artifact
from signlens.errors import ArtifactError
from signlens.models.resolve import resolve
from signlens.inference.predictor import Predictor
from signlens.models.tfjs_import import import_tfjs


def test_round_trip_gives_identical_predictions(tiny_artifact, tmp_path):
    art = artifact.load(tiny_artifact)
    copy = tmp_path / "copy"
    artifact.save(copy, art.model, name=art.name, config=art.meta["config"],
                  fingerprint=art.meta["dataset_fingerprint"], metrics=art.meta["metrics"])
    x = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    assert np.allclose(Predictor(art).probabilities(x), Predictor(artifact.load(copy)).probabilities(x), atol=1e-6)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: (p / "model.keras").write_bytes(b"garbage"), "cannot load model"),
        (lambda p: (p / "model.keras").unlink(), "has no model.keras"),
        (lambda p: (p / "signlens.json").write_text("{not json"), "corrupt metadata"),
        (lambda p: (p / "signlens.json").unlink(), "not a signlens artifact"),
        (lambda p: artifact.update_meta(p, format_version=99), "format 99 is not supported"),
        (lambda p: artifact.update_meta(p, labels=list("ABC")), "labels"),
    ],
    ids=["corrupt-model", "missing-model", "corrupt-meta", "missing-meta", "future-format", "other-labels"],
)
def test_broken_artifact_is_a_clear_error(tiny_artifact, tmp_path, damage, message):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_artifact, broken)
    damage(broken)
    with pytest.raises(ArtifactError, match=message):
        artifact.load(broken)


def test_lambda_layers_are_refused_by_safe_mode(tmp_path, tiny_artifact):
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Lambda(lambda t: t * 2)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(24, activation="softmax")(keras.layers.Flatten()(x)))
    evil = tmp_path / "evil"
    shutil.copytree(tiny_artifact, evil)
    model.save(evil / "model.keras")
    with pytest.raises(ArtifactError, match="cannot load model"):
        artifact.load(evil)


def _write_tfjs(path, model: keras.Model) -> None:
    """Write a Keras model in the TF.js layers format the seed codelab shipped."""
    path.mkdir()
    layer_specs = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, 784]}}]
    weights, manifest = [], []
    for layer in model.layers:
        cfg = {"units": layer.units, "activation": layer.activation.__name__} if hasattr(layer, "units") \
            else {"rate": layer.rate}
        layer_specs.append({"class_name": type(layer).__name__, "config": cfg})
        for w, kind in zip(layer.get_weights(), ("kernel", "bias")):
            manifest.append({"name": f"{layer.name}/{kind}", "shape": list(w.shape), "dtype": "float32"})
            weights.append(w.astype("<f4").tobytes())
    (path / "group1-shard1of1.bin").write_bytes(b"".join(weights))
    (path / "model.json").write_text(json.dumps({
        "format": "layers-model",
        "modelTopology": {"model_config": {"class_name": "Sequential", "config": {"layers": layer_specs}}},
        "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": manifest}],
    }))


def test_tfjs_import_maps_26_outputs_to_24_letters(tmp_path):
    keras.utils.set_random_seed(0)
    seed_model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"),
                                   keras.layers.Dropout(0.1), keras.layers.Dense(26, activation="softmax")])
    _write_tfjs(tmp_path / "seed", seed_model)
    art = resolve(tmp_path / "seed")
    x = np.random.default_rng(0).integers(0, 256, (6, 28, 28)).astype(np.uint8)
    expected = np.asarray(seed_model(x.reshape(6, 784).astype(np.float32) / 255.0))[:, list(labels.SIGN_MNIST_LABELS)]
    expected /= expected.sum(axis=1, keepdims=True)
    assert np.allclose(Predictor(art).probabilities(x), expected, atol=1e-5)


def test_tfjs_import_errors(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "model.json").write_text("{}")
    with pytest.raises(ArtifactError, match="not a TF.js layers model"):
        import_tfjs(tmp_path / "bad")
    with pytest.raises(ArtifactError, match="no such model"):
        resolve(tmp_path / "nothing-here")
