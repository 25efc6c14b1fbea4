"""Builds static/alphabet.png, the page's ASL alphabet reference: one real Sign-MNIST example per
letter in a 24×1 sprite. Run once after the vendored data changes (the PNG is committed):

    python -m signlens.serving.alphabet
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from signlens import labels
from signlens.data import load
from signlens.serving.routes.pages import STATIC_DIR


def build() -> Image.Image:
    data = load(None, "train")
    tiles = [data.x[int(np.flatnonzero(data.y == i)[0])] for i in range(labels.N_CLASSES)]
    return Image.fromarray(np.concatenate(tiles, axis=1), mode="L")


if __name__ == "__main__":
    out = STATIC_DIR / "alphabet.png"
    build().save(out, optimize=True)
    print(f"wrote {out}")
