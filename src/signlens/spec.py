"""The shared contract: what the artifact, the exporters and preprocess must agree on.

A leaf module (no TensorFlow, no OpenCV, no numpy), so any stage can read the contract without
loading another stage's libraries: `models.artifact` checks a saved model against it,
`vision.preprocess` produces it, `inference.export` and the TF.js importer write it.
"""

from __future__ import annotations

from typing import Any

#: Side of the square grayscale grid every image model reads (Sign-MNIST's 28×28).
GRID_SIZE = 28

#: Stored in every artifact so a consumer can check it feeds the model what it was trained on.
PREPROCESS_SPEC: dict[str, Any] = {
    "version": 1,
    "grid": [GRID_SIZE, GRID_SIZE],
    "channels": 1,
    "dtype": "float32",
    "range": [0, 255],
    "photo": "square crop around the hand (hand.py; with hand_points, checked and if need be redrawn "
    "around the hand's landmarks, locate.py; centre crop if no hand found), grayscale, INTER_AREA "
    "resize, hand/background intensities matched to Sign-MNIST (normalize), Gaussian blur sigma 0.5 "
    "to match its sharpness",
    "hand_points": "photos, for an artifact's hand-landmark head: 21 MediaPipe hand landmarks in each "
    "of landmarks.VIEWS (the crop, 1.16x wider; its plain 28x28 gray upscaled), where the landmark "
    "model sees a hand; the head reads landmarks.features (wrist-relative joints over the palm "
    "triangle's mean side, pairwise 2-D joint distances, 2-D bone directions) of each view and "
    "pools the views",
}

#: The artifact directory's format and file names (models/artifact.py documents each file).
FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
HEAD_FILE = "hand_head.keras"
META_FILE = "signlens.json"
HISTORY_FILE = "history.json"

#: A TFLite export directory's model files (inference/export.py writes them, models/tflite.py reads them).
TFLITE_MODEL_FILE = "model.tflite"
TFLITE_HEAD_FILE = "hand_head.tflite"

#: The image model builders a training config may name (models/builders.py's MODELS has one each),
#: here so `signlens train model=...` is checked before Keras loads.
MODEL_NAMES = ("cnn", "mlp", "signlens")
