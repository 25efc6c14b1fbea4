"""The loader: valid data in every accepted form, and a clear error for every bad input."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from signlens.data import load
from signlens.data.validate import HEADER
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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.lists(st.one_of(st.integers(-300, 300).map(str), st.text(max_size=4)), min_size=0, max_size=790)
        .map(lambda fields: ",".join(fields)),
        max_size=4,
    ),
    header=st.booleans(),
)
def test_random_malformed_csv_gives_a_clear_error_never_a_traceback(tmp_path_factory, lines, header):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.csv"
    path.write_text("\n".join(([",".join(HEADER)] if header else []) + lines), encoding="utf-8")
    try:
        data = load(path)
    except DataError as err:
        assert re.match(re.escape(str(path)), str(err))
    else:  # whatever random text parses must be a genuinely valid dataset
        assert data.x.dtype == np.uint8 and len(data) > 0


def test_records_name_the_vendored_data_portably_and_other_data_as_given(tmp_path):
    from signlens.data.load import EMBEDDED_DIR, portable

    assert portable(str(EMBEDDED_DIR / "sign_mnist_train.csv.gz")) == "data/sign-mnist/sign_mnist_train.csv.gz"
    elsewhere = str(tmp_path / "mine.csv")
    assert portable(elsewhere) == elsewhere
