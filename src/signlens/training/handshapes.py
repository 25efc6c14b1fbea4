"""A handshape prior: a kinematic hand that signs every letter, in the landmark model's convention.

Sign-MNIST shows each letter the way a handful of signers made it, read off 28-px images; real
people sign F with the three fingers together or spread, tuck the thumb of T, N and M between
different fingers, hook X's index more or less. This module builds 21×3 landmarks from bone
lengths (anthropometric ratios of the palm length, wrist to middle knuckle) and per-letter joint
angles, with the variants people really sign, and samples them with natural variation.

Convention (MediaPipe hand landmarks): 0 wrist; thumb 1-4 (CMC, MCP, IP, tip); index 5-8, middle
9-12, ring 13-16, pinky 17-20 (knuckle, PIP, DIP, tip). Image axes: x right, y down, z toward the
scene (negative = nearer the camera). The hand is a right hand, palm to the camera, fingers up, so
its thumb is on the image's right (+x); `landmarks.mirrored` makes the left hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signlens import labels

#: Palm frame: knuckles (MCP) of index, middle, ring, pinky and the thumb's CMC, wrist at the origin,
#: palm length (wrist -> middle knuckle) 1. Ratios after hand anthropometry (Buryanov & Kotiuk 2010).
KNUCKLES = np.array([[0.30, -0.93, 0.0], [0.06, -1.0, 0.0], [-0.16, -0.94, 0.0], [-0.35, -0.82, 0.0]])
THUMB_CMC = np.array([0.22, -0.28, -0.05])
#: Phalanx lengths (proximal, middle, distal) per finger, and thumb (metacarpal, proximal, distal).
FINGER_BONES = np.array([[0.46, 0.27, 0.20], [0.50, 0.32, 0.22], [0.47, 0.31, 0.22], [0.37, 0.21, 0.19]])
THUMB_BONES = np.array([0.42, 0.33, 0.27])
FINGERS = ("index", "middle", "ring", "pinky")

STRAIGHT = (0.0, 0.0, 0.0)
FIST = (88.0, 100.0, 60.0)
HOOK = (15.0, 95.0, 70.0)
CURVE = (35.0, 45.0, 25.0)
BENT_E = (25.0, 105.0, 75.0)


@dataclass(frozen=True)
class Pose:
    """One way of signing a letter: per-finger (MCP, PIP, DIP) flexion in degrees, each finger's
    spread (degrees toward the thumb side), where the thumb tip is (palm frame), which way the
    thumb chain bends, and how the whole hand is turned (roll in the image, yaw, pitch; degrees)."""

    fingers: tuple[tuple[float, float, float], ...]
    spread: tuple[float, float, float, float]
    thumb_tip: tuple[float, float, float]
    thumb_bend: tuple[float, float, float] = (-1.0, 0.0, -0.6)
    turn: tuple[float, float, float] = (0.0, 0.0, 0.0)
    variant: str = ""


def _pose(fingers: list, spread: tuple, thumb: tuple, turn: tuple = (0.0, 0.0, 0.0),
          bend: tuple = (-1.0, 0.0, -0.6), variant: str = "") -> Pose:
    return Pose(tuple(fingers), tuple(spread), tuple(thumb), tuple(bend), tuple(turn), variant)


_TOGETHER = (2.0, 0.0, -2.0, -4.0)
_FIST4 = [FIST] * 4
_UP = (0.0, 0.0, 0.0)
_SIDEWAYS = (-85.0, 30.0, 0.0)  # fingers pointing across the body (G, H), palm to the signer's side
_DOWN = (-150.0, 20.0, 35.0)  # pointing down and forward (P, Q)

#: Every letter's poses: the way it is taught, and the variants real signers make.
POSES: dict[str, list[Pose]] = {
    "A": [_pose(_FIST4, _TOGETHER, (0.42, -0.88, -0.12), variant="thumb beside the index"),
          _pose(_FIST4, _TOGETHER, (0.36, -1.02, -0.20), variant="thumb tip up at the index's side")],
    "B": [_pose([STRAIGHT] * 4, _TOGETHER, (-0.05, -0.62, -0.22), variant="thumb across the palm"),
          _pose([STRAIGHT] * 4, _TOGETHER, (0.12, -0.70, -0.18), variant="thumb bent to the index knuckle")],
    "C": [_pose([CURVE] * 4, _TOGETHER, (0.30, -1.00, -0.75), (0.0, 55.0, 0.0), bend=(-0.3, -1.0, 0.0))],
    "D": [_pose([STRAIGHT, (45, 80, 40), (45, 80, 40), (48, 80, 40)], _TOGETHER, (0.05, -0.98, -0.64),
                bend=(-1.0, -0.4, -0.3))],
    "E": [_pose([BENT_E] * 4, _TOGETHER, (-0.05, -0.68, -0.30), variant="thumb tucked under the tips"),
          _pose([(15, 95, 70)] * 4, _TOGETHER, (0.02, -0.75, -0.38), variant="tips resting on the thumb")],
    "F": [_pose([(40, 75, 40), STRAIGHT, STRAIGHT, STRAIGHT], (2.0, 8.0, -8.0, -24.0), (0.30, -1.00, -0.60),
                bend=(-1.0, -0.6, -0.3), variant="three fingers spread"),
          _pose([(40, 75, 40), STRAIGHT, STRAIGHT, STRAIGHT], _TOGETHER, (0.30, -1.00, -0.60),
                bend=(-1.0, -0.6, -0.3), variant="three fingers together")],
    "G": [_pose([STRAIGHT, FIST, FIST, FIST], _TOGETHER, (0.40, -1.25, -0.10), _SIDEWAYS, bend=(0.3, -1.0, 0.0))],
    "H": [_pose([STRAIGHT, STRAIGHT, FIST, FIST], _TOGETHER, (-0.05, -0.75, -0.35), _SIDEWAYS)],
    "I": [_pose([FIST, FIST, FIST, STRAIGHT], _TOGETHER, (0.0, -0.80, -0.50))],
    "K": [_pose([STRAIGHT, (40, 10, 0), FIST, FIST], (8.0, -8.0, -2.0, -4.0), (0.18, -1.30, -0.40),
                (-10.0, 0.0, 0.0), bend=(-1.0, -0.5, -0.4))],
    "L": [_pose([STRAIGHT, FIST, FIST, FIST], _TOGETHER, (0.95, -0.55, -0.05), bend=(0.0, -1.0, 0.0))],
    "M": [_pose([(80, 95, 60), (80, 95, 60), (80, 95, 60), FIST], _TOGETHER, (-0.27, -0.98, -0.40),
                variant="thumb tip between ring and pinky")],
    "N": [_pose([(80, 95, 60), (80, 95, 60), FIST, FIST], _TOGETHER, (-0.06, -1.00, -0.40),
                variant="thumb tip between middle and ring")],
    "O": [_pose([(40, 60, 30), (38, 60, 30), (36, 60, 30), (34, 60, 30)], _TOGETHER, (0.20, -1.10, -0.72),
                (0.0, 40.0, 0.0), bend=(-1.0, -0.5, -0.2))],
    "P": [_pose([STRAIGHT, (40, 10, 0), FIST, FIST], (8.0, -8.0, -2.0, -4.0), (0.18, -1.30, -0.40), _DOWN,
                bend=(-1.0, -0.5, -0.4), variant="K pointing down"),
          _pose([STRAIGHT, (40, 10, 0), FIST, FIST], (8.0, -8.0, -2.0, -4.0), (0.18, -1.30, -0.40),
                (-120.0, 25.0, 20.0), bend=(-1.0, -0.5, -0.4), variant="K pointing forward-down")],
    "Q": [_pose([STRAIGHT, FIST, FIST, FIST], _TOGETHER, (0.40, -1.25, -0.10), _DOWN, bend=(0.3, -1.0, 0.0))],
    "R": [_pose([STRAIGHT, STRAIGHT, FIST, FIST], (-8.0, 8.0, -2.0, -4.0), (-0.05, -0.75, -0.35))],
    "S": [_pose(_FIST4, _TOGETHER, (0.00, -0.88, -0.58), bend=(-1.0, 0.0, -0.2),
                variant="thumb across the fingers")],
    "T": [_pose([(85, 105, 60), FIST, FIST, FIST], _TOGETHER, (0.18, -1.05, -0.45),
                variant="thumb tip between index and middle")],
    "U": [_pose([STRAIGHT, STRAIGHT, FIST, FIST], _TOGETHER, (-0.05, -0.75, -0.35))],
    "V": [_pose([STRAIGHT, STRAIGHT, FIST, FIST], (12.0, -10.0, -2.0, -4.0), (-0.05, -0.75, -0.35))],
    "W": [_pose([STRAIGHT, STRAIGHT, STRAIGHT, FIST], (12.0, 0.0, -12.0, -4.0), (-0.20, -0.80, -0.40))],
    "X": [_pose([HOOK, FIST, FIST, FIST], _TOGETHER, (0.05, -0.82, -0.50), variant="index hooked"),
          _pose([(35, 85, 55), FIST, FIST, FIST], _TOGETHER, (0.05, -0.82, -0.50), variant="index half hooked")],
    "Y": [_pose([FIST, FIST, FIST, STRAIGHT], (2.0, 0.0, -2.0, -20.0), (0.95, -0.45, -0.05), bend=(0.0, -1.0, 0.0))],
}
assert set(POSES) == set(labels.LETTERS), "every letter needs a pose"


def _rotation(roll: float, yaw: float, pitch: float) -> np.ndarray:
    """Turn about the camera axis (roll), the vertical (yaw), then the horizontal (pitch); degrees."""
    r, y, p = np.radians([roll, yaw, pitch])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    return rz @ ry @ rx


def _finger(knuckle: np.ndarray, bones: np.ndarray, flex: np.ndarray, spread: float) -> np.ndarray:
    """MCP, PIP, DIP, tip of one finger: it leaves the knuckle spread degrees toward +x from
    straight up, each joint bending it toward the palm's side (-z)."""
    s = np.radians(spread)
    up = np.array([np.sin(s), -np.cos(s), 0.0])
    palmward = np.array([0.0, 0.0, -1.0])
    points, angle = [knuckle], 0.0
    for length, bend in zip(bones, np.radians(flex)):
        angle += bend
        points.append(points[-1] + length * (np.cos(angle) * up + np.sin(angle) * palmward))
    return np.array(points)


def _thumb(tip: np.ndarray, bones: np.ndarray, bend: np.ndarray) -> np.ndarray:
    """CMC, MCP, IP, tip: a chain of the thumb's bone lengths, bent evenly in the plane of the
    chord (CMC -> tip) and `bend`, reaching as close to `tip` as its length allows."""
    chord = tip - THUMB_CMC
    dist = np.linalg.norm(chord)
    axis = chord / dist
    side = bend - axis * (bend @ axis)
    side = side / (np.linalg.norm(side) + 1e-9)

    def planar(phi: float) -> np.ndarray:  # joints in the (along, side) plane, first bone at -phi
        angles = -phi + phi * np.arange(3)
        steps = bones[:, None] * np.stack([np.cos(angles), np.sin(angles)], 1)
        return np.concatenate([[[0.0, 0.0]], np.cumsum(steps, 0)])

    lo, hi = 0.0, np.pi / 1.6  # chord length falls as the bend grows: bisect for the one that fits
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.linalg.norm(planar(mid)[-1]) > dist else (lo, mid)
    plane = planar(lo)
    plane_axis = plane[-1] / np.linalg.norm(plane[-1])
    plane_side = np.array([-plane_axis[1], plane_axis[0]])
    along, across = plane @ plane_axis, plane @ plane_side
    return THUMB_CMC + along[:, None] * axis + across[:, None] * side


def build(pose: Pose, rng: np.random.Generator | None = None, variation: float = 1.0) -> np.ndarray:
    """One hand in `pose` -> (21, 3) landmarks, palm length 1, wrist at the origin. With `rng`,
    bone lengths, joint angles, spread, thumb tip and turn vary as between people and repetitions."""
    def vary(scale: float, size: tuple[int, ...] = ()) -> np.ndarray:
        return rng.normal(0.0, scale * variation, size) if rng is not None else np.zeros(size)

    knuckles = KNUCKLES + vary(0.025, KNUCKLES.shape) * np.array([1, 1, 0.3])
    finger_bones = FINGER_BONES * (1 + vary(0.05, (4, 1))) * (1 + vary(0.03, (4, 3)))
    thumb_bones = THUMB_BONES * (1 + vary(0.06, (3,)))
    flex = np.clip(np.array(pose.fingers, float) + vary(8.0, (4, 3)), -15, 115)
    spread = np.array(pose.spread, float) + vary(2.5, (4,))
    tip = np.array(pose.thumb_tip, float) + vary(0.05, (3,))
    points = np.zeros((21, 3))
    points[1:5] = _thumb(tip, thumb_bones, np.array(pose.thumb_bend, float))
    for k in range(4):
        points[5 + 4 * k: 9 + 4 * k] = _finger(knuckles[k], finger_bones[k], flex[k], spread[k])
    turn = np.array(pose.turn, float) + vary(6.0, (3,))
    return (points @ _rotation(*turn).T).astype(np.float32)


def sample(per_pose: int, seed: int, variation: float = 1.0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`per_pose` varied hands of every pose of every letter -> (points (M, 21, 3), letters (M,),
    variant names (M,)); the landmark model's pixel scale is irrelevant: features divide it out."""
    rng = np.random.default_rng(seed)
    points, letters, variants = [], [], []
    for letter, poses in POSES.items():
        for pose in poses:
            for _ in range(per_pose):
                points.append(build(pose, rng, variation))
                letters.append(labels.index_of_letter(letter))
                variants.append(f"{letter}: {pose.variant}" if pose.variant else letter)
    return np.stack(points), np.asarray(letters, np.int64), variants
