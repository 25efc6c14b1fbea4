"""Server settings: one frozen dataclass, built by the CLI (or a test) and handed to create_app.

Nothing reads the environment at import time; the defaults live here and only here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServeSettings:
    #: (name, ref) pairs; ref is an artifact or TF.js directory, None = the shipped default model.
    models: tuple[tuple[str, str | None], ...] = (("default", None),)
    #: Largest request body accepted (bytes); larger uploads get 413 before being read in full.
    max_upload_bytes: int = 8 * 1024 * 1024
    #: Largest decoded image (pixels): a camera frame fits, a decompression bomb does not.
    max_image_pixels: int = 16_000_000
    #: Most images in one /v1/predict/batch request.
    max_batch_images: int = 64
    #: Micro-batching: most requests gathered into one model call, and how long to wait for them.
    batch_max_size: int = 64
    batch_wait_ms: float = 2.0
    #: Page defaults for fingerspelling: how long a letter must stay on top, and how sure.
    hold_ms: int = 800
    hold_confidence: float = 0.8

    def __post_init__(self) -> None:
        names = [name for name, _ in self.models]
        if not names:
            raise ValueError("at least one model must be served")
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique, got {names}")
        if self.max_upload_bytes <= 0 or self.batch_max_size <= 0 or self.max_batch_images <= 0:
            raise ValueError("size limits must be positive")
