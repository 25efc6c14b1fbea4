"""Parse and validate Sign-MNIST-style CSVs: every problem names file, line, column and reason.

Nothing is dropped silently: a bad row stops the load, or with `skip_invalid` is skipped and
reported in `Dataset.skipped`.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Iterator

import numpy as np

from signlens import labels
from signlens.errors import DataError

N_PIXELS = 28 * 28
HEADER = ["label"] + [f"pixel{i}" for i in range(1, N_PIXELS + 1)]


def _open_text(path: Path) -> io.TextIOBase:
    raw = open(path, "rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8", newline="")
    raw.seek(0)
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def _check_header(name: str, header: list[str]) -> None:
    header = [h.strip() for h in header]
    if header == HEADER:
        return
    if header and header[0].lstrip("-").isdigit():
        raise DataError(name, "missing header: expected 'label,pixel1,...,pixel784' on the first line", row=1)
    for i, (got, want) in enumerate(zip(header, HEADER)):
        if got != want:
            raise DataError(name, f"wrong header: column {i + 1} is {got!r}, expected {want!r}", row=1, column=got)
    if len(header) < len(HEADER):
        raise DataError(
            name, f"header has {len(header)} columns, expected {len(HEADER)}: missing columns from "
            f"{HEADER[len(header)]!r}", row=1, column=HEADER[len(header)]
        )
    raise DataError(
        name, f"header has {len(header)} columns, expected {len(HEADER)}: extra column {header[len(HEADER)]!r}",
        row=1, column=header[len(HEADER)],
    )


def _parse_row(name: str, line: int, row: list[str], is_last: bool) -> tuple[int, np.ndarray]:
    if len(row) != len(HEADER):
        hint = " (truncated last line?)" if is_last and len(row) < len(HEADER) else ""
        raise DataError(name, f"expected {len(HEADER)} fields, found {len(row)}{hint}", row=line)
    try:
        values = np.array(row, dtype=np.int64)
    except ValueError:
        for col, text in zip(HEADER, row):
            try:
                int(text)
            except ValueError:
                raise DataError(name, f"{text!r} is not an integer", row=line, column=col) from None
        raise  # unreachable: some field failed above
    label = int(values[0])
    if not labels.is_valid_sign_label(label):
        why = "9 is J, which needs motion and is not a static letter" if label == 9 else "must be 0..24"
        raise DataError(name, f"label {label} is invalid: {why}", row=line, column="label")
    pixels = values[1:]
    bad = np.flatnonzero((pixels < 0) | (pixels > 255))
    if bad.size:
        col = HEADER[1 + int(bad[0])]
        raise DataError(name, f"pixel value {int(pixels[bad[0]])} is outside 0..255", row=line, column=col)
    return labels.index_of_sign_label(label), pixels.astype(np.uint8)


def _rows(name: str, f: io.TextIOBase) -> Iterator[tuple[int, list[str], bool]]:
    """Yield (line number, fields, is_last_row); line 1 is the header."""
    reader = csv.reader(f)
    try:
        previous = None
        for row in reader:
            if previous is not None:
                yield reader.line_num - 1, previous, False
            previous = row
        if previous is not None:
            yield reader.line_num, previous, True
    except (csv.Error, UnicodeDecodeError, EOFError, gzip.BadGzipFile, OSError) as exc:
        raise DataError(name, f"unreadable CSV: {exc}", row=reader.line_num + 1) from None


def read_csv(path: Path, skip_invalid: bool = False) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], list[DataError]]:
    """Return (x uint8 N×28×28, y letter index, ids, skipped errors)."""
    name = str(path)
    if not path.exists():
        raise DataError(name, "file not found")
    if path.stat().st_size == 0:
        raise DataError(name, "file is empty")
    xs: list[np.ndarray] = []
    ys: list[int] = []
    ids: list[str] = []
    skipped: list[DataError] = []
    with _open_text(path) as f:
        rows = _rows(name, f)
        first = next(rows, None)
        if first is None:
            raise DataError(name, "file is empty")
        _check_header(name, first[1])
        for line, row, is_last in rows:
            if not row or row == [""]:
                if is_last:
                    continue
                err = DataError(name, "empty line", row=line)
            else:
                try:
                    y, x = _parse_row(name, line, row, is_last)
                except DataError as exc:
                    err = exc
                else:
                    xs.append(x)
                    ys.append(y)
                    ids.append(f"line {line}")
                    continue
            if not skip_invalid:
                raise err
            skipped.append(err)
    if not xs:
        raise DataError(name, "no valid rows" if skipped else "no data rows after the header")
    x = np.stack(xs).reshape(-1, 28, 28)
    return x, np.asarray(ys, dtype=np.int64), tuple(ids), skipped
