"""The training twin: fused batch norm and bfloat16 change the speed, not the model that ships."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from signlens import labels
from signlens.models import artifact
from signlens.models import builders as models
from signlens.training import speedups
from signlens.data import load
from signlens.training.train import train


def test_fused_batch_norm_trains_like_the_stock_layer() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (64, 10, 10, 8)).astype(np.float32)
    weights = [rng.uniform(0.5, 2, 8), rng.normal(size=8), rng.normal(size=8), rng.uniform(1, 2, 8)]
    stock, fused = keras.layers.BatchNormalization(), speedups.FusedBatchNormalization()
    for layer in (stock, fused):
        layer.build(x.shape)
        layer.set_weights(weights)
    np.testing.assert_allclose(fused(x, training=True), stock(x, training=True), atol=1e-4)
    # the moving statistics move the same way (TF's kernel uses the unbiased batch variance:
    # 6,400 values a channel make that a 0.02% difference)
    for got, want in zip(fused.get_weights()[2:], stock.get_weights()[2:]):
        np.testing.assert_allclose(got, want, rtol=1e-3)
    np.testing.assert_allclose(fused(x, training=False), stock(x, training=False), atol=1e-4)


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_twin_starts_as_the_model_and_hands_its_weights_back(name: str) -> None:
    x = np.random.default_rng(1).uniform(0, 255, (16, 28, 28, 1)).astype(np.float32)
    stock = models.build(name, (28, 28, 1), labels.N_CLASSES)
    twin = speedups.training_twin(stock, "float32")
    np.testing.assert_allclose(twin.predict(x, verbose=0), stock.predict(x, verbose=0), atol=1e-6)
    twin.compile(optimizer="adam", loss="categorical_crossentropy")
    twin.fit(x, keras.utils.to_categorical(np.arange(16) % labels.N_CLASSES, labels.N_CLASSES), verbose=0)
    back = models.build(name, (28, 28, 1), labels.N_CLASSES)
    back.set_weights(twin.get_weights())
    assert not any(isinstance(layer, speedups.FusedBatchNormalization) for layer in back.layers)
    np.testing.assert_allclose(back.predict(x, verbose=0), twin.predict(x, verbose=0), atol=1e-5)


def test_bfloat16_twin_computes_in_bfloat16_with_a_float32_softmax() -> None:
    twin = speedups.training_twin(models.build("signlens", (28, 28, 1), labels.N_CLASSES), "bfloat16")
    dtypes = {layer.name: layer.compute_dtype for layer in twin.layers if not isinstance(layer, keras.layers.InputLayer)}
    assert dtypes.pop("probs") == "float32"
    assert set(dtypes.values()) == {"bfloat16"}
    assert all(w.dtype == "float32" for w in twin.weights)  # mixed precision keeps float32 weights


def test_a_bfloat16_run_saves_a_float32_artifact_that_learnt(tmp_path, tiny_config) -> None:
    data = load(tiny_config.data)
    cfg = dataclasses.replace(tiny_config, precision="bfloat16")  # the codelab CNN: 4 epochs learn the tiny set
    result = train(cfg, tmp_path / "bf16", data=data, verbose=0)
    art = artifact.load(tmp_path / "bf16")
    assert {layer.compute_dtype for layer in art.model.layers} == {"float32"}
    assert not any(isinstance(layer, speedups.FusedBatchNormalization) for layer in art.model.layers)
    assert art.meta["config"]["precision"] == "bfloat16" and art.meta["precision_used"] == "bfloat16"
    # learnt, on either kind of CPU: the last epoch's training accuracy was 0.90-0.92 on an Intel
    # Xeon with native bf16 (and with oneDNN held to AVX-512 without it), 0.88 on an AMD EPYC; the
    # first epoch's ~0.13. Chance is 1/24.
    assert result.history["accuracy"][-1] > max(0.6, 3 * result.history["accuracy"][0])
    assert result.metrics["val_accuracy"] > 0.5


@pytest.mark.parametrize(("flags", "expected"), [
    ("fpu avx2 avx512f avx512_bf16 amx_tile", "bfloat16"),  # Intel Xeon (Sapphire Rapids)
    ("fpu avx2 avx512f amx_bf16 amx_tile", "bfloat16"),
    ("fpu avx2 fma sse4_2", "float32"),  # AMD EPYC (Zen 2/3): bfloat16 would be emulated
])
def test_auto_precision_is_bfloat16_only_where_the_cpu_has_it(tmp_path, monkeypatch, flags, expected) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    monkeypatch.setattr(speedups, "_CPUINFO", cpuinfo)
    assert speedups.resolve_precision("auto") == expected
    assert speedups.resolve_precision("float32") == "float32"  # an explicit choice stands


def test_no_cpuinfo_means_float32(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(speedups, "_CPUINFO", tmp_path / "missing")
    assert speedups.resolve_precision("auto") == "float32"


def test_the_artifact_records_the_precision_auto_chose(tmp_path, tiny_config, monkeypatch) -> None:
    monkeypatch.setattr(speedups, "native_bfloat16", lambda: False)
    train(dataclasses.replace(tiny_config, precision="auto", epochs=1), tmp_path / "auto", data=load(tiny_config.data), verbose=0)
    meta = artifact.load(tmp_path / "auto").meta
    assert meta["config"]["precision"] == "auto" and meta["precision_used"] == "float32"
