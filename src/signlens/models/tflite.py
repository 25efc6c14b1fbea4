"""Run a .tflite export with the LiteRT interpreter: the on-device backend of the Predictor.

An export directory holds `model.tflite` and the same `signlens.json` an artifact has (labels,
preprocessing spec), so a .tflite file is served with exactly the labels and preprocessing it was
exported with; an artifact's hand-landmark head comes along as `hand_head.tflite`, so photos on
device are read the same way as on the server. The backend takes the Predictor's float32
(N, 28, 28, 1) 0..255 input and quantizes/dequantizes at the edges when the model is full-integer;
dequantized probabilities are renormalized, as 8-bit steps make them sum to 1 only within ~1%.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from signlens.models import artifact
from signlens.models.artifact import Artifact
from signlens import spec
from signlens.errors import ArtifactError

MODEL_FILE, HEAD_FILE = spec.TFLITE_MODEL_FILE, spec.TFLITE_HEAD_FILE


class TFLiteModel:
    """numpy in, probabilities out; one interpreter, resized per batch shape, guarded by a lock."""

    def __init__(self, content: bytes, num_threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        # LiteRT's default is one thread; all cores double int8 batch throughput (bench/batch.py)
        threads = num_threads or os.cpu_count() or 1
        try:
            self._interp = Interpreter(model_content=content, num_threads=threads)
        except (ValueError, RuntimeError) as exc:
            raise ArtifactError(f"cannot load TFLite model: {exc}") from None
        self._in = self._interp.get_input_details()[0]
        self._out = self._interp.get_output_details()[0]
        self._shape: tuple[int, ...] | None = None
        self._lock = threading.Lock()  # the interpreter is not thread-safe; the server calls from threads
        self.size_bytes = len(content)
        self.sha256 = hashlib.sha256(content).hexdigest()  # what the server reports as the version

    @property
    def input_dtype(self) -> np.dtype:
        return np.dtype(self._in["dtype"])

    def _quantize(self, x: np.ndarray) -> np.ndarray:
        dtype = self.input_dtype
        if dtype == np.float32:
            return x.astype(np.float32, copy=False)
        scale, zero = self._in["quantization"]
        info = np.iinfo(dtype)
        return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)

    def _dequantize(self, y: np.ndarray) -> np.ndarray:
        if y.dtype == np.float32:
            return y
        scale, zero = self._out["quantization"]
        probs = np.maximum((y.astype(np.float32) - zero) * scale, 0)
        total = probs.sum(axis=-1, keepdims=True)
        return (probs / np.where(total > 0, total, 1)).astype(np.float32)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """float32 (N, ...) model input (a grid: (N, 28, 28, 1) in 0..255) -> (N, n_classes) float32."""
        q = self._quantize(np.asarray(x))
        with self._lock:
            if q.shape != self._shape:
                self._interp.resize_tensor_input(self._in["index"], list(q.shape))
                self._interp.allocate_tensors()
                self._shape = q.shape
            self._interp.set_tensor(self._in["index"], q)
            self._interp.invoke()
            y = self._interp.get_tensor(self._out["index"])
        return self._dequantize(y)


def is_export(path: Path) -> bool:
    return (path.is_file() and path.suffix == ".tflite") or (path.is_dir() and (path / MODEL_FILE).exists())


def load(path: str | Path, num_threads: int | None = None) -> Artifact:
    """Load an export dir (or the .tflite inside it) with the signlens.json (and head) beside it."""
    path = Path(path)
    model_path = path if path.is_file() else path / MODEL_FILE
    meta = artifact.read_meta(model_path.parent)  # same labels/preprocess checks as a Keras artifact
    model = TFLiteModel(model_path.read_bytes(), num_threads)
    head_path = model_path.parent / HEAD_FILE
    head = TFLiteModel(head_path.read_bytes(), num_threads) if head_path.exists() else None
    return Artifact(model, meta, model_path.parent, hand_head=head)  # type: ignore[arg-type]  # backends, not keras.Model
