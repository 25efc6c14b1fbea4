"""The loader: valid data in every accepted form, and a clear error for every bad input."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from signlens.data import load
from signlens.data.csv_reader import HEADER
from signlens.errors import DataError
from tests.synthetic import make_arrays, write_csv


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    x, y = make_arrays(per_letter=2)
    return write_csv(tmp_path / "ok.csv", x, y), x, y


def _lines(path: Path) -> list[str]:
    return path.read_bytes().decode().split("\r\n")


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\r\n".join(lines), newline="")
    return path


def test_loads_arrays_and_labels(small):
    path, x, y = small
    data = load(path)
    assert data.x.shape == (48, 28, 28) and data.x.dtype == np.uint8
    assert np.array_equal(data.x, x) and np.array_equal(data.y, y)
    assert data.ids[0] == "line 2"


def test_fingerprint_ignores_line_endings_and_gzip(small, tmp_path):
    path, x, y = small
    lf = write_csv(tmp_path / "lf.csv", x, y, line_ending="\n")
    gz = tmp_path / "ok.csv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert load(path).fingerprint == load(lf).fingerprint == load(gz).fingerprint
    x2 = x.copy()
    x2[0, 0, 0] ^= 1
    assert load(write_csv(tmp_path / "changed.csv", x2, y)).fingerprint != load(path).fingerprint


def test_directory_with_split_files(small, tmp_path):
    path, x, y = small
    d = tmp_path / "kaggle"
    d.mkdir()
    write_csv(d / "sign_mnist_train.csv", x, y)
    write_csv(d / "sign_mnist_test.csv", x[:24], y[:24])
    assert len(load(d, "train")) == 48 and len(load(d, "test")) == 24


@pytest.mark.parametrize(
    "mutate, line, column, reason",
    [
        (lambda ls: [ls[0].replace("pixel5,", "")] + ls[1:], 1, "pixel6", "wrong header"),
        (lambda ls: [ls[0] + ",extra"] + ls[1:], 1, "extra", "extra column"),
        (lambda ls: ls[1:], 1, None, "missing header"),
        (lambda ls: [ls[0], ls[1] + ",7"] + ls[2:], 2, None, "expected 785 fields, found 786"),
        (lambda ls: ls[:2] + ["x" + ls[2]] + ls[3:], 3, "label", "is not an integer"),
        (lambda ls: ls[:3] + [",".join(ls[3].split(",")[:5] + ["abc"] + ls[3].split(",")[6:])] + ls[4:], 4, "pixel5",
         "'abc' is not an integer"),
        (lambda ls: ls[:2] + [",".join(ls[2].split(",")[:3] + ["256"] + ls[2].split(",")[4:])] + ls[3:], 3, "pixel3",
         "outside 0..255"),
        (lambda ls: ls[:2] + [",".join(ls[2].split(",")[:3] + ["-1"] + ls[2].split(",")[4:])] + ls[3:], 3, "pixel3",
         "outside 0..255"),
        (lambda ls: ls[:2] + [",".join(["9"] + ls[2].split(",")[1:])] + ls[3:], 3, "label", "J"),
        (lambda ls: ls[:2] + [",".join(["25"] + ls[2].split(",")[1:])] + ls[3:], 3, "label", "0..24"),
        (lambda ls: ls[:-2] + [ls[-2][: len(ls[-2]) // 2]], 49, None, "truncated"),
        (lambda ls: ls[:5] + [""] + ls[5:], 6, None, "empty line"),
    ],
    ids=["missing-column", "extra-column", "no-header", "extra-field", "non-int-label", "non-int-pixel",
         "pixel-too-big", "pixel-negative", "label-J", "label-out-of-range", "truncated-last-line", "blank-line"],
)
def test_bad_csv_names_file_row_column_and_reason(small, tmp_path, mutate, line, column, reason):
    path, _, _ = small
    bad = _write(tmp_path / "bad.csv", mutate(_lines(path)))
    with pytest.raises(DataError) as info:
        load(bad)
    err = info.value
    assert err.file == str(bad)
    assert err.row == line
    if column is not None:
        assert err.column == column
    if reason is not None:
        assert reason in str(err)
    assert str(bad) in str(err)


def test_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty"):
        load(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(HEADER) + "\n")
    with pytest.raises(DataError, match="no data rows"):
        load(header_only)


def test_skip_invalid_reports_and_counts(small, tmp_path):
    path, _, _ = small
    ls = _lines(path)
    ls[3] = ",".join(["9"] + ls[3].split(",")[1:])
    ls[7] = ls[7] + ",1"
    bad = _write(tmp_path / "bad.csv", ls)
    data = load(bad, skip_invalid=True)
    assert len(data) == 46
    assert [e.row for e in data.skipped] == [4, 8]
    assert "line 4" not in data.ids


def _png(path: Path, value: int, size: tuple[int, int] = (60, 40)) -> None:
    Image.fromarray(np.full(size[::-1], value, np.uint8)).save(path)


def test_image_folder_layout(tmp_path):
    for letter, value in (("A", 10), ("b", 200)):
        (tmp_path / letter).mkdir()
        _png(tmp_path / letter / "1.png", value)
        _png(tmp_path / letter / "2.PNG", value)
    (tmp_path / "A" / "notes.txt").write_text("ignored: not an image")
    data = load(tmp_path)
    assert data.x.shape == (4, 28, 28)
    assert data.y.tolist() == [0, 0, 1, 1]
    assert data.ids[0].endswith("A/1.png")


def test_image_folder_errors(tmp_path):
    (tmp_path / "J").mkdir()
    _png(tmp_path / "J" / "1.png", 5)
    with pytest.raises(DataError, match="not a letter label"):
        load(tmp_path)
    (tmp_path / "J" / "1.png").unlink()
    (tmp_path / "J").rmdir()
    (tmp_path / "C").mkdir()
    _png(tmp_path / "C" / "ok.png", 5)
    (tmp_path / "C" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(DataError, match="unreadable image") as info:
        load(tmp_path)
    assert info.value.file.endswith("broken.jpg")
    assert len(load(tmp_path, skip_invalid=True)) == 1


def test_missing_path():
    with pytest.raises(DataError, match="no such file"):
        load("/nonexistent/data.csv")


def test_records_name_the_vendored_data_portably_and_other_data_as_given(tmp_path):
    from signlens.data.load import EMBEDDED_DIR, portable

    assert portable(str(EMBEDDED_DIR / "sign_mnist_train.csv.gz")) == "data/sign-mnist/sign_mnist_train.csv.gz"
    elsewhere = str(tmp_path / "mine.csv")
    assert portable(elsewhere) == elsewhere


# --- reliability (issue 18, items 1-4): every bad value or byte is a DataError at its exact row ---

def _set_field(line: str, column: str, text: str) -> str:
    fields = line.split(",")
    fields[HEADER.index(column)] = text
    return ",".join(fields)


@pytest.mark.parametrize("column", ["label", "pixel1", "pixel784"])
@pytest.mark.parametrize(
    "text, reason",
    [("99999999999999999999", "outside"), ("9" * 5000, "outside"), ("-0", "outside"), ("1_0", "not an integer"),
     ("+7", "not an integer"), (" 7 ", "not an integer"), ("7 ", "not an integer"), ("٣", "not an integer"),
     ("２５５", "not an integer"), ("𝟓", "not an integer"), ("1.0", "not an integer"), ("", "not an integer")],
    ids=["over-64-bits", "5000-digits", "minus-zero", "underscore", "plus", "spaces", "trailing-space",
         "arabic-indic", "fullwidth", "math-bold", "decimal", "empty"],
)
def test_a_value_is_ascii_digits_in_range_or_a_clear_error(small, tmp_path, column, text, reason):
    path, _, _ = small
    ls = _lines(path)
    ls[2] = _set_field(ls[2], column, text)
    bad = _write(tmp_path / "bad.csv", ls)
    with pytest.raises(DataError, match=reason) as info:
        load(bad)
    assert (info.value.file, info.value.row, info.value.column) == (str(bad), 3, column)
    assert len(str(info.value)) < 300  # a 5,000-digit value is cut short in the message


def test_leading_zeros_are_still_ascii_digits(small, tmp_path):
    path, x, _ = small
    ls = _lines(path)
    ls[1] = _set_field(_set_field(ls[1], "pixel1", "000000000000000000000000255"), "label", "00")
    data = load(_write(tmp_path / "zeros.csv", ls))
    assert data.x[0, 0, 0] == 255 and data.y[0] == 0


def test_an_overflowing_row_is_skipped_like_any_bad_row(small, tmp_path):
    path, _, _ = small
    ls = _lines(path)
    ls[4] = _set_field(ls[4], "pixel9", "99999999999999999999")
    data = load(_write(tmp_path / "bad.csv", ls), skip_invalid=True)
    assert [(e.row, e.column) for e in data.skipped] == [(5, "pixel9")] and len(data) == 47


def _gz_of(path: Path) -> bytes:
    return gzip.compress(path.read_bytes(), mtime=0)


def corrupt_gzip(path: Path, good_lines: int) -> bytes:
    """Two gzip members: the first `good_lines` lines intact, then the rest with an invalid deflate
    block type (zlib.error), so the damage starts at a known row."""
    lines = path.read_bytes().splitlines(keepends=True)
    damaged = bytearray(gzip.compress(b"".join(lines[good_lines:]), mtime=0))
    damaged[10] = 0xFF  # the first deflate block header, right after gzip's 10-byte header: BTYPE=11
    return gzip.compress(b"".join(lines[:good_lines]), mtime=0) + bytes(damaged)


@pytest.mark.parametrize("good_lines", [0, 10])
def test_a_corrupt_gzip_is_a_clear_error_naming_file_and_row(small, tmp_path, good_lines):
    path, _, _ = small
    corrupt = tmp_path / "corrupt.csv.gz"
    corrupt.write_bytes(corrupt_gzip(path, good_lines))
    for skip_invalid in (False, True):  # a damaged file is never half-loaded
        with pytest.raises(DataError, match="unreadable.*invalid block type") as info:
            load(corrupt, skip_invalid=skip_invalid)
        assert (info.value.file, info.value.row) == (str(corrupt), good_lines + 1)


def test_a_truncated_gzip_names_the_row_where_it_ends(small, tmp_path):
    path, _, _ = small
    whole = path.read_bytes()
    cut = gzip.compress(whole, mtime=0)[:-500]
    truncated = tmp_path / "truncated.csv.gz"
    truncated.write_bytes(cut)
    readable = zlib.decompressobj(wbits=31).decompress(cut)  # all that can be decompressed
    with pytest.raises(DataError, match="ends early") as info:
        load(truncated)
    assert info.value.row == readable.count(b"\n") + 1


@pytest.mark.parametrize("line", [2, 3, 4, 9, 30, 49])
@pytest.mark.parametrize("compressed", [False, True], ids=["csv", "gz"])
def test_invalid_utf8_is_reported_at_its_exact_row_and_column(small, tmp_path, line, compressed):
    path, _, _ = small
    rows = path.read_bytes().split(b"\r\n")
    rows[line - 1] = rows[line - 1].replace(b",", b",\xff", 10).replace(b",\xff", b",", 9)  # pixel10 starts with 0xff
    content = b"\r\n".join(rows)
    bad = tmp_path / ("bad.csv.gz" if compressed else "bad.csv")
    bad.write_bytes(gzip.compress(content, mtime=0) if compressed else content)
    with pytest.raises(DataError, match="invalid UTF-8") as info:
        load(bad)
    assert (info.value.row, info.value.column) == (line, "pixel10")


def test_rows_after_bad_bytes_and_huge_fields_keep_their_exact_numbers(small, tmp_path):
    path, _, _ = small
    rows = path.read_bytes().split(b"\r\n")
    rows[2] = rows[2][:50] + b"\xc3\x28" + rows[2][50:]  # line 3: invalid UTF-8
    rows[4] = _set_field(rows[4].decode(), "pixel3", "1" * 200_000).encode()  # line 5: over csv's 131,072
    rows[6] = _set_field(rows[6].decode(), "pixel3", '"' + "2" * 200_000 + '"').encode()  # line 7: quoted, huge
    rows[10] = rows[10] + b"," * (2 << 20)  # line 11: over the 1 MiB line limit
    rows[13] = _set_field(rows[13].decode(), "pixel700", "x").encode()  # line 14: a plain bad value
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\r\n".join(rows))
    data = load(bad, skip_invalid=True)
    assert [e.row for e in data.skipped] == [3, 5, 7, 11, 14]
    assert [e.column for e in data.skipped][1::3] == ["pixel3", "pixel700"]
    assert len(data) == 43 and "line 12" in data.ids and "line 11" not in data.ids
    with pytest.raises(DataError) as info:
        load(bad)
    assert info.value.row == 3


def test_bare_carriage_return_line_endings_still_load(small, tmp_path):
    path, x, y = small
    cr = write_csv(tmp_path / "cr.csv", x, y, line_ending="\r")
    assert load(cr).fingerprint == load(path).fingerprint and load(cr).ids == load(path).ids


def test_data_validate_names_an_overflowing_value_without_a_traceback(small, tmp_path, capsys):
    from signlens.cli.main import main

    path, _, _ = small
    ls = _lines(path)
    ls[6] = _set_field(ls[6], "pixel42", "99999999999999999999")
    bad = _write(tmp_path / "bad.csv", ls)
    assert main(["data", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}, row 7, column 'pixel42': pixel value 99999999999999999999 is outside 0..255" in err
