"""3-D augmentation of hand landmarks: the invariance the head learns instead of test-time views.

Reading a photo's hand in 20 tilted and mirrored views made the head tolerant of a turned hand at
20 times the cost. Here the training landmarks themselves are turned about all three axes within
a camera's plausible range, rescaled, mirrored (left hands), jittered joint by joint, and their
fingers lengthened or shortened and knuckles moved (other people's hands). The ranges are small
enough that the letters told apart by orientation (H/U, G/Q, P/K) stay apart: H is U turned ~90°.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Joint chains from the wrist: each finger's landmarks after its base, in order.
_CHAINS = [(1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20)]


@dataclass(frozen=True)
class Ranges:
    """How far each augmentation goes (degrees; shares of the palm length; factors)."""

    roll: float = 20.0  # about the camera axis
    yaw: float = 30.0  # about the image's vertical
    pitch: float = 25.0  # about the image's horizontal
    scale: float = 0.15
    jitter: float = 0.025
    finger_length: float = 0.08
    knuckle_shift: float = 0.04
    mirror: float = 0.5  # share turned into left hands


def rotations(n: int, rng: np.random.Generator, ranges: Ranges) -> np.ndarray:
    """(n, 3, 3) rotation matrices, each angle uniform within its range."""
    roll, yaw, pitch = (np.radians(rng.uniform(-a, a, n)) for a in (ranges.roll, ranges.yaw, ranges.pitch))
    c, s = np.cos, np.sin
    rz = np.stack([np.stack([c(roll), -s(roll), 0 * roll], -1), np.stack([s(roll), c(roll), 0 * roll], -1),
                   np.stack([0 * roll, 0 * roll, 1 + 0 * roll], -1)], 1)
    ry = np.stack([np.stack([c(yaw), 0 * yaw, s(yaw)], -1), np.stack([0 * yaw, 1 + 0 * yaw, 0 * yaw], -1),
                   np.stack([-s(yaw), 0 * yaw, c(yaw)], -1)], 1)
    rx = np.stack([np.stack([1 + 0 * pitch, 0 * pitch, 0 * pitch], -1), np.stack([0 * pitch, c(pitch), -s(pitch)], -1),
                   np.stack([0 * pitch, s(pitch), c(pitch)], -1)], 1)
    return rz @ ry @ rx


def rotate(points: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """(N, 21, 3) landmarks turned about their wrist by (N, 3, 3) rotations."""
    wrist = points[:, :1]
    return (points - wrist) @ np.transpose(matrices, (0, 2, 1)) + wrist


def _reshape_fingers(points: np.ndarray, rng: np.random.Generator, ranges: Ranges, palm: np.ndarray) -> np.ndarray:
    """Each finger's bones scaled by one factor and its base moved a little: another person's hand."""
    out = points.copy()
    n = len(points)
    for chain in _CHAINS:
        factor = 1 + rng.normal(0, ranges.finger_length, (n, 1))
        shift = rng.normal(0, ranges.knuckle_shift, (n, 3)) * palm
        base = points[:, chain[0]] + shift
        out[:, chain[0]] = base
        for prev, joint in zip(chain, chain[1:]):
            out[:, joint] = out[:, prev] + factor * (points[:, joint] - points[:, prev])
    return out


def augment(points: np.ndarray, rng: np.random.Generator, ranges: Ranges = Ranges()) -> np.ndarray:
    """(N, 21, 3) landmarks -> a varied copy of each: turned, rescaled, reshaped, jittered, and
    a share of them mirrored into left hands."""
    pts = np.asarray(points, np.float64)
    palm = np.linalg.norm(pts[:, 9] - pts[:, 0], axis=1)[:, None]
    out = _reshape_fingers(pts, rng, ranges, palm)
    out = rotate(out, rotations(len(pts), rng, ranges))
    out = out * (1 + rng.uniform(-ranges.scale, ranges.scale, (len(pts), 1, 1)))
    out = out + rng.normal(0, ranges.jitter, out.shape) * palm[:, :, None]
    flip = rng.random(len(pts)) < ranges.mirror
    out[flip, :, 0] = -out[flip, :, 0]
    return out.astype(np.float32)
