"""Standing fuzz tier for the CSV loader (issue 18): whatever bytes a CSV or CSV.gz holds, loading it
gives a valid Dataset or the loader's own DataError naming the file, the row and the column; never
any other exception, and never a silently accepted bad value.

Each property runs at a small size in the default tier and at 1,000 cases with `-m slow`
(`make test-slow`). Derandomized and without the example database, so every run and every machine
tries the same cases.
"""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signlens import labels
from signlens.data import load
from signlens.data.csv_reader import HEADER
from signlens.errors import DataError
from signlens.inference import batch
from tests.synthetic import make_arrays

TIERS = [pytest.param(40, id="quick"), pytest.param(1000, id="thorough", marks=pytest.mark.slow)]
#: Errors about the file as a whole; every other error names a row.
WHOLE_FILE = ("file is empty", "no data rows", "no valid rows", "file not found")
#: Errors about one value; these name its column too.
ONE_VALUE = ("is not an integer", "is outside", "is invalid")
#: Values int() or numpy would take (or wrap) that a Sign-MNIST CSV must not hold.
TRICKY = ["99999999999999999999", "9" * 5000, "1_0", "+7", " 7", "7 ", "٣", "２５５", "𝟓", "-0", "-1", "1e2",
          "0x1F", "1.0", "", "256", "25", "9", "\x00", "nan", "\ufeff7", "7\u200b"]


def _fuzz(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _base_rows(n: int) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """A valid CSV of n rows as lines (header first), with its arrays."""
    x, y = make_arrays(per_letter=1, seed=3)
    x, y = x[:n], y[:n]
    sign = labels.indices_to_sign_labels(y)
    lines = [",".join(HEADER).encode()]
    lines += [",".join([str(int(s))] + [str(int(v)) for v in img.reshape(-1)]).encode() for s, img in zip(sign, x)]
    return lines, x, y


BASE = b"\n".join(_base_rows(4)[0]) + b"\n"


def _assert_own_clear_error(err: DataError, path: Path, n_lines: int | None) -> None:
    assert err.file == str(path) and str(err).startswith(str(path))
    if not any(reason in err.reason for reason in WHOLE_FILE):
        assert err.row is not None and 1 <= err.row <= (n_lines or err.row), str(err)
        assert f"row {err.row}" in str(err)
    if any(reason in err.reason for reason in ONE_VALUE) and err.row != 1:
        assert err.column in HEADER, str(err)


def _assert_loads_or_fails_clearly(path: Path, content: bytes | None) -> None:
    """`content`: the text the file holds, when known (a damaged gzip's is not)."""
    n_lines = len(content.splitlines()) + 1 if content is not None else None
    try:
        data = load(path)
    except DataError as err:
        _assert_own_clear_error(err, path, n_lines)
    else:  # whatever passes is a genuinely valid dataset
        assert data.x.dtype == np.uint8 and data.x.shape == (len(data), 28, 28) and len(data) > 0
        assert ((data.y >= 0) & (data.y < labels.N_CLASSES)).all() and len(data.ids) == len(data)


# --- mutations of a valid file --------------------------------------------------------------------

def _mutation() -> st.SearchStrategy[Callable[[bytes], bytes]]:
    at = st.floats(0, 1)  # a position as a fraction of the current length

    def pos(data: bytes, f: float) -> int:
        return int(f * len(data))

    flip = st.tuples(at, st.integers(0, 255)).map(
        lambda a: lambda d: d[: pos(d, a[0])] + bytes([a[1]]) + d[pos(d, a[0]) + 1:])
    insert = st.tuples(at, st.binary(min_size=1, max_size=8) | st.sampled_from([t.encode() for t in TRICKY])).map(
        lambda a: lambda d: d[: pos(d, a[0])] + a[1] + d[pos(d, a[0]):])
    delete = st.tuples(at, st.integers(1, 4000)).map(lambda a: lambda d: d[: pos(d, a[0])] + d[pos(d, a[0]) + a[1]:])
    truncate = at.map(lambda f: lambda d: d[: pos(d, f)])
    repeat = st.tuples(at, st.integers(1, 4000)).map(
        lambda a: lambda d: d[: pos(d, a[0]) + a[1]] + d[pos(d, a[0]):])
    field = st.tuples(at, st.sampled_from(TRICKY) | st.text(max_size=6)).map(
        lambda a: lambda d: _replace_field(d, a[0], a[1].encode("utf-8", "surrogatepass")))
    return st.one_of(flip, insert, delete, truncate, repeat, field)


def _replace_field(data: bytes, where: float, value: bytes) -> bytes:
    """Swap the field around a position (between its commas or line ends) for `value`."""
    i = int(where * len(data))
    start = max(data.rfind(b",", 0, i), data.rfind(b"\n", 0, i)) + 1
    ends = [e for e in (data.find(b",", i), data.find(b"\n", i)) if e != -1]
    return data[:start] + value + data[min(ends, default=len(data)):]


@st.composite
def mutated_files(draw: st.DrawFn) -> tuple[bytes, bool]:
    """(file bytes, gzip?): the base CSV with 1-4 mutations, maybe gzipped, maybe damaged after that."""
    content = BASE
    for mutate in draw(st.lists(_mutation(), min_size=1, max_size=4)):
        content = mutate(content)
    if not draw(st.booleans()):
        return content, False
    packed = gzip.compress(content, mtime=0)
    for mutate in draw(st.lists(_mutation(), max_size=2)):  # damage to the compressed bytes
        packed = mutate(packed)
    return packed, True


def _written(folder: Path, raw: bytes, compressed: bool) -> Path:
    """The fuzzed bytes as a file the loader judges by its name (.csv.gz or .csv)."""
    path = folder / ("fuzz.csv.gz" if compressed else "fuzz.csv")
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize("examples", TIERS)
def test_any_mutated_csv_loads_or_fails_with_a_clear_data_error(tmp_path: Path, examples: int) -> None:
    @_fuzz(examples)
    @given(mutated_files())
    def check(file: tuple[bytes, bool]) -> None:
        raw, compressed = file
        path = _written(tmp_path, raw, compressed)
        _assert_loads_or_fails_clearly(path, _gunzipped(raw) if compressed else raw)

    check()


def _gunzipped(raw: bytes) -> bytes | None:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error):
        return None


# --- one bad value: reported at exactly its row and column ------------------------------------------

#: A field that is never a valid value in any column: not ASCII digits, or too big even for a pixel.
bad_values = (st.sampled_from([t for t in TRICKY if not re.fullmatch("[0-9]{1,3}", t) or int(t) > 255])
              | st.text(min_size=1, max_size=8).filter(lambda t: not re.fullmatch("[0-9]+", t))
              | st.integers(256, 10**40).map(str)).filter(lambda t: not set(t) & set(',"\r\n'))


@st.composite
def one_bad_value(draw: st.DrawFn) -> tuple[bytes, int, str, bool, bool]:
    """(file, row, column, gzip?, is_encoding_error) for a valid file with one bad field."""
    n = draw(st.integers(1, 5))
    lines, _, _ = _base_rows(n)
    row = draw(st.integers(2, n + 1))
    column = draw(st.integers(0, len(HEADER) - 1))
    undecodable = draw(st.booleans())
    value = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"7\x80", b"\xed\xa0\x80"])) if undecodable \
        else draw(bad_values).encode()
    fields = lines[row - 1].split(b",")
    fields[column] = value
    lines[row - 1] = b",".join(fields)
    ending = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    content = ending.join(lines) + draw(st.sampled_from([b"", ending]))
    compressed = draw(st.booleans())
    return (gzip.compress(content, mtime=0) if compressed else content), row, HEADER[column], compressed, undecodable


@pytest.mark.parametrize("examples", TIERS)
def test_one_bad_value_is_reported_at_its_exact_row_and_column(tmp_path: Path, examples: int) -> None:
    @_fuzz(examples)
    @given(one_bad_value())
    def check(case: tuple[bytes, int, str, bool, bool]) -> None:
        raw, row, column, compressed, undecodable = case
        path = tmp_path / ("one.csv.gz" if compressed else "one.csv")
        path.write_bytes(raw)
        with pytest.raises(DataError) as info:
            load(path)
        err = info.value
        assert (err.file, err.row, err.column) == (str(path), row, column), str(err)
        assert ("invalid UTF-8" in err.reason) == undecodable

    check()


# --- valid files in every accepted form load exactly ----------------------------------------------

@st.composite
def valid_files(draw: st.DrawFn) -> tuple[bytes, np.ndarray, np.ndarray, bool]:
    n = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = rng.integers(0, labels.N_CLASSES, n)
    sign = labels.indices_to_sign_labels(y)
    quote = draw(st.booleans())

    def cell(v: object) -> str:
        return f'"{v}"' if quote else str(v)

    lines = [",".join(map(cell, HEADER))]
    lines += [",".join([cell(int(s))] + [cell(int(v)) for v in img.reshape(-1)]) for s, img in zip(sign, x)]
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    bom = "\ufeff" if draw(st.booleans()) else ""
    content = (bom + ending.join(lines) + draw(st.sampled_from(["", ending, ending * 2]))).encode()
    compressed = draw(st.booleans())
    return (gzip.compress(content, mtime=0) if compressed else content), x, y, compressed


@pytest.mark.parametrize("examples", TIERS)
def test_valid_files_in_every_accepted_form_load_exactly(tmp_path: Path, examples: int) -> None:
    @_fuzz(examples)
    @given(valid_files())
    def check(case: tuple[bytes, np.ndarray, np.ndarray, bool]) -> None:
        raw, x, y, compressed = case
        path = tmp_path / ("ok.csv.gz" if compressed else "ok.csv")
        path.write_bytes(raw)
        data = load(path)
        assert np.array_equal(data.x, x) and np.array_equal(data.y, y)
        assert data.ids == tuple(f"line {i}" for i in range(2, len(y) + 2))

    check()


# --- batch prediction reads the same files: bad rows are items, never exceptions ------------------

@pytest.mark.parametrize("examples", TIERS)
def test_batch_reading_of_any_mutated_csv_yields_rows_or_clear_errors(tmp_path: Path, examples: int) -> None:
    @_fuzz(examples)
    @given(mutated_files())
    def check(file: tuple[bytes, bool]) -> None:
        raw, compressed = file
        path = _written(tmp_path, raw, compressed)
        try:
            stream = batch.items(path, hands=False)
        except DataError as err:  # only a header it cannot use stops it before any row
            assert err.file == str(path) and err.row == 1
            return
        rows = []
        for item_id, value in stream:
            rows.append(int(item_id.removeprefix("line ")))
            if isinstance(value, DataError):
                assert value.file == str(path) and value.row == rows[-1], str(value)
            else:
                assert value.pixels.shape == (28, 28) and value.pixels.dtype == np.uint8
        assert rows == sorted(set(rows)) and all(r >= 2 for r in rows)

    check()


def test_the_unmutated_base_file_is_valid(tmp_path: Path) -> None:
    """The mutations start from a valid file, so what they break is what the loader must catch."""
    _, x, y = _base_rows(4)
    (tmp_path / "base.csv").write_bytes(BASE)
    data = load(tmp_path / "base.csv")
    assert np.array_equal(data.x, x) and np.array_equal(data.y, y)
