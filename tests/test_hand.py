"""Photo preprocessing: the hand is found and framed on plain, dark and cluttered backgrounds."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from signlens.vision import hand
from signlens.vision.preprocess import BACKGROUND, HAND_MEAN, preprocess

SKIN = [(224, 172, 140), (141, 85, 36)]  # light and dark skin tones, RGB


def hand_photo(background: str, skin: tuple[int, int, int] = SKIN[0], seed: int = 0) -> tuple[np.ndarray, tuple]:
    """A 240×320 photo with a hand-like blob (palm + four fingers + thumb); returns it and the blob's bbox."""
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    if background == "light":
        img = np.full((h, w, 3), 235, np.uint8)
    elif background == "dark":
        img = np.full((h, w, 3), 12, np.uint8)
    else:  # cluttered: non-skin coloured boxes and noise
        img = rng.integers(40, 90, (h, w, 3)).astype(np.uint8)
        for _ in range(25):
            x0, y0 = rng.integers(0, w - 20), rng.integers(0, h - 20)
            colour = [(40, 90, 200), (60, 160, 70), (200, 200, 210), (30, 30, 30)][rng.integers(0, 4)]
            cv2.rectangle(img, (int(x0), int(y0)), (int(x0 + rng.integers(10, 60)), int(y0 + rng.integers(10, 60))), colour, -1)
    blob = np.zeros((h, w), np.uint8)
    cv2.ellipse(blob, (170, 150), (38, 45), 0, 0, 360, 255, -1)  # palm
    for i in range(4):  # fingers
        cv2.rectangle(blob, (138 + i * 17, 70), (150 + i * 17, 150), 255, -1)
    cv2.rectangle(blob, (200, 120), (235, 132), 255, -1)  # thumb
    img[blob > 0] = skin
    img = cv2.GaussianBlur(img, (3, 3), 0)
    ys, xs = np.nonzero(blob)
    return img, (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)


def _covers(box: tuple[int, int, int, int], bbox: tuple) -> bool:
    x, y, side, _ = box
    x0, y0, x1, y1 = bbox
    tight = max(x1 - x0, y1 - y0)
    return x <= x0 + 2 and y <= y0 + 2 and x + side >= x1 - 2 and y + side >= y1 - 2 and side <= 1.4 * tight


@pytest.mark.parametrize("background", ["light", "dark", "cluttered"])
@pytest.mark.parametrize("skin", SKIN)
def test_finds_and_frames_the_hand(background: str, skin: tuple[int, int, int]) -> None:
    img, bbox = hand_photo(background, skin)
    result = preprocess(img)
    assert result.hand_found
    assert _covers(result.box, bbox), (result.box, bbox)
    assert result.pixels.shape == (28, 28) and result.pixels.dtype == np.uint8


def test_intensities_match_sign_mnist_levels() -> None:
    """Dark, light or cluttered background, the model sees the same hand level on one flat background."""
    for background in ("light", "dark", "cluttered"):
        px = preprocess(hand_photo(background)[0]).pixels.astype(float)
        assert abs(px[0, 0] - BACKGROUND) < 3  # corner: background flattened
        assert abs(px[10:18, 12:18].mean() - HAND_MEAN) < 40  # inside the palm


def _relative_sharpness(grid: np.ndarray) -> float:
    """Laplacian std over intensity std: edge strength regardless of contrast."""
    g = grid.astype(np.float32)
    return float(cv2.Laplacian(g, cv2.CV_32F).std() / (g.std() + 1e-6))


@pytest.mark.parametrize("background", ["light", "dark", "cluttered"])
def test_photo_grid_is_as_soft_as_sign_mnist(background: str) -> None:
    """Sign-MNIST's train split has relative sharpness 1.00-1.41 (quartiles); a crisp photo crop has ~1.6-1.9."""
    assert 1.0 <= _relative_sharpness(preprocess(hand_photo(background)[0]).pixels) <= 1.41


@pytest.mark.parametrize("image", [np.full((200, 300, 3), 128, np.uint8),
                                   np.random.default_rng(0).integers(0, 90, (200, 300, 3)).astype(np.uint8)])
def test_falls_back_to_centre_crop_when_no_hand(image: np.ndarray) -> None:
    result = preprocess(image)
    assert not result.hand_found
    assert result.box == (50, 0, 200, 200)


def test_crop_is_deterministic_and_png_equals_array() -> None:
    img, _ = hand_photo("cluttered", seed=3)
    a, b = preprocess(img), preprocess(img)
    assert a.box == b.box and np.array_equal(a.pixels, b.pixels)
    png = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))[1].tobytes()
    c = preprocess(png)
    assert c.box == a.box and np.array_equal(c.pixels, a.pixels)


def test_grayscale_photo_on_plain_background() -> None:
    img, bbox = hand_photo("dark")
    result = preprocess(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
    assert result.hand_found and _covers(result.box, bbox)


def test_model_grid_passes_through_unchanged() -> None:
    grid = np.random.default_rng(1).integers(0, 256, (28, 28)).astype(np.uint8)
    result = preprocess(grid)
    assert np.array_equal(result.pixels, grid) and not result.hand_found


def test_crop_pads_outside_the_image() -> None:
    gray = np.full((10, 10), 7, np.uint8)
    out = hand.crop(gray, (-5, -5, 20, 20), fill=99)
    assert out.shape == (20, 20) and out[0, 0] == 99 and out[10, 10] == 7


def test_evaluate_on_a_folder_saves_the_crops(tmp_path, tiny_artifact) -> None:
    from signlens.data import load
    from signlens.evaluation.evaluate import evaluate
    from signlens.models.resolve import resolve

    for letter, background in (("A", "light"), ("B", "cluttered")):
        (tmp_path / "photos" / letter).mkdir(parents=True)
        img = cv2.cvtColor(hand_photo(background)[0], cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(tmp_path / "photos" / letter / "1.jpg"), img)
    report = evaluate(resolve(tiny_artifact), load(tmp_path / "photos"), tmp_path / "eval")
    assert report["n"] == 2 and (tmp_path / "eval" / "crops.png").stat().st_size > 1000
