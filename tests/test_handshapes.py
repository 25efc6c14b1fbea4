"""The synthetic handshape prior and the 3-D landmark augmentation the head learns from."""

from __future__ import annotations

import numpy as np
import pytest

from signlens import labels
from signlens.training import head as hand_head
from signlens.training import handshapes, landmark_augment
from signlens.vision import landmarks

_FINGER_BASES = {"thumb": 1, "index": 5, "middle": 9, "ring": 13, "pinky": 17}


def _bones(points: np.ndarray) -> np.ndarray:
    """(N, 21, 3) -> (N, 20) bone lengths over the palm length (wrist -> middle knuckle)."""
    pairs = [(0 if k % 4 == 1 else k - 1, k) for k in range(1, 21)]
    a, b = np.array(pairs).T
    palm = np.linalg.norm(points[:, 9] - points[:, 0], axis=1)[:, None]
    return np.linalg.norm(points[:, b] - points[:, a], axis=2) / palm


def test_every_letter_is_generated_in_the_landmark_models_convention() -> None:
    points, letters, variants = handshapes.sample(per_pose=5, seed=0)
    assert points.shape[1:] == (21, 3) and np.isfinite(points).all()
    assert set(letters.tolist()) == set(range(labels.N_CLASSES))
    np.testing.assert_allclose(points[:, 0], 0.0, atol=1e-6)  # the wrist comes first
    bones = _bones(points)
    # Phalanges and metacarpals of adult hands: 0.15-0.55 of the palm length; the knuckles' own
    # "bones" from the wrist are the metacarpals (~0.9-1.05).
    assert bones[:, [1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15, 17, 18, 19]].min() > 0.12
    assert bones[:, [1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15, 17, 18, 19]].max() < 0.65
    assert 0.8 < bones[:, [4, 8, 12, 16]].min() and bones[:, [4, 8, 12, 16]].max() < 1.25


def test_the_generated_hand_is_a_right_hand_with_its_joints_in_order() -> None:
    b = handshapes.build(handshapes.POSES["B"][0])  # flat hand, palm to the camera, fingers up
    assert b[_FINGER_BASES["index"], 0] > b[_FINGER_BASES["pinky"], 0]  # right hand: index on the right
    assert b[1, 0] > b[_FINGER_BASES["middle"], 0]  # the thumb's base on the index side
    for base in (5, 9, 13, 17):  # each straight finger runs knuckle -> PIP -> DIP -> tip, away from the wrist
        assert np.all(np.diff(-b[base:base + 4, 1]) > 0)
    a = handshapes.build(handshapes.POSES["A"][0])  # fist: fingertips come back toward the wrist
    assert all(np.linalg.norm(a[k + 3]) < np.linalg.norm(a[k + 1]) for k in (5, 9, 13, 17))


def test_variants_differ_where_they_should() -> None:
    spread, together = (handshapes.build(p) for p in handshapes.POSES["F"])
    gap = lambda h: np.linalg.norm(h[12, :2] - h[20, :2])  # middle tip to pinky tip
    assert gap(spread) > gap(together) + 0.2  # palm lengths
    for hand in (spread, together):  # both: the index tip meets the thumb tip
        assert np.linalg.norm(hand[8] - hand[4]) < 0.1
    d = handshapes.build(handshapes.POSES["D"][0])  # D: the thumb meets the middle finger, the index stands
    assert np.linalg.norm(d[12] - d[4]) < 0.1 and d[8, 1] < d[5, 1] - 0.8
    np.testing.assert_allclose(spread[:9], together[:9], atol=0.02)  # thumb and index the same
    # The thumb positions that tell fists apart: T tucks it between index and middle, N between
    # middle and ring, M between ring and pinky (moving toward the pinky: -x).
    t, n, m = (handshapes.build(handshapes.POSES[k][0])[4, 0] for k in "TNM")
    assert t > n > m


def test_rotation_keeps_bone_lengths_and_mirroring_makes_a_left_hand() -> None:
    points, _, _ = handshapes.sample(per_pose=2, seed=1)
    rng = np.random.default_rng(0)
    turned = landmark_augment.rotate(points, landmark_augment.rotations(len(points), rng, landmark_augment.Ranges()))
    np.testing.assert_allclose(_bones(turned), _bones(points), rtol=1e-4)
    no_reshape = landmark_augment.Ranges(scale=0, jitter=0, finger_length=0, knuckle_shift=0, mirror=1.0,
                                         roll=0, yaw=0, pitch=0)
    left = landmark_augment.augment(points, rng, no_reshape)
    np.testing.assert_allclose(left, landmarks.mirrored(points), atol=1e-5)


@pytest.fixture(scope="module")
def tiny_head():
    points, letters, _ = handshapes.sample(per_pose=25, seed=0)
    return hand_head.fit(points, letters, seed=0, epochs=5, copies=3, members=1)


def test_a_turned_hand_keeps_its_letter(tiny_head) -> None:
    """3-D augmentation teaches the head that a hand turned within a camera's range is the same
    letter: its answer on turned synthetic hands matches its answer on the unturned ones."""
    hands, _, _ = handshapes.sample(per_pose=3, seed=7, variation=0.5)
    rng = np.random.default_rng(3)
    half = landmark_augment.Ranges(roll=10, yaw=15, pitch=12)
    turned = landmark_augment.rotate(hands, landmark_augment.rotations(len(hands), rng, half))
    before = tiny_head.predict(landmarks.features(hands), verbose=0).argmax(1)
    after = tiny_head.predict(landmarks.features(turned), verbose=0).argmax(1)
    assert (before == after).mean() >= 0.85
