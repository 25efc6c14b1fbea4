"""Dataset versions: a sha256 over the canonical decoded arrays.

Hashing decoded arrays (not file bytes) makes the fingerprint independent of CRLF/LF, gzip and
column whitespace: the same images and labels always give the same version.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


def fingerprint(x: np.ndarray, y: np.ndarray) -> str:
    h = hashlib.sha256(b"signlens-dataset-v1")
    h.update(np.asarray(x.shape, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(x, dtype=np.uint8).tobytes())
    h.update(np.ascontiguousarray(y, dtype="<i8").tobytes())
    return "sha256:" + h.hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
