"""TFLite export: every quantize mode loads and agrees with Keras; int8 is small; Predictor serves it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from signlens import labels
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


def test_int8_probabilities_sum_to_one(exports: dict, tiny_test_csv: Path) -> None:
    """Dequantized 8-bit outputs summed to 1.0078 once, and the server's smoke check refused them."""
    probs = Predictor(resolve(str(exports["int8"][0]))).probabilities(load(tiny_test_csv).x)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)


def test_the_server_serves_every_export_kind(exports: dict, tiny_test_csv: Path, tiny_artifact: Path,
                                            tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from signlens.serving.app import create_app
    from signlens.serving.settings import ServeSettings
    from tests.serving_support import synthetic_examples

    data = load(tiny_test_csv)
    expected = Predictor(artifact.load(tiny_artifact)).probabilities(data.x[:8]).argmax(1)
    settings = ServeSettings(models=tuple((q, str(exports[q][0])) for q in export.QUANTIZE), prediction_log=None,
                             teach_dir=None, known_examples=synthetic_examples(tmp_path / "known"))
    with TestClient(create_app(settings)) as client:
        served = {m["name"]: m["version"] for m in client.get("/v1/models").json()["models"]}
        assert set(served) == set(export.QUANTIZE)
        for quantize in export.QUANTIZE:
            answers = [client.post(f"/v1/predict?model={quantize}", json={"pixels": x.tolist()}).json()
                       for x in data.x[:8]]
            letters = [a["letter"] for a in answers]
            assert sum(letter == labels.LETTERS[e] for letter, e in zip(letters, expected)) >= 7, (quantize, letters)
            assert all(abs(sum(a["probabilities"].values()) - 1) < 1e-3 for a in answers)
            assert {a["version"] for a in answers} == {served[quantize]}
