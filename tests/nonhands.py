"""Images that are not hands, for the "no hand" answer: noise, bar charts, blank walls, a drawn face.

Made here, deterministic per seed, at camera-ish sizes (not 28×28: a 28×28 grid is a Sign-MNIST
hand by definition and keeps its path).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

KINDS = ("noise", "bar chart", "blank wall", "face drawing")


def noise(rng: np.random.Generator, side: int = 320) -> np.ndarray:
    """Uniform RGB noise, sometimes smoothed into blotches."""
    img = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    if rng.random() < 0.5:
        small = rng.integers(0, 256, (side // 16, side // 16, 3), dtype=np.uint8)
        img = np.asarray(Image.fromarray(small).resize((side, side), Image.BICUBIC))
    return img


def bar_chart(rng: np.random.Generator, size: tuple[int, int] = (400, 300)) -> np.ndarray:
    """Axes, a few coloured bars of random heights, tick marks: what a slide or report shows."""
    w, h = size
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    draw.line([(40, 20), (40, h - 30), (w - 10, h - 30)], fill="black", width=2)
    n = int(rng.integers(3, 9))
    colour = tuple(int(c) for c in rng.integers(0, 200, 3))
    step = (w - 60) / n
    for k in range(n):
        top = int(rng.integers(30, h - 50))
        x0 = int(50 + k * step)
        draw.rectangle([x0, top, int(x0 + step * 0.7), h - 31], fill=colour)
        draw.line([(x0 + step * 0.35, h - 30), (x0 + step * 0.35, h - 24)], fill="black")
    for y in range(40, h - 30, 40):
        draw.line([(34, y), (40, y)], fill="black")
    return np.asarray(img)


def blank_wall(rng: np.random.Generator, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """A flat wall under uneven room light, with sensor noise."""
    w, h = size
    base = rng.integers(90, 230, 3).astype(np.float32)
    ramp = np.linspace(0.8, 1.1, w)[None, :, None] * np.linspace(1.05, 0.85, h)[:, None, None]
    img = base * ramp + rng.normal(0, 4, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def face_drawing(rng: np.random.Generator, side: int = 320) -> np.ndarray:
    """A skin-toned oval with eyes, nose and mouth on a light background."""
    img = Image.new("RGB", (side, side), tuple(int(c) for c in rng.integers(180, 240, 3)))
    draw = ImageDraw.Draw(img)
    skin = (int(rng.integers(170, 235)), int(rng.integers(120, 180)), int(rng.integers(90, 140)))
    draw.ellipse([side * 0.25, side * 0.15, side * 0.75, side * 0.85], fill=skin, outline="black")
    for ex in (0.4, 0.6):
        draw.ellipse([side * (ex - 0.04), side * 0.38, side * (ex + 0.04), side * 0.44], fill="white", outline="black")
        draw.ellipse([side * (ex - 0.015), side * 0.395, side * (ex + 0.015), side * 0.425], fill="black")
    draw.line([(side * 0.5, side * 0.45), (side * 0.47, side * 0.58), (side * 0.52, side * 0.58)], fill="black", width=2)
    draw.arc([side * 0.4, side * 0.6, side * 0.6, side * 0.72], 20, 160, fill=(120, 30, 30), width=3)
    return np.asarray(img)


MAKERS = {"noise": noise, "bar chart": bar_chart, "blank wall": blank_wall, "face drawing": face_drawing}


def make(kind: str, seed: int) -> np.ndarray:
    """One non-hand RGB image of `kind` (one of KINDS)."""
    return MAKERS[kind](np.random.default_rng(seed))


def png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()
