"""Offline batch prediction: streamed CSV/folder -> output CSV, bad rows to an errors file, --resume."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from signlens import labels
from signlens.models import artifact
from signlens.inference import batch
from signlens.data import load
from signlens.errors import SignlensError
from signlens.inference.predictor import Predictor


@pytest.fixture(scope="module")
def predictor(tiny_artifact: Path) -> Predictor:
    return Predictor(artifact.load(tiny_artifact))


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_csv_gives_one_row_per_input_matching_the_predictor(predictor: Predictor, tiny_test_csv: Path,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "pred.csv"
    summary = batch.run(predictor, tiny_test_csv, out, chunk_size=7, progress=False)  # many chunk edges
    data = load(tiny_test_csv)
    rows = read(out)
    assert summary.predicted == len(rows) == len(data) and summary.errors == 0
    assert [r["id"] for r in rows] == list(data.ids)
    expected = predictor.probabilities(data.x)
    assert [r["letter"] for r in rows] == [labels.LETTERS[i] for i in expected.argmax(1)]
    np.testing.assert_allclose([float(r["confidence"]) for r in rows], expected.max(1), atol=1e-5)
    assert read(batch.errors_path(out)) == []


def test_bad_rows_go_to_the_errors_file_and_never_abort(predictor: Predictor, tiny_test_csv: Path,
                                                        tmp_path: Path) -> None:
    lines = tiny_test_csv.read_text().splitlines()
    lines[3] = lines[3].replace(",", ",abc,", 1).rsplit(",", 1)[0]  # 'abc' in pixel1, same field count
    lines[5] = lines[5].rsplit(",", 1)[0] + ",300"  # pixel784 out of range
    lines[8] = lines[8][:100]  # torn row
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "pred.csv"
    summary = batch.run(predictor, bad, out, progress=False)
    errors = read(batch.errors_path(out))
    assert [(e["id"], e["column"]) for e in errors] == [("line 4", "pixel1"), ("line 6", "pixel784"), ("line 9", "")]
    assert "outside 0..255" in errors[1]["reason"] and "fields" in errors[2]["reason"]
    assert summary.errors == 3 and summary.predicted == len(read(out)) == len(lines) - 1 - 3


def test_resume_skips_done_rows_and_repairs_a_torn_last_line(predictor: Predictor, tiny_test_csv: Path,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "pred.csv"
    batch.run(predictor, tiny_test_csv, out, progress=False)
    full = out.read_text().splitlines(keepends=True)
    out.write_text("".join(full[:41]) + full[41][:9])  # header + 40 rows + half a row: killed mid-write
    with pytest.raises(SignlensError, match="--resume"):
        batch.run(predictor, tiny_test_csv, out, progress=False)
    summary = batch.run(predictor, tiny_test_csv, out, resume=True, progress=False)
    assert summary.skipped == 40 and summary.predicted == len(full) - 1 - 40
    assert out.read_text().splitlines(keepends=True) == full  # same rows, each exactly once


def test_unlabelled_csv_and_all_probabilities(predictor: Predictor, tiny_test_csv: Path, tmp_path: Path) -> None:
    lines = tiny_test_csv.read_text().splitlines()
    unlabelled = tmp_path / "x.csv"
    unlabelled.write_text("\n".join(line.split(",", 1)[1] for line in lines[:6]) + "\n")
    out = tmp_path / "pred.csv"
    batch.run(predictor, unlabelled, out, all_probabilities=True, progress=False)
    rows = read(out)
    assert len(rows) == 5 and list(rows[0]) == batch.output_columns(True)
    for r in rows:
        probs = np.array([float(r[f"p_{c}"]) for c in labels.LETTERS])
        assert probs.sum() == pytest.approx(1, abs=1e-3) and labels.LETTERS[probs.argmax()] == r["letter"]


def test_image_folder_recurses_and_reports_unreadable_files(predictor: Predictor, tiny_test_csv: Path,
                                                            tmp_path: Path) -> None:
    data = load(tiny_test_csv)
    root = tmp_path / "imgs"
    for i in range(3):
        (root / "sub").mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        Image.fromarray(np.kron(data.x[i], np.ones((4, 4), np.uint8))).save(buf, "PNG")  # 112×112 photo
        (root / ("sub" if i else "") / f"{i}.png").write_bytes(buf.getvalue())
    (root / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "pred.csv"
    summary = batch.run(predictor, root, out, progress=False)
    assert [r["id"] for r in read(out)] == ["0.png", "sub/1.png", "sub/2.png"]
    [err] = read(batch.errors_path(out))
    assert err["id"] == "broken.jpg" and "cannot decode" in err["reason"]
    assert (summary.predicted, summary.errors) == (3, 1)


def test_missing_input_and_bad_header_are_clear_errors(predictor: Predictor, tmp_path: Path) -> None:
    with pytest.raises(SignlensError, match="no such file"):
        batch.run(predictor, tmp_path / "nope.csv", tmp_path / "o.csv", progress=False)
    (tmp_path / "h.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SignlensError, match="header"):
        batch.run(predictor, tmp_path / "h.csv", tmp_path / "o.csv", progress=False)
    assert not (tmp_path / "o.csv").exists()


def test_overflowing_non_ascii_and_undecodable_rows_are_errors_and_good_rows_still_predicted(
        predictor: Predictor, tiny_test_csv: Path, tmp_path: Path) -> None:
    def with_field(line: bytes, column: int, value: bytes) -> bytes:
        fields = line.split(b",")
        fields[column] = value
        return b",".join(fields)

    lines = tiny_test_csv.read_bytes().splitlines()
    lines[3] = with_field(lines[3], 5, b"99999999999999999999")  # pixel5: too big for 64 bits
    lines[5] = with_field(lines[5], 1, "٣".encode())  # pixel1: an Arabic-Indic digit
    lines[9] = with_field(lines[9], 784, b"\xff\xfe")  # pixel784: invalid UTF-8
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "pred.csv"
    summary = batch.run(predictor, bad, out, chunk_size=7, progress=False)
    errors = read(batch.errors_path(out))
    assert [(e["id"], e["column"]) for e in errors] == [("line 4", "pixel5"), ("line 6", "pixel1"),
                                                        ("line 10", "pixel784")]
    assert "outside 0..255" in errors[0]["reason"] and "not an integer" in errors[1]["reason"]
    predicted = [r["id"] for r in read(out)]
    assert predicted == [f"line {i}" for i in range(2, len(lines) + 1) if i not in (4, 6, 10)]
    assert (summary.predicted, summary.errors) == (len(lines) - 1 - 3, 3)


def test_a_corrupt_gzip_keeps_the_rows_before_the_damage_and_records_where_it_stopped(
        predictor: Predictor, tiny_test_csv: Path, tmp_path: Path) -> None:
    from tests.test_data_load import corrupt_gzip

    corrupt = tmp_path / "in.csv.gz"
    corrupt.write_bytes(corrupt_gzip(tiny_test_csv, good_lines=30))
    out = tmp_path / "pred.csv"
    summary = batch.run(predictor, corrupt, out, chunk_size=8, progress=False)
    assert [r["id"] for r in read(out)] == [f"line {i}" for i in range(2, 31)]
    [err] = read(batch.errors_path(out))
    assert err["id"] == "line 31" and "invalid block type" in err["reason"]
    assert (summary.predicted, summary.errors) == (29, 1)
