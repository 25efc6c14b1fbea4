"""export.export(artifact, out_dir, quantize): a Keras artifact -> TFLite export dir + parity report.

Conversion goes Keras 3 `model.export(..., "tf_saved_model")` -> `TFLiteConverter.from_saved_model`,
the route the Keras/LiteRT docs recommend (`from_keras_model` is the Keras 2 path). The export dir
is self-describing: `model.tflite`, the artifact's `signlens.json` (labels, preprocessing spec)
and `parity.json`, so `Predictor`/`modelref.resolve` can serve it like any artifact.

Every export is checked against the Keras model on a labelled split: agreement, accuracy of both,
size, and single-image latency through the same Predictor path the server uses.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from signlens.models import artifact
from signlens.vision import landmarks
from signlens.models import tflite
from signlens.models.artifact import Artifact
from signlens.data import Dataset
from signlens.errors import SignlensError
from signlens.inference.predictor import Predictor

QUANTIZE = ("none", "float16", "dynamic", "int8")
REPORT_FILE = "parity.json"
#: Images from the training split that calibrate int8 activation ranges.
REPRESENTATIVE_N = 500
#: Test images whose landmarks check the exported hand-landmark head against the Keras one.
HEAD_PARITY_N = 200


def convert(model: Any, quantize: str, representative: np.ndarray | None = None) -> bytes:
    """Keras model -> .tflite bytes. int8 is full-integer (uint8 in/out) calibrated on `representative`."""
    import tensorflow as tf

    if quantize not in QUANTIZE:
        raise SignlensError(f"--quantize must be one of {', '.join(QUANTIZE)}, not {quantize!r}")
    with tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, "tf_saved_model", verbose=False)
        conv = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if quantize != "none":
            conv.optimizations = [tf.lite.Optimize.DEFAULT]  # "dynamic": int8 weights, float activations
        if quantize == "float16":
            conv.target_spec.supported_types = [tf.float16]
        if quantize == "int8":
            if representative is None or not len(representative):
                raise SignlensError("int8 export needs a representative dataset (training images)")
            x = representative.astype(np.float32).reshape(-1, 28, 28, 1)
            conv.representative_dataset = lambda: ([x[i : i + 1]] for i in range(len(x)))
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            conv.inference_input_type = tf.uint8  # a 28×28 uint8 grid goes in as is
            conv.inference_output_type = tf.uint8
        return conv.convert()


def representative_grids(train: Dataset, n: int = REPRESENTATIVE_N, seed: int = 0) -> np.ndarray:
    pick = np.random.default_rng(seed).choice(len(train), size=min(n, len(train)), replace=False)
    return train.x[np.sort(pick)]


def single_image_latency_ms(run: Callable[[np.ndarray], Any], grid: np.ndarray, n: int = 200) -> float:
    """Median wall time of one-image calls after a warm-up (what an interactive caller waits)."""
    for _ in range(10):
        run(grid)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        run(grid)
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


def parity(keras_art: Artifact, lite_art: Artifact, data: Dataset, float_bytes: int | None = None) -> dict[str, Any]:
    keras_p, lite_p = Predictor(keras_art), Predictor(lite_art)
    kp, lp = keras_p.probabilities(data.x).argmax(1), lite_p.probabilities(data.x).argmax(1)
    one = data.x[:1]
    size = lite_art.model.size_bytes
    return {
        "data": data.source,
        "dataset_fingerprint": data.fingerprint,
        "n": len(data),
        "agreement": float((kp == lp).mean()),
        "keras_accuracy": float((kp == data.y).mean()),
        "tflite_accuracy": float((lp == data.y).mean()),
        "accuracy_drop_pt": float(((kp == data.y).mean() - (lp == data.y).mean()) * 100),
        "tflite_bytes": size,
        "float_tflite_bytes": float_bytes if float_bytes is not None else size,
        "size_ratio": size / float_bytes if float_bytes else 1.0,
        "keras_latency_ms": single_image_latency_ms(keras_p.probabilities, one),
        "tflite_latency_ms": single_image_latency_ms(lite_p.probabilities, one),
    }


def head_parity(keras_art: Artifact, lite_art: Artifact, data: Dataset, n: int = HEAD_PARITY_N) -> dict[str, Any]:
    """The exported head against the Keras head, on landmarks of the first `n` images of `data`."""
    found = [(p, y) for p, y in ((landmarks.grid_points(x), y) for x, y in zip(data.x[:n], data.y[:n])) if p is not None]
    report: dict[str, Any] = {"n": len(found), "tflite_bytes": lite_art.hand_head.size_bytes}
    if found:  # data without hands (synthetic grids) has nothing to compare on
        points = np.stack([p for p, _ in found])[:, None]  # (M, one view, 21, 3)
        letters = np.array([y for _, y in found])
        kp = Predictor(keras_art).hand_probabilities(points).argmax(1)
        lp = Predictor(lite_art).hand_probabilities(points).argmax(1)
        report.update(agreement=float((kp == lp).mean()), keras_accuracy=float((kp == letters).mean()),
                      tflite_accuracy=float((lp == letters).mean()))
    return report


def export(art: Artifact, out_dir: Path, quantize: str, test: Dataset, train: Dataset | None = None) -> dict[str, Any]:
    """Write out_dir/{model.tflite, [hand_head.tflite,] signlens.json, parity.json}; return the parity report."""
    representative = representative_grids(train) if quantize == "int8" and train is not None else None
    content = convert(art.model, quantize, representative)
    float_bytes = len(content) if quantize == "none" else len(convert(art.model, "none"))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / tflite.MODEL_FILE).write_bytes(content)
    (out_dir / tflite.HEAD_FILE).unlink(missing_ok=True)  # a re-export must not keep an older model's head
    if art.hand_head is not None:  # int8 weights at most: full-integer would need landmark calibration data
        head_mode = "dynamic" if quantize == "int8" else quantize
        (out_dir / tflite.HEAD_FILE).write_bytes(convert(art.hand_head, head_mode))
    meta = {**art.meta, "name": f"{art.name}-tflite-{quantize}", "tflite": {"quantize": quantize, "source": str(art.path) if art.path else art.name,
                                   "representative_n": 0 if representative is None else len(representative)}}
    (out_dir / artifact.META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    lite = tflite.load(out_dir)
    report = {"model": art.name, "quantize": quantize, **parity(art, lite, test, float_bytes)}
    if art.hand_head is not None:
        report["hand_head"] = head_parity(art, lite, test)
    (out_dir / REPORT_FILE).write_text(json.dumps(report, indent=1) + "\n")
    return report


def format_report(report: dict[str, Any]) -> str:
    r = report
    return "\n".join([
        f"{r['model']} -> tflite ({r['quantize']}) on {r['data']} (n={r['n']})",
        "             keras      tflite",
        f"accuracy   {r['keras_accuracy']:8.4%}  {r['tflite_accuracy']:8.4%}   (drop {r['accuracy_drop_pt']:+.2f} pt)",
        f"latency    {r['keras_latency_ms']:7.3f}ms  {r['tflite_latency_ms']:7.3f}ms  (one image, median)",
        f"agreement  {r['agreement']:.4%}",
        f"size       {r['tflite_bytes']:,} bytes ({r['size_ratio']:.2f} × float {r['float_tflite_bytes']:,})",
        *([f"hand head  {h['tflite_bytes']:,} bytes; " + (
            f"agreement {h['agreement']:.2%} on landmarks of {h['n']} images, accuracy "
            f"{h['keras_accuracy']:.2%} -> {h['tflite_accuracy']:.2%}" if h["n"] else "no hands in the data to compare on")]
          if (h := r.get("hand_head")) else []),
    ])
