"""The one reader of Sign-MNIST CSV files (plain or gzip), shared by data.load and batch prediction.

Every row carries the exact physical line it starts on: bytes are split into lines before they are
decoded, so an invalid UTF-8 byte or a huge field cannot shift the numbers. A bad line is a row
with an `error` (the caller may skip it); only a file that cannot be read on (corrupt or truncated
gzip, an I/O error) raises. Values are checked as Sign-MNIST writes them: ASCII digits `[0-9]+`,
nothing Python's int() would also take (`1_0`, `+7`, ` 7 `, `٣`, `２５５`).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np

from signlens.errors import DataError

N_PIXELS = 28 * 28
HEADER = ["label"] + [f"pixel{i}" for i in range(1, N_PIXELS + 1)]
#: A real row is under 10 kB (the header, quoted, is the longest); anything far longer is not a row.
MAX_LINE_BYTES = 1 << 20
_BLOCK = 1 << 16
#: [0-9] is ASCII only, unlike \d or int(); a minus sign is let through only to be refused as out of range.
_INTEGER = re.compile(r"-?[0-9]+")
_GZIP_MAGIC = b"\x1f\x8b"
#: What a damaged or unreadable stream raises while being read.
_READ_ERRORS = (OSError, EOFError, zlib.error)


class Row(NamedTuple):
    line: int  # 1-based physical line the row is on; line 1 is the header
    fields: list[str]  # [] for an empty line or a line that could not be decoded
    is_last: bool
    error: DataError | None = None  # set when the line itself is unreadable (encoding, length)


def _open_binary(path: Path) -> io.BufferedIOBase:
    """The file's bytes, decompressed when it starts with the gzip magic (whatever its suffix)."""
    name = str(path)
    try:
        with open(path, "rb") as raw:
            gz = raw.read(2) == _GZIP_MAGIC
        return gzip.GzipFile(path, "rb") if gz else open(path, "rb")
    except FileNotFoundError:
        raise DataError(name, "file not found") from None
    except OSError as exc:
        raise DataError(name, f"cannot read the file: {exc.strerror or exc}") from None


def _unreadable(name: str, line: int, exc: BaseException) -> DataError:
    what = "the compressed data ends early (truncated file?)" if isinstance(exc, EOFError) else str(exc)
    return DataError(name, f"the file is unreadable from here on: {what}", row=line)


def _raw_lines(name: str, stream: io.BufferedIOBase) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the line ending: LF, CRLF or CR) for each physical line.

    A line over MAX_LINE_BYTES is yielded cut to MAX_LINE_BYTES + 1 bytes and the rest of it dropped,
    so memory stays bounded whatever the file holds."""
    pending, line, cut = b"", 0, False  # cut: the line in `pending` was too long and is yielded already
    while True:
        try:
            block = stream.read1(_BLOCK)  # one read below: data before a truncation is never lost
        except _READ_ERRORS as exc:
            raise _unreadable(name, line + 1, exc) from None
        pieces = (pending + block).splitlines(keepends=True)
        # The last piece may go on in the next block (a final CR may be half of a CRLF): keep it back.
        pending = pieces.pop() if block and pieces and not pieces[-1].endswith(b"\n") else b""
        for piece in pieces:
            line += 1
            if not cut:
                yield line, piece.rstrip(b"\r\n")
            cut = False
        if len(pending) > MAX_LINE_BYTES:
            if not cut:
                yield line + 1, pending[: MAX_LINE_BYTES + 1]
            pending, cut = b"", True
        if not block:
            return


def _fields(name: str, line: int, raw: bytes) -> tuple[list[str], DataError | None]:
    if len(raw) > MAX_LINE_BYTES:
        return [], DataError(name, f"line is longer than {MAX_LINE_BYTES} bytes: not a CSV row", row=line)
    try:
        text = raw.decode("utf-8-sig" if line == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        column = None if b'"' in before else _column_at(before.count(b","))
        return [], DataError(name, f"invalid UTF-8 (byte {raw[exc.start]:#04x} at position {exc.start})",
                             row=line, column=column)
    if not text:
        return [], None
    if '"' not in text:
        return text.split(","), None
    try:  # quoted fields: the csv module's rules, one line at a time
        return next(csv.reader([text]), []), None
    except csv.Error as exc:
        return [], DataError(name, f"unreadable CSV line: {exc}", row=line)


def _column_at(index: int) -> str | None:
    return HEADER[index] if index < len(HEADER) else None


def read_rows(path: Path) -> Iterator[Row]:
    """Every line of the CSV at `path` as a Row, header first; raises DataError when the file cannot
    be opened or stops being readable (the rows before it have been yielded by then)."""
    name = str(path)
    with _open_binary(path) as stream:
        previous: Row | None = None
        try:
            for line, raw in _raw_lines(name, stream):
                fields, error = _fields(name, line, raw)
                if previous is not None:
                    yield previous
                previous = Row(line, fields, False, error)
        except DataError:
            if previous is not None:
                yield previous
            raise
        if previous is not None:
            yield previous._replace(is_last=True)


def count_rows(path: Path) -> int | None:
    """Data rows by a cheap newline count (for a progress bar); None when the file does not read to the end."""
    lines, last = 0, b"\n"
    try:
        with _open_binary(path) as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                lines += block.count(b"\n")
                last = block[-1:]
    except (DataError, *_READ_ERRORS):
        return None
    return max(0, lines + (last != b"\n") - 1)  # minus the header


def _show(text: str) -> str:
    """A field for an error message: quoted, and cut short when long."""
    return repr(text) if len(text) <= 24 else repr(text[:20]) + f"… ({len(text)} characters)"


def parse_int(name: str, line: int, column: str, text: str, high: int, what: str) -> int:
    """One field as an int in 0..high; raises DataError naming the row and column otherwise.

    Out-of-range values are recognised by their digit count before int() sees them, so a value of
    any length gets this error (never OverflowError, nor int()'s 4,300-digit limit)."""
    if not _INTEGER.fullmatch(text):
        raise DataError(name, f"{_show(text)} is not an integer: values are ASCII digits 0-9 only",
                        row=line, column=column)
    digits = text.lstrip("-").lstrip("0") or "0"
    if text.startswith("-") or len(digits) > len(str(high)) or int(digits) > high:
        shown = text if len(text) <= 24 else f"{text[:20]}… ({len(text)} digits)"
        raise DataError(name, f"{what} {shown} is outside 0..{high}", row=line, column=column)
    return int(digits)


def parse_pixels(name: str, line: int, fields: list[str], columns: list[str]) -> np.ndarray:
    """A row's pixel fields as uint8; raises DataError naming the first bad column."""
    joined = "".join(fields)
    if joined.isascii() and joined.isdigit() and "" not in fields and max(map(len, fields), default=0) <= 3:
        values = np.array(fields, dtype=np.int64)  # safe: 1-3 ASCII digits each (the common, fast case)
        if (values <= 255).all():
            return values.astype(np.uint8)
    # Slow path, field by field, so the error names the first bad column.
    return np.array([parse_int(name, line, c, t, 255, "pixel value") for c, t in zip(columns, fields)], np.uint8)
