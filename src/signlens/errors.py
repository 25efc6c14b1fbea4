"""Errors a user can cause and fix. The CLI prints them without a traceback."""

from __future__ import annotations


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
