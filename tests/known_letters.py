"""Known letters for the server's smoke check that the tiny synthetic test model can read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from signlens import labels
from tests.synthetic import letter_image


def synthetic_examples(folder: Path, seed: int = 11) -> Path:
    """One synthetic 28×28 image per letter, named `<LETTER>.png` like the shipped examples/."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i, letter in enumerate(labels.LETTERS):
        Image.fromarray(letter_image(i, rng)).save(folder / f"{letter}.png")
    return folder
