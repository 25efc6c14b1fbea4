"""Errors a user can cause and fix. The CLI prints them without a traceback."""

from __future__ import annotations

import difflib
from pathlib import Path


class SignlensError(Exception):
    """A mistake in input or usage, reported to the user as one clear message."""


class DataError(SignlensError):
    """Invalid data: names the file, the row (or image path), the column and what is wrong."""

    def __init__(self, file: str, reason: str, row: int | None = None, column: str | None = None):
        self.file, self.row, self.column, self.reason = file, row, column, reason
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {reason}")


class ArtifactError(SignlensError):
    """A model artifact that is missing, corrupt or incompatible."""


def did_you_mean(given: str, candidates: list[str]) -> str:
    """' (did you mean X?)' for the candidate closest to a mistyped name, '' when none is close.

    A bare name ('seed-cn') is also compared with the last part of path candidates ('models/seed-cnn')."""
    close = difflib.get_close_matches(given, candidates, n=1, cutoff=0.6)
    if not close:
        by_name = {Path(c).name: c for c in candidates}
        close = [by_name[m] for m in difflib.get_close_matches(Path(given).name, list(by_name), n=1, cutoff=0.6)]
    return f" (did you mean {close[0]}?)" if close else ""
