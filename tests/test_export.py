"""TFLite export: every quantize mode loads and agrees with Keras; int8 is small; Predictor serves it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from signlens.models import artifact
from signlens.inference import export
from signlens.models import tflite
from signlens.data import load
from signlens.models.resolve import resolve
from signlens.inference.predictor import Predictor


@pytest.fixture(scope="module")
def exports(tiny_artifact: Path, tiny_csv: Path, tiny_test_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    art, test, train = artifact.load(tiny_artifact), load(tiny_test_csv), load(tiny_csv)
    root = tmp_path_factory.mktemp("exports")
    return {q: (root / q, export.export(art, root / q, q, test, train)) for q in export.QUANTIZE}


@pytest.mark.parametrize("quantize", export.QUANTIZE)
def test_each_mode_writes_a_loadable_model_that_agrees(exports: dict, quantize: str) -> None:
    out, report = exports[quantize]
    assert {p.name for p in out.iterdir()} >= {"model.tflite", "signlens.json", "parity.json"}
    assert json.loads((out / "parity.json").read_text()) == report
    assert report["agreement"] >= 0.95  # tiny synthetic data: the point is "same model", not the target
    assert report["tflite_accuracy"] >= report["keras_accuracy"] - 0.05
    assert report["tflite_latency_ms"] > 0 and report["keras_latency_ms"] > 0
    assert "agreement" in export.format_report(report)


def test_int8_is_full_integer_and_at_most_a_quarter_of_float(exports: dict) -> None:
    out, report = exports["int8"]
    # Weights are exactly 1/4; a fixed ~14 KB of flatbuffer structure (ops, per-channel quantization
    # parameters) puts this 86k-parameter model at ~0.29 of the float file. Bigger models approach 1/4.
    assert report["size_ratio"] <= 0.30
    assert report["float_tflite_bytes"] == exports["none"][1]["tflite_bytes"]
    assert tflite.TFLiteModel((out / "model.tflite").read_bytes()).input_dtype == np.uint8
    assert json.loads((out / "signlens.json").read_text())["tflite"]["representative_n"] > 0


def test_predictor_serves_a_tflite_export_through_modelref(exports: dict, tiny_test_csv: Path,
                                                          tiny_artifact: Path) -> None:
    out, _ = exports["int8"]
    data = load(tiny_test_csv)
    keras_probs = Predictor(artifact.load(tiny_artifact)).probabilities(data.x)
    for ref in (out, out / "model.tflite"):
        pred = Predictor(resolve(str(ref)))
        probs = pred.probabilities(data.x)
        assert probs.shape == (len(data), 24) and probs.dtype == np.float32
        assert (probs.argmax(1) == keras_probs.argmax(1)).mean() >= 0.95
        assert pred.name.endswith("-tflite-int8")
        [p] = pred.predict([data.x[0]])  # same preprocess path as Keras; odd batch sizes resize the interpreter
        assert p.letter == pred.predict([data.x[0], data.x[1]])[0].letter


def test_unknown_quantize_mode_is_a_clear_error(tiny_artifact: Path) -> None:
    from signlens.errors import SignlensError

    with pytest.raises(SignlensError, match="--quantize must be one of"):
        export.convert(artifact.load(tiny_artifact).model, "int4")
