"""Real hands for tests: the committed Sign-MNIST examples, as 28×28 grids or as photos of a hand."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example(letter: str) -> np.ndarray:
    return np.asarray(Image.open(EXAMPLES / f"{letter}.png"))


def as_photo(grid: np.ndarray, side: int = 240) -> np.ndarray:
    """A 28×28 hand upscaled to 160 px, centred on a black RGB frame: a segmented hand photo."""
    hand = cv2.resize(grid, (160, 160), interpolation=cv2.INTER_CUBIC)
    frame = np.zeros((side, side), np.uint8)
    off = (side - 160) // 2
    frame[off : off + 160, off : off + 160] = hand
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)


def photo_png(letter: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(as_photo(example(letter))).save(buf, "PNG")
    return buf.getvalue()
