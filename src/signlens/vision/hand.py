"""Find the hand in a photo: a foreground mask, its largest component, a square box around it.

Sign-MNIST hands fill their 28×28 frame, so a photo only looks like one after cropping to the
hand. Without a downloadable detector we combine two classical cues:

* **border contrast** - on a plain background (wall, desk, the black of a segmented photo) the
  frame's border is one colour; pixels far from it (Otsu threshold on the distance) are the hand.
* **skin colour** - a YCrCb range that holds across skin tones; it is what is left on a
  cluttered background, where the border has no single colour.

The largest connected component of the chosen mask is the hand; if it is implausibly small or
covers almost the whole frame, `find_hand` says so and the caller falls back to a centre crop.
Everything is deterministic (no randomness, fixed kernel sizes relative to the image).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Extra room around the hand's bounding box, per side, as a fraction of its longer side.
MARGIN = 0.06
#: Work on at most this many pixels on the long side: speed, and kernel sizes stay meaningful.
WORK_SIDE = 256
#: A hand covers at least this fraction of the frame, and at most MAX_AREA of it.
MIN_AREA = 0.005
MAX_AREA = 0.95
#: Border pixels whose colour spread (mean Lab distance to their median) is below this are "plain".
PLAIN_BORDER = 10.0

Box = tuple[int, int, int, int]  # (x, y, w, h) in source pixels; may reach outside the image


@dataclass(frozen=True)
class Hand:
    box: Box  # square crop box around the hand (or the centre square when not found)
    found: bool
    mask: np.ndarray  # (H, W) bool, the hand's pixels in the source image (all False if not found)
    background: float  # grayscale level of the background, used to pad crops reaching outside


def centre_square(h: int, w: int) -> Box:
    side = min(h, w)
    return ((w - side) // 2, (h - side) // 2, side, side)


def _border(img: np.ndarray) -> np.ndarray:
    return np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])


def _skin_mask(rgb: np.ndarray) -> np.ndarray:
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    # The classic Chai & Ngan chroma box, widened a little for warm/cool white balance; luma > 30
    # drops near-black pixels whose chroma is noise.
    return cv2.inRange(ycrcb, (30, 133, 70), (255, 180, 130)) > 0


def _contrast_mask(lab: np.ndarray) -> tuple[np.ndarray, float]:
    """Pixels far from the border's median colour; returns the mask and the border's spread."""
    border = _border(lab).astype(np.float32)
    ref = np.median(border, axis=0)
    spread = float(np.linalg.norm(border - ref, axis=1).mean())
    dist = np.linalg.norm(lab.astype(np.float32) - ref, axis=2)
    dist8 = np.clip(dist * (255.0 / max(float(dist.max()), 1.0)), 0, 255).astype(np.uint8)
    level, _ = cv2.threshold(dist8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return dist8 > max(level, 20), spread


def _largest_component(mask: np.ndarray) -> np.ndarray | None:
    side = max(mask.shape)
    k = max(3, side // 64) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n < 2:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    area = stats[best, cv2.CC_STAT_AREA] / m.size
    if not MIN_AREA <= area <= MAX_AREA:
        return None
    return lab == best


def square_box(mask: np.ndarray, margin: float = MARGIN) -> Box:
    """The square around the mask's bounding box, centred on it, `margin` larger per side."""
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    side = int(round(max(x1 - x0, y1 - y0) * (1 + 2 * margin)))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (int(round(cx - side / 2)), int(round(cy - side / 2)), side, side)


def find_hand(rgb: np.ndarray) -> Hand:
    """Locate the hand in an RGB uint8 image; deterministic, no model download."""
    h, w = rgb.shape[:2]
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    scale = min(1.0, WORK_SIDE / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    contrast, spread = _contrast_mask(lab)
    skin = _skin_mask(small)
    background = float(np.median(_border(gray)))
    # Plain border: the contrast mask is exact (it also keeps shadowed, less skin-coloured parts).
    # Cluttered border: only skin colour separates the hand from the rest.
    candidates = [contrast, skin] if spread < PLAIN_BORDER else [skin & contrast, skin]
    for mask in candidates:
        component = _largest_component(mask)
        if component is not None:
            full = cv2.resize(component.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
            if full.any():
                return Hand(square_box(full), True, full, background)
    return Hand(centre_square(h, w), False, np.zeros((h, w), bool), background)


def crop(image: np.ndarray, box: Box, fill: float) -> np.ndarray:
    """Cut `box` out of a gray or colour image, padding with `fill` where it reaches outside."""
    x, y, side, _ = box
    h, w = image.shape[:2]
    pad = max(0, -x, -y, x + side - w, y + side - h)
    if pad:
        level = int(round(fill))
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(level, level, level))
        x, y = x + pad, y + pad
    return image[y : y + side, x : x + side]
