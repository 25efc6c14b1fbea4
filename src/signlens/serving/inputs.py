"""Request bodies -> 28×28 grids, with a 4xx reason for every way a body can be wrong.

Accepted for one image: a raw image/png|jpeg|webp body, multipart/form-data with an `image`
file, or JSON `{"image": base64 or data: URL}` / `{"pixels": 784 numbers or 28×28}`. The batch
endpoint takes multipart `images` files or JSON `{"items": [...]}` of the same JSON objects.

Nothing heavy runs on the event loop, and memory per request is bounded: a big image is decoded
on a worker thread, at most `Limits.gate` of them at a time and none over `max_pixels`; a JSON
body is first counted (a 28×28 grid is 784 numbers in 29 arrays, so more values or arrays than
the request's images can hold is refused unparsed), and parsed on a thread when it is big. A
28×28 grid is decoded in place: that takes ~60 µs, less than the hand-off to a thread (~80 µs
more, measured on the 2-core CI machine); anything larger is a photo, with hand finding to do.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request

from signlens import labels
from signlens.errors import SignlensError
from signlens.serving.schemas import BatchJSON, ImageJSON
from signlens.vision.preprocess import SIZE, Preprocessed, decode_image, preprocess

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
JSON_TYPE = "application/json"
MULTIPART_TYPE = "multipart/form-data"
INLINE_MAX_PIXELS = SIZE * SIZE  # images up to this size are decoded on the event loop
#: JSON bodies up to this size are parsed on the event loop (a 28×28 grid is ~3 kB).
INLINE_JSON_BYTES = 64 * 1024


class BadInput(Exception):
    """A request the client must fix: becomes a 4xx JSON body {error, detail}."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


@dataclass(frozen=True)
class Input(Preprocessed):
    """A preprocessed grid plus the submitted image's size, which the prediction log records."""

    width: int = SIZE
    height: int = SIZE


@dataclass(frozen=True)
class Limits:
    """What one request may cost: decoded pixels per image, and how many big decodes run at once."""

    max_pixels: int
    gate: asyncio.Semaphore


def letter_of(text: str) -> str:
    """The canonical letter for `text`, or 422 naming what is wrong (feedback and teach mode)."""
    try:
        return labels.LETTERS[labels.index_of_letter(text)]
    except ValueError as exc:
        raise BadInput(422, "bad_letter", str(exc)) from None


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def check_image_format(data: bytes) -> None:
    """png, jpeg and webp only (what the API documents): another format PIL knows gets 415 by name;
    bytes that are no image at all are left to the decoder, which says why (422)."""
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return
    try:
        with Image.open(io.BytesIO(data)) as img:
            found = img.format or "this"
    except Exception:  # PIL raises many types for bytes it cannot identify
        return
    raise BadInput(415, "unsupported_image_format",
                   f"{found} images are not accepted; send png, jpeg or webp ({', '.join(IMAGE_TYPES)})")


def grid_from_pixels(pixels: list[float] | list[list[float]]) -> Input:
    try:
        arr = np.asarray(pixels, dtype=np.float64)
    except ValueError:
        raise BadInput(422, "bad_pixels", "pixels must be 784 numbers or 28 rows of 28 numbers") from None
    if arr.size != SIZE * SIZE or arr.ndim not in (1, 2) or (arr.ndim == 2 and arr.shape != (SIZE, SIZE)):
        raise BadInput(422, "bad_pixel_count", f"pixels must be 784 values (28×28), got shape {list(arr.shape)}")
    if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 255:
        raise BadInput(422, "bad_pixel_range", "pixel values must be finite and within 0..255")
    grid = np.rint(arr.reshape(SIZE, SIZE)).astype(np.uint8)
    return Input(grid, (0, 0, SIZE, SIZE), hand_found=False)


def grid_from_bytes(data: bytes, max_pixels: int, hands: bool = True) -> Input:
    if not data:
        raise BadInput(400, "empty_image", "the image is empty")
    check_image_format(data)
    try:
        image = decode_image(data, max_pixels)
        p = preprocess(image, hands=hands)
    except SignlensError as exc:
        raise BadInput(422, "bad_image", str(exc)) from None
    return Input(p.pixels, p.box, p.hand_found, p.hand_points, width=image.shape[1], height=image.shape[0])


def _is_small(data: bytes) -> bool:
    """Judged by the header's width × height, not the byte count: a tiny file can hold a huge image."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.width * img.height <= INLINE_MAX_PIXELS
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return False  # grid_from_bytes gives the reason, on the worker thread


async def decode(data: bytes, limits: Limits, hands: bool = True) -> Input:
    if _is_small(data):  # at most 28×28 pixels: no hand to read landmarks of, and no ~20 ms on the loop
        return grid_from_bytes(data, limits.max_pixels, hands=False)
    async with limits.gate:
        return await asyncio.to_thread(grid_from_bytes, data, limits.max_pixels, hands)


def b64decode(text: str) -> bytes:
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput(422, "bad_base64", "image is not valid base64") from None


async def _from_json_item(item: ImageJSON, limits: Limits, hands: bool) -> Input:
    if (item.image is None) == (item.pixels is None):
        raise BadInput(422, "bad_json", "give exactly one of 'image' (base64) or 'pixels'")
    if item.pixels is not None:
        return grid_from_pixels(item.pixels)
    return await decode(b64decode(item.image or ""), limits, hands)


def _within_budget(body: bytes, images: int) -> None:
    """Refuse, unparsed, a body with more numbers or arrays than twice `images` 28×28 grids hold
    (twice: so a batch just over its image limit still hears how many images it sent): parsing
    millions of numbers or thousands of nested arrays costs seconds and gigabytes."""
    if body.count(b",") > 2 * images * (SIZE * SIZE + 4):
        raise BadInput(413, "too_many_values", f"more numbers than {images} image(s) of {SIZE}×{SIZE} pixels hold")
    if body.count(b"[") > 2 * images * (SIZE + 1) + 1:
        raise BadInput(422, "bad_json", "JSON nested deeper, or with more arrays, than 28×28 pixel grids need")


def _validate_json(body: bytes, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":  # includes nesting past the parser's depth limit
            raise BadInput(400, "bad_json", f"body is not valid JSON: {first['msg']}") from None
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise BadInput(422, "bad_json", f"{where}: {first['msg']}") from None


async def parse_json(body: bytes, model: type[BaseModel], images: int) -> Any:
    _within_budget(body, images)
    if len(body) <= INLINE_JSON_BYTES:
        return _validate_json(body, model)
    return await asyncio.to_thread(_validate_json, body, model)


async def read_files(request: Request, field: str) -> list[bytes]:
    try:
        form = await request.form(max_files=10_000)
    except Exception as exc:  # python-multipart raises several types for malformed bodies
        raise BadInput(400, "bad_multipart", f"malformed multipart body: {exc}") from None
    files = [f for f in form.getlist(field) if isinstance(f, UploadFile)]
    if not files:
        raise BadInput(422, "missing_file", f"multipart body needs a file field named {field!r}")
    return [await f.read() for f in files]


async def _body(request: Request) -> bytes:
    body = await request.body()
    if not body:
        raise BadInput(400, "empty_body", "the request body is empty")
    return body


def _unsupported(kind: str) -> BadInput:
    return BadInput(415, "unsupported_media_type",
                    f"content type {kind or '(none)'!r} not accepted; use one of {', '.join(IMAGE_TYPES)}, "
                    f"{JSON_TYPE} or {MULTIPART_TYPE}")


async def read_one(request: Request, limits: Limits, hands: bool = True) -> Input:
    """The single image in a /v1/predict request (`hands`: with a photo's hand landmarks)."""
    kind = media_type(request)
    if kind not in (*IMAGE_TYPES, JSON_TYPE, MULTIPART_TYPE):
        raise _unsupported(kind)
    body = await _body(request)
    if kind in IMAGE_TYPES:
        return await decode(body, limits, hands)
    if kind == JSON_TYPE:
        return await _from_json_item(await parse_json(body, ImageJSON, 1), limits, hands)
    files = await read_files(request, "image")
    if len(files) != 1:
        raise BadInput(422, "too_many_files", "send one 'image' file (use /v1/predict/batch for several)")
    return await decode(files[0], limits, hands)


async def read_many(request: Request, limits: Limits, max_images: int, hands: bool = True) -> list[Input]:
    """The images in a /v1/predict/batch request, in order (`hands`: with photos' hand landmarks)."""
    kind = media_type(request)
    if kind not in (JSON_TYPE, MULTIPART_TYPE):
        raise _unsupported(kind)
    body = await _body(request)
    if kind == JSON_TYPE:
        items: list[Any] = (await parse_json(body, BatchJSON, max_images)).items
    else:
        items = await read_files(request, "images")
    if len(items) > max_images:
        raise BadInput(413, "too_many_images", f"{len(items)} images in one batch; the limit is {max_images}")
    if kind == JSON_TYPE:
        return [await _from_json_item(item, limits, hands) for item in items]
    async with limits.gate:
        return await asyncio.to_thread(lambda: [grid_from_bytes(b, limits.max_pixels, hands) for b in items])
