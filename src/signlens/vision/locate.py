"""Where the hand is, checked against its joints: the crop box for photos whose landmarks count.

`hand.find_hand` reads colour and contrast. On a skin-toned wall, a light wall or in clutter it
finds part of the hand (a pointing finger cut off), a beige sofa or the signer's face, or nothing. The
landmark model knows what a hand is, so it checks the box, as MediaPipe's own tracking does:

1. It looks at `find_hand`'s box, `LOOK_SCALE` times wider, so a finger the box cut off is in view
   (if `find_hand` found nothing, or the model sees no hand there, at the centre square; if not
   there either, at the one of `search_windows` where its hand-presence score is highest).
2. If the joints it reads fit in `find_hand`'s box and fill enough of it, that box stands: its
   colour mask outlines the hand better than joints do. Otherwise the box is redrawn around the
   joints, and the joints are read again in the new box, up to `ROUNDS` times.

Measured with `bench/backgrounds.py` (the dev photos' hands pasted over other backgrounds): the
dev photos themselves keep `find_hand`'s box (all 240), while hands on a skin-toned wall, in
clutter or beside the signer's face go from 12-33% to 66-72% read right (BENCHMARKS.md, issue 8).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from signlens.vision import hand
from signlens.vision import landmarks

#: The landmark model looks at a candidate box this much wider: the hand then fills ~60% of its
#: input, near what MediaPipe's re-crop gives it. At 1.16 a cut-off finger stays out of view; at
#: 2.0 its joints scatter (on the dev photos 5% outside the box they came from, at 1.5 none).
LOOK_SCALE = 1.5
#: `find_hand`'s box side over the joints' extent: median 1.38 over the 240 dev photos (10th-90th
#: percentile 1.23-1.57). A box redrawn around joints gets this size, so crops keep their scale.
JOINTS_TO_BOX = 1.38
#: Joints may poke this far (share of the side) out of `find_hand`'s box and still fit in it.
FIT_TOLERANCE = 0.03
#: Joints spanning less than this share of `find_hand`'s box mean it took in more than the hand.
MIN_FILL = 0.5
#: A redrawn box that overlaps the previous one this much (IoU) has settled.
SETTLED = 0.8
ROUNDS = 2
#: Window sides searched when nothing else shows a hand, as shares of the frame's shorter side.
SEARCH_SIDES = (0.8, 0.5)


@dataclass(frozen=True)
class Located:
    box: hand.Box
    found: bool  # a hand was found, by `find_hand` or by its joints
    joints: np.ndarray | None  # (21, 2) photo pixels, as the last look saw them


def _fits(joints: np.ndarray, box: hand.Box) -> bool:
    x, y, side, _ = box
    slack = FIT_TOLERANCE * side
    lo, hi = np.array([x - slack, y - slack]), np.array([x + side + slack, y + side + slack])
    inside = bool(((joints >= lo) & (joints <= hi)).all())
    return inside and float(np.ptp(joints, axis=0).max()) >= MIN_FILL * side


def _around(joints: np.ndarray) -> hand.Box:
    (x0, y0), (x1, y1) = joints.min(axis=0), joints.max(axis=0)
    side = max(1, int(round(max(x1 - x0, y1 - y0) * JOINTS_TO_BOX)))
    return int(round((x0 + x1 - side) / 2)), int(round((y0 + y1 - side) / 2)), side, side


def overlap(a: hand.Box, b: hand.Box) -> float:
    """Intersection over union of two boxes."""
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return iw * ih / (a[2] * a[3] + b[2] * b[3] - iw * ih)


def search_windows(h: int, w: int) -> list[hand.Box]:
    """Squares over the frame at `SEARCH_SIDES`, half a side apart: 21 for 640×480."""
    boxes = []
    for share in SEARCH_SIDES:
        side = max(1, int(min(h, w) * share))
        step = max(1, side // 2)
        xs = sorted({*range(0, w - side + 1, step), w - side})
        ys = sorted({*range(0, h - side + 1, step), h - side})
        boxes += [(x, y, side, side) for y in ys for x in xs]
    return boxes


def _first_sight(rgb: np.ndarray, found: hand.Hand) -> tuple[hand.Box, np.ndarray] | None:
    """The first place the landmark model sees a hand: `find_hand`'s box, the centre, a search."""
    h, w = rgb.shape[:2]
    for box in ([found.box] if found.found else []) + [hand.centre_square(h, w)]:
        joints = landmarks.look(rgb, box, LOOK_SCALE)
        if joints is not None:
            return box, joints
    seen = [(box, *landmarks.sighting(rgb, box, landmarks.CROP_SCALE)) for box in search_windows(h, w)]
    box, joints, presence = max(seen, key=lambda s: s[2])
    return (box, joints) if presence >= landmarks.MIN_PRESENCE else None


def locate(rgb: np.ndarray, found: hand.Hand) -> Located:
    """The crop box for a photo: `find_hand`'s when the hand's joints agree with it, else theirs."""
    sight = _first_sight(rgb, found)
    if sight is None:
        return Located(found.box, found.found, None)
    box, joints = sight
    from_finder = found.found and box == found.box
    if from_finder and _fits(joints, box):
        return Located(box, True, joints)
    for _ in range(ROUNDS):
        redrawn = _around(joints)
        if not from_finder and overlap(redrawn, box) >= SETTLED:
            break
        seen = landmarks.look(rgb, redrawn, LOOK_SCALE)
        if seen is None:
            break
        box, joints, from_finder = redrawn, seen, False
    return Located(box, True, joints)


def outline(shape: tuple[int, ...], joints: np.ndarray, box: hand.Box) -> np.ndarray:
    """(H, W) bool: the hand as the hull of its joints, widened by about half a finger. The
    intensity match needs a hand mask, and `find_hand`'s belongs to another box."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(joints).astype(np.int32)), 1)
    k = max(3, int(box[2] * 0.08)) | 1
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
