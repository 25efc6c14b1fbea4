"""locate.py: the landmark model checks, and if need be redraws, the box around a photo's hand."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from signlens.vision import hand
from signlens.vision import landmarks
from signlens.vision import locate
from signlens.vision.preprocess import preprocess
from tests.hands import example

SIDE = 160  # the hand patch's side in the frame


def frame_with_hand(x: int, y: int, letter: str = "L", colour: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """A 480×640 frame of one colour with a Sign-MNIST hand (160 px, its wall included) at (x, y)."""
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:] = colour
    patch = cv2.resize(example(letter), (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
    frame[y : y + SIDE, x : x + SIDE] = cv2.cvtColor(patch, cv2.COLOR_GRAY2RGB)
    return frame


def on_the_hand(box: hand.Box, x: int, y: int) -> bool:
    """The box is centred in the hand's patch and about its size."""
    bx, by, side, _ = box
    centre = np.array([bx + side / 2, by + side / 2])
    return bool(np.all(np.abs(centre - (x + SIDE / 2, y + SIDE / 2)) < SIDE / 4)) and SIDE / 2 <= side <= 2 * SIDE


def finder_says(monkeypatch: pytest.MonkeyPatch, box: hand.Box | None, shape: tuple[int, int]) -> hand.Hand:
    """Make `hand.find_hand` answer `box` (None: nothing found), as it does on hard backgrounds."""
    found = box is not None
    mask = np.zeros(shape, bool)
    if found:
        mask[max(0, box[1]) : box[1] + box[3], max(0, box[0]) : box[0] + box[2]] = True
    answer = hand.Hand(box if found else hand.centre_square(*shape), found, mask, 0.0)
    monkeypatch.setattr(hand, "find_hand", lambda rgb: answer)
    return answer


def test_the_finders_box_stands_when_the_hands_joints_fit_in_it() -> None:
    frame = frame_with_hand(240, 160)
    found = hand.find_hand(frame)
    where = locate.locate(frame, found)
    assert found.found and where.box == found.box and where.found
    assert where.joints is not None and where.joints.shape == (landmarks.N_POINTS, 2)


def test_a_box_that_cut_the_hand_short_is_redrawn_around_it(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = frame_with_hand(240, 160)
    top_half = (240 + SIDE // 4, 160, SIDE // 2, SIDE // 2)  # the finger tips only, as on a skin-toned wall
    found = finder_says(monkeypatch, top_half, frame.shape[:2])
    where = locate.locate(frame, found)
    assert where.box != top_half and on_the_hand(where.box, 240, 160), where.box


def test_a_box_on_a_face_moves_to_the_hand() -> None:
    frame = frame_with_hand(420, 250, colour=(90, 100, 110))
    cv2.ellipse(frame, (320, 200), (110, 150), 0, 0, 360, (200, 150, 120), -1)  # a face, larger than the hand
    found = hand.find_hand(frame)
    assert found.found and not on_the_hand(found.box, 420, 250)  # skin colour: the face is the largest region
    where = locate.locate(frame, found)
    assert where.found and on_the_hand(where.box, 420, 250), where.box


def test_a_small_hand_off_centre_that_the_finder_missed_is_searched_for(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = frame_with_hand(470, 300, colour=(205, 165, 135))  # bottom right, outside the centre square
    found = finder_says(monkeypatch, None, frame.shape[:2])
    result = preprocess(frame)
    assert result.hand_found and on_the_hand(result.box, 470, 300), result.box
    assert result.hand_points is not None and landmarks.has_hand(result.hand_points[None])[0]


@pytest.mark.parametrize("kind", ["flat", "noise"])
def test_a_frame_without_a_hand_gets_no_box_of_its_own_and_no_landmarks(kind: str) -> None:
    rng = np.random.default_rng(0)
    frame = np.full((480, 640, 3), 128, np.uint8) if kind == "flat" else rng.integers(0, 256, (480, 640, 3), np.uint8)
    found = hand.find_hand(frame)
    where = locate.locate(frame, found)
    assert where.joints is None and where.box == found.box and where.found == found.found
    assert preprocess(frame).hand_points is None


def test_search_windows_cover_the_frame() -> None:
    windows = locate.search_windows(480, 640)
    covered = np.zeros((480, 640), bool)
    for x, y, side, _ in windows:
        assert 0 <= x and 0 <= y and x + side <= 640 and y + side <= 480
        covered[y : y + side, x : x + side] = True
    assert covered.all() and len(windows) == 21


def test_the_outline_covers_the_joints_and_little_else() -> None:
    joints = np.array([[100, 300], [100, 100], [200, 100], [200, 300]] + [[150, 200]] * 17, np.float32)
    mask = locate.outline((480, 640), joints, (60, 60, 280, 280))
    assert mask[200, 150] and mask[300, 100] and mask[100, 200]  # inside and on the hull
    assert not mask[50, 50] and not mask[200, 300]  # far outside it
    assert 0.9 * 100 * 200 < mask.sum() < 1.6 * 100 * 200
