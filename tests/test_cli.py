"""The `signlens` command end to end on tiny data, and its errors (no tracebacks)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from signlens.cli import main
from tests.synthetic import letter_image


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "signlens.cli", *args], capture_output=True, text=True, timeout=300)


def test_train_evaluate_predict_end_to_end(tmp_path, tiny_csv, tiny_test_csv, capsys):
    out = tmp_path / "model"
    assert main(["train", "--out", str(out), f"--data={tiny_csv}", "--model=cnn", "epochs=1",
                 "--batch_size=16", "seed=3"]) == 0
    assert (out / "model.keras").exists()
    assert main(["evaluate", str(out), "--data", str(tiny_test_csv), "--out", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval" / "report.json").read_text())
    assert report["n"] == 120 and set(report["per_letter"]) >= {"A", "Y"}
    assert (tmp_path / "eval" / "confusion_matrix.png").exists()
    img = tmp_path / "b.png"
    Image.fromarray(np.kron(letter_image(1, np.random.default_rng(0)), np.ones((5, 5), np.uint8))).save(img)
    assert main(["predict", str(out), str(img), str(tiny_test_csv)]) == 0
    printed = capsys.readouterr().out
    assert "b.png:" in printed and "top-3" in printed and f"{tiny_test_csv}:line 2:" in printed


def test_data_describe_writes_plots(tmp_path, tiny_csv, capsys):
    assert main(["data", "describe", "--data", str(tiny_csv), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "label_histogram.png").exists() and (tmp_path / "samples.png").exists()
    assert "A      20" in capsys.readouterr().out


def test_bad_data_exits_nonzero_with_a_clear_message_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("label,pixel1\n3,4\n")
    proc = _run("data", "validate", str(bad))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{bad}, row 1" in proc.stderr and "header has 2 columns" in proc.stderr


def test_usage_errors_are_clean(tmp_path, tiny_csv):
    for args, message in [
        (["train", "--out", str(tmp_path / "x"), "--epochs=zero"], "epochs: expected int"),
        (["train", "--out", str(tmp_path / "x"), "--bogus=1"], "unknown config key"),
        (["evaluate", str(tmp_path / "missing")], "no such model"),
    ]:
        proc = _run(*args)
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr and "Traceback" not in proc.stderr
