"""The `signlens` command end to end on tiny data, and its errors (no tracebacks)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from signlens.cli.main import main
from tests.synthetic import letter_image


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "signlens.cli.main", *args], capture_output=True, text=True, timeout=300)


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


def test_resume_keeps_the_interrupted_runs_config(tmp_path, tiny_csv, capsys):
    from signlens.training.train import CHECKPOINT_DIR, RUN_CONFIG

    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--resume", "--no-track"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    # an interrupted run: its checkpoint holds the config it was started with (2 epochs, not the default 10)
    (out / CHECKPOINT_DIR).mkdir(parents=True)
    (out / CHECKPOINT_DIR / RUN_CONFIG).write_text(json.dumps(
        {"model": "cnn", "epochs": 2, "batch_size": 32, "data": str(tiny_csv), "val_fraction": 0.2}))
    assert main(["train", "--out", str(out), "--resume", "--no-track", "epochs=5"]) == 2
    assert "config it was started with" in capsys.readouterr().err
    assert main(["train", "--out", str(out), "--resume", "--no-track"]) == 0
    meta = json.loads((out / "signlens.json").read_text())
    assert meta["config"]["epochs"] == 2 and meta["metrics"]["epochs_run"] == 2
    assert not (out / CHECKPOINT_DIR).exists()


def test_predict_takes_a_folder_and_names_a_file_it_cannot_read(tmp_path, tiny_artifact, capsys):
    folder = tmp_path / "photos"
    (folder / "B").mkdir(parents=True)
    for i in range(2):
        Image.fromarray(np.kron(letter_image(1, np.random.default_rng(i)), np.ones((4, 4), np.uint8))).save(
            folder / "B" / f"{i}.png")
    assert main(["predict", str(tiny_artifact), str(folder)]) == 0
    printed = capsys.readouterr().out
    assert "0.png: " in printed and "1.png: " in printed
    (folder / "B" / "2.png").write_bytes(b"these are not pixels")
    assert main(["predict", str(tiny_artifact), str(folder / "B" / "2.png")]) == 2
    err = capsys.readouterr().err
    assert "2.png: cannot decode image: not a png" in err and "BytesIO" not in err
    assert main(["predict", str(tiny_artifact), str(tmp_path / "empty")]) == 2


def test_evaluate_on_a_folder_does_not_replace_the_test_report(tmp_path, tiny_artifact, tiny_test_csv, capsys):
    import shutil

    art = tmp_path / "art"
    shutil.copytree(tiny_artifact, art)
    assert main(["evaluate", str(art), "--data", str(tiny_test_csv)]) == 0
    printed = capsys.readouterr().out
    assert (art / "eval-tiny_test" / "report.json").exists()
    assert f"wrote {art / 'eval-tiny_test'}/: report.json, confusion_matrix.png" in printed
    assert ("misclassified.png" in printed) == bool(json.loads((art / "eval-tiny_test" / "report.json").read_text())["errors"])
