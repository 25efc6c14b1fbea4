import io

import numpy as np
import pytest
from PIL import Image

from signlens.vision.preprocess import ImageDecodeError, decode_image, preprocess, to_model_input


def _png_bytes(arr: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


def test_grid_passes_through_unchanged():
    grid = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    assert np.array_equal(preprocess(grid).pixels, grid)


def test_any_size_rgb_photo_becomes_28x28_gray():
    rgb = np.zeros((120, 200, 3), np.uint8)
    rgb[:, :, 0] = 255
    out = preprocess(_png_bytes(rgb))
    assert out.pixels.shape == (28, 28) and out.pixels.dtype == np.uint8
    # no hand in a flat image: centre crop, intensities normalized to Sign-MNIST's mean (issue 8)
    assert not out.hand_found and out.box == (40, 0, 120, 120) and int(out.pixels.mean()) == 159


def test_same_input_same_output():
    img = np.random.default_rng(1).integers(0, 256, (90, 70, 3), dtype=np.uint8)
    assert np.array_equal(preprocess(img).pixels, preprocess(img.copy()).pixels)


def test_rgba_webp_and_jpeg_decode():
    rgba = np.full((40, 40, 4), 128, np.uint8)
    for fmt in ("PNG", "WEBP"):
        assert decode_image(_png_bytes(rgba, fmt)).shape == (40, 40, 3)
    assert decode_image(_png_bytes(rgba[:, :, :3], "JPEG")).shape == (40, 40, 3)


@pytest.mark.parametrize("data", [b"", b"not an image", _png_bytes(np.zeros((50, 50), np.uint8))[:60]])
def test_bad_bytes_are_a_clear_error(data):
    with pytest.raises(ImageDecodeError):
        decode_image(data)


def test_decompression_bomb_refused():
    big = _png_bytes(np.zeros((3000, 3000), np.uint8))  # a few KB that decode to 9 Mpx
    with pytest.raises(ImageDecodeError, match="pixel limit"):
        decode_image(big, max_pixels=1_000_000)


def test_model_input_shape_and_range():
    x = to_model_input(np.full((3, 784), 255, np.uint8))
    assert x.shape == (3, 28, 28, 1) and x.dtype == np.float32 and x.max() == 255.0


def test_exif_rotation_is_applied_like_a_browser_does() -> None:
    """A phone photo stored landscape with 'rotate 90°' in EXIF must decode portrait."""
    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:, :10] = 255  # a bright stripe on the stored image's left edge
    img = Image.fromarray(stored)
    exif = img.getexif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes(), quality=95)
    upright = decode_image(buf.getvalue())
    assert upright.shape == (60, 40, 3)
    assert upright[:10].mean() > 200 and upright[-10:].mean() < 50  # the stripe is now on top
