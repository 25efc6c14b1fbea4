"""Parse and validate Sign-MNIST-style CSVs: every problem names file, line, column and reason.

Nothing is dropped silently: a bad row stops the load, or with `skip_invalid` is skipped and
reported in `Dataset.skipped`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signlens import labels
from signlens.data.csv_reader import HEADER, Row, parse_int, parse_pixels, read_rows
from signlens.errors import DataError


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


def _parse_row(name: str, row: Row) -> tuple[int, np.ndarray]:
    if row.error is not None:
        raise row.error
    if len(row.fields) != len(HEADER):
        hint = " (truncated last line?)" if row.is_last and len(row.fields) < len(HEADER) else ""
        raise DataError(name, f"expected {len(HEADER)} fields, found {len(row.fields)}{hint}", row=row.line)
    label = parse_int(name, row.line, "label", row.fields[0], 24, "label")
    if not labels.is_valid_sign_label(label):
        raise DataError(name, f"label {label} is invalid: 9 is J, which needs motion and is not a static letter",
                        row=row.line, column="label")
    pixels = parse_pixels(name, row.line, row.fields[1:], HEADER[1:])
    return labels.index_of_sign_label(label), pixels


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
    rows = read_rows(path)
    first = next(rows, None)
    if first is None:
        raise DataError(name, "file is empty")
    if first.error is not None:
        raise first.error
    _check_header(name, first.fields)
    for row in rows:
        if not row.fields and row.error is None:
            if row.is_last:
                continue
            err = DataError(name, "empty line", row=row.line)
        else:
            try:
                y, x = _parse_row(name, row)
            except DataError as exc:
                err = exc
            else:
                xs.append(x)
                ys.append(y)
                ids.append(f"line {row.line}")
                continue
        if not skip_invalid:
            raise err
        skipped.append(err)
    if not xs:
        raise DataError(name, "no valid rows" if skipped else "no data rows after the header")
    x = np.stack(xs).reshape(-1, 28, 28)
    return x, np.asarray(ys, dtype=np.int64), tuple(ids), skipped
