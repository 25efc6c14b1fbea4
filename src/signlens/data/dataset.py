"""The in-memory dataset every stage consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from signlens.errors import DataError


@dataclass(frozen=True)
class Dataset:
    x: np.ndarray  # (N, 28, 28) uint8
    y: np.ndarray  # (N,) int64 letter index (see labels.LETTERS)
    source: str
    fingerprint: str
    ids: tuple[str, ...]  # "line N" for CSV rows, the file path for images
    skipped: tuple[DataError, ...] = field(default=())
    hand_points: np.ndarray | None = None  # photos: (N, views, 21, 3) hand landmarks, NaN where none
    boxes: np.ndarray | None = None  # photos: (N, 4) int, the crop [x, y, w, h] each got in its source
    hand_found: np.ndarray | None = None  # photos: (N,) bool, False where the crop is the centre fallback

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, index: np.ndarray, source_suffix: str = "") -> "Dataset":
        from signlens.data.fingerprint import fingerprint

        index = np.asarray(index)
        x, y = self.x[index], self.y[index]
        per_photo = {name: None if value is None else value[index]
                     for name, value in (("hand_points", self.hand_points), ("boxes", self.boxes),
                                         ("hand_found", self.hand_found))}
        return Dataset(x, y, self.source + source_suffix, fingerprint(x, y), tuple(self.ids[i] for i in index),
                       **per_photo)
