"""The crop each photo got: a grid PNG of source thumbnails with their crop box and the 28×28 grid.

When a photo is misread, the first question is whether the hand was found and framed; this sheet
answers it at a glance (green box: hand found, by `hand.py` or by its landmarks; red: centre-crop
fallback).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from signlens.data import Dataset
from signlens.vision.preprocess import decode_image

TILE = 64


def _tile(path: Path, box: Sequence[int], hand_found: bool, pixels: np.ndarray, caption: str) -> np.ndarray:
    rgb = decode_image(path.read_bytes())
    h, w = rgb.shape[:2]
    x, y, side, _ = (int(v) for v in box)
    pad = max(0, -x, -y, x + side - w, y + side - h)  # boxes may reach outside the photo
    canvas = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(40, 40, 40))
    scale = TILE / max(canvas.shape[:2])
    thumb = cv2.resize(canvas, (round(canvas.shape[1] * scale), round(canvas.shape[0] * scale)),
                       interpolation=cv2.INTER_AREA)
    thumb = cv2.copyMakeBorder(thumb, 0, TILE - thumb.shape[0], 0, TILE - thumb.shape[1], cv2.BORDER_CONSTANT)
    colour = (0, 200, 0) if hand_found else (220, 0, 0)
    p0 = (round((x + pad) * scale), round((y + pad) * scale))
    p1 = (round((x + pad + side) * scale) - 1, round((y + pad + side) * scale) - 1)
    cv2.rectangle(thumb, p0, p1, colour, 2)
    grid = cv2.cvtColor(cv2.resize(pixels, (TILE, TILE), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2RGB)
    tile = np.concatenate([thumb, grid], axis=1)
    tile = cv2.copyMakeBorder(tile, 14, 2, 2, 2, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    cv2.putText(tile, caption, (3, 11), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    return tile


def save_crop_grid(photos: Dataset, captions: Sequence[str], out: Path, cols: int = 8) -> Path:
    """One tile per photo of a folder `data.load` read (thumbnail + the box it cropped | the grid the
    model got), `cols` tiles per row, written as PNG. Only the thumbnails are decoded again."""
    if photos.boxes is None or photos.hand_found is None:
        raise ValueError(f"{photos.source}: not an image folder, no crops to show")
    tiles = [_tile(Path(p), b, f, x, c)
             for p, b, f, x, c in zip(photos.ids, photos.boxes, photos.hand_found, photos.x, captions)]
    blank = np.full_like(tiles[0], 255)
    tiles += [blank] * (-len(tiles) % cols)
    rows = [np.concatenate(tiles[i : i + cols], axis=1) for i in range(0, len(tiles), cols)]
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
    return out
