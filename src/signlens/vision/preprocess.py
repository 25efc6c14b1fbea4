"""The ONLY image -> model-input path, shared by training, CLI, server, worker and export.

Every model takes float32 (N, 28, 28, 1) with values in 0..255 and rescales inside itself, so a
28×28 uint8 grid is the universal hand-off format: a Sign-MNIST CSV row already is one; a photo or
canvas becomes one through `preprocess`.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from signlens.vision import hand
from signlens.vision import landmarks
from signlens.vision import locate
from signlens.errors import SignlensError
from signlens.spec import GRID_SIZE

SIZE = GRID_SIZE  # short for this module's arithmetic
#: Sign-MNIST train split: overall pixel mean/std, and the levels photos are mapped to.
SIGN_MNIST_MEAN, SIGN_MNIST_STD = 159.0, 49.0
#: A mid-gray hand on a light flat background: Sign-MNIST's typical light wall. Chosen by measuring
#: on real photos (bench: 33% zero-shot vs 15% for a bright hand on mid gray, 12% on black).
HAND_MEAN, HAND_STD = 140.0, 35.0
BACKGROUND = 200.0
#: A photo's 28×28 grid is sharper than Sign-MNIST's (median Laplacian std / intensity std 1.71 on
#: the dev photos vs 1.23 on the train split); a Gaussian blur of this sigma brings it to 1.14, the
#: closest of the sigmas tried (chosen on that statistic; zero-shot on the dev photos 28% -> 32%).
PHOTO_BLUR_SIGMA = 0.5
#: Largest decoded image accepted (pixels), well above any camera frame, far below a bomb.
MAX_PIXELS = 40_000_000


class ImageDecodeError(SignlensError):
    """Bytes that are not a safely decodable png/jpeg/webp/bmp image."""


@dataclass(frozen=True)
class Preprocessed:
    """What the model sees, and where in the source it came from."""

    pixels: np.ndarray  # (28, 28) uint8
    box: tuple[int, int, int, int]  # (x, y, w, h) of the crop in the source image
    hand_found: bool  # False: no hand found, fell back to a centre crop (or input was a grid)
    hand_points: np.ndarray | None = None  # (views, 21, 3) landmarks of a photo's hand (landmarks.py)


def _upright(img: Image.Image) -> Image.Image:
    """Phones store a photo's rotation in EXIF; browsers apply it, so the crop box must too."""
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block is not a broken image: keep the pixels as stored
        return img


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode image bytes to an RGB uint8 array, refusing bombs and truncated files."""
    if not data:
        raise ImageDecodeError("empty image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > max_pixels:
                    raise ImageDecodeError(
                        f"image is {img.width}×{img.height}, more than the {max_pixels:,} pixel limit"
                    )
                img.load()
                return np.asarray(_upright(img).convert("RGB"))
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"image refused as a decompression bomb: {exc}") from None
    except UnidentifiedImageError:  # its message is the repr of our in-memory buffer: say it plainly
        raise ImageDecodeError("cannot decode image: not a png, jpeg, webp or bmp file") from None
    except Exception as exc:  # PIL raises many types for bad bytes; all mean "not an image"
        raise ImageDecodeError(f"cannot decode image: {exc}") from None


def to_grayscale(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3:
        if image.shape[2] == 4:
            image = image[:, :, :3]
        image = cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    if image.ndim != 2:
        raise SignlensError(f"expected an H×W or H×W×C image, got shape {image.shape}")
    return image.astype(np.uint8, copy=False)


def normalize(pixels: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Match a 28×28 crop's intensities to Sign-MNIST's, mostly hands in front of light walls.

    With a hand mask, the hand's pixels get HAND_MEAN/HAND_STD and the background one flat
    BACKGROUND level (webcam clutter and black segmentation alike become plain). Without one (no
    hand found), the whole crop gets Sign-MNIST's overall mean and standard deviation.
    """
    px = pixels.astype(np.float32)
    if mask is None or mask.sum() < 8:
        out = (px - px.mean()) / (px.std() + 1e-6) * SIGN_MNIST_STD + SIGN_MNIST_MEAN
    else:
        weight = mask.astype(np.float32)  # soft: 28×28 resize of the full-resolution mask
        hand_px = px[weight > 0.5]
        hand = (px - hand_px.mean()) / (hand_px.std() + 1e-6) * HAND_STD + HAND_MEAN
        out = weight * hand + (1 - weight) * BACKGROUND
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def preprocess(image: np.ndarray | bytes, hands: bool = True, views: tuple[str, ...] = landmarks.VIEWS) -> Preprocessed:
    """Turn one image (bytes, RGB/RGBA/gray array of any size) into the 28×28 grid the model sees.

    `hands=False` skips a photo's hand landmarks (~25 ms on 2 cores), and with them the check of
    the crop box (locate.py): only a model with a hand-landmark head uses them. `views`: which
    `landmarks.TTA_VIEWS` to read the hand in (benches compare other sets with the default)."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        image = decode_image(bytes(image))
    image = np.asarray(image)
    gray = to_grayscale(image)
    if gray.shape == (SIZE, SIZE):  # already a model grid (Sign-MNIST row, canvas): untouched
        return Preprocessed(gray.copy(), (0, 0, SIZE, SIZE), hand_found=False)
    if image.ndim == 3 and image.shape[2] >= 3:
        rgb = np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)
    else:
        rgb = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    found = hand.find_hand(rgb)
    # With landmarks wanted, the landmark model also checks the box (locate.py): it finds hands
    # the classical finder misses or cuts short on skin-toned walls and in clutter, and its
    # presence score turns away frames with no hand.
    where = locate.locate(rgb, found) if hands else locate.Located(found.box, found.found, None)
    crop = hand.crop(gray, where.box, found.background)
    pixels = cv2.resize(crop, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    soft = cv2.GaussianBlur(normalize(pixels, _hand_mask(found, where)), (0, 0), PHOTO_BLUR_SIGMA)
    points = landmarks.photo_views(rgb, where.box, pixels, views) if hands and where.joints is not None else None
    return Preprocessed(soft, where.box, hand_found=where.found, hand_points=points)


def _hand_mask(found: hand.Hand, where: locate.Located) -> np.ndarray | None:
    """The hand's pixels in the crop, at 28×28 (soft), for `normalize`: `find_hand`'s colour mask
    when its box stands, else the outline of the joints; None when neither found a hand."""
    if found.found and where.box == found.box:
        full = found.mask
    elif where.joints is not None:
        full = locate.outline(found.mask.shape, where.joints, where.box)
    else:
        return None
    return cv2.resize(hand.crop(full.astype(np.float32), where.box, 0.0), (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def warm_up() -> None:
    """Run the photo path once on a made-up JPEG: OpenCV's and PIL's first calls in a process cost
    ~0.2 s, which a server pays at start instead of on its first photo."""
    frame = np.full((96, 96, 3), 200, np.uint8)
    cv2.circle(frame, (48, 48), 24, (150, 110, 90), -1)
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, "JPEG")
    preprocess(buf.getvalue(), hands=False)


def to_model_input(pixels: np.ndarray) -> np.ndarray:
    """(28, 28) or (N, 28, 28) or (N, 784) uint8/float grids -> float32 (N, 28, 28, 1)."""
    arr = np.asarray(pixels, dtype=np.float32)
    if arr.ndim == 2 and arr.shape == (SIZE, SIZE):
        arr = arr[None]
    arr = arr.reshape(-1, SIZE, SIZE, 1)
    return arr
