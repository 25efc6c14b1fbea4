"""Temperature scaling at inference: the calibration record of an artifact, and applying it.

An artifact's `signlens.json` may carry a `calibration` record (written by `signlens calibrate`,
see evaluation/calibration.py for the fit):

    {"method": "temperature", "temperatures": {"grid": 0.61, "photo": 1.42}, ...what it was fitted on, ECE}

`grid` tempers the image model's answer alone (28×28 grids, and photos where no landmarks were
read); `photo` tempers a photo's combined answer (image model × hand-landmark head). An artifact
without the record, or without one of the two, answers exactly as before (temperature 1).
Numpy only, so the record can be read and applied without TensorFlow.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from signlens.errors import ArtifactError

PATHS = ("grid", "photo")


def temper(probs: np.ndarray, temperature: float) -> np.ndarray:
    """(N, C) probabilities -> p^(1/T), renormalized: softmax(log p / T). For a softmax output this
    is exactly dividing its logits by T; for the photo path's product of two models it is the
    same scaling of the joint log-probabilities. The ranking of letters never changes."""
    probs = np.asarray(probs, np.float32)
    if temperature == 1.0 or len(probs) == 0:
        return probs
    logp = np.log(probs.astype(np.float64) + 1e-12) / temperature
    joint = np.exp(logp - logp.max(axis=-1, keepdims=True))
    return (joint / joint.sum(axis=-1, keepdims=True)).astype(np.float32)


def temperatures(meta: dict[str, Any]) -> dict[str, float]:
    """The artifact's temperature per path (`PATHS`), 1.0 where it has none; a malformed record is
    an error naming the field, not a silent fallback."""
    record = meta.get("calibration")
    if record is None:
        return {path: 1.0 for path in PATHS}
    if not isinstance(record, dict) or record.get("method") != "temperature":
        raise ArtifactError(f"calibration: {record!r:.80} is not a temperature record (method 'temperature')")
    values = record.get("temperatures")
    if not isinstance(values, dict):
        raise ArtifactError("calibration: 'temperatures' must be an object like {\"grid\": 0.6, \"photo\": 1.2}")
    out = {}
    for path in PATHS:
        t = values.get(path, 1.0)
        if not isinstance(t, (int, float)) or not math.isfinite(t) or t <= 0:
            raise ArtifactError(f"calibration: temperatures.{path} = {t!r} is not a positive number")
        out[path] = float(t)
    return out
