"""The CLI answers before heavy libraries load: help, argument errors and light commands never
import TensorFlow; mistyped names are told at once with the name meant; outputs are not clobbered."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from signlens import spec
from signlens.cli import console, refs
from signlens.cli.main import main
from signlens.data import load

# Runs CLI commands in one fresh interpreter and reports, after each, whether TensorFlow is loaded.
_PROBE = textwrap.dedent("""
    import json, sys
    from signlens.cli.main import main
    seen = {}
    for args in json.loads(sys.argv[1]):
        try:
            main(args)
        except SystemExit:
            pass
        seen[" ".join(args)] = sorted(m for m in ("tensorflow", "keras", "cv2", "fastapi") if m in sys.modules)
    print(json.dumps(seen))
""")


def _loaded_after(commands: list[list[str]], cwd: Path) -> dict[str, list[str]]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(commands)], capture_output=True, text=True,
                          timeout=120, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_help_errors_and_light_commands_do_not_import_tensorflow(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"not really a png: submit only queues bytes")
    commands = [["--help"], ["train", "--help"], ["serve", "--help"], ["nonsense"], ["train", "model=resnet"],
                ["predict", "models/seed-cn", "a.png"], ["evaluate", "no/such/model"],
                ["serve", "x=no/such/dir"], ["data", "verify"],
                ["worker", "--redis", "redis://127.0.0.1:1/0", "submit", "a.png"]]  # port 1: refused at once
    loaded = _loaded_after(commands, tmp_path)
    assert loaded == {" ".join(c): [] for c in commands}


@pytest.mark.slow  # MLflow's import and a new store's migrations take several seconds
def test_runs_list_does_not_import_tensorflow(tmp_path: Path) -> None:
    command = ["runs", "list", "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"]
    loaded = _loaded_after([command], tmp_path)[" ".join(command)]
    assert "tensorflow" not in loaded and "keras" not in loaded  # (MLflow itself brings FastAPI)


def test_a_mistyped_model_is_answered_with_the_name_meant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", "models/seed-cn", "x.png"]) == 2
    assert "models/seed-cn: no such model" in capsys.readouterr().err
    for args, hint in ((["evaluate", "seed-mlp"], "did you mean"), (["train", "model=cnnn"], "did you mean cnn?"),
                       (["serve", "x=models/defualt"], "no such model directory")):
        assert main(args) == 2
        assert hint in capsys.readouterr().err
    assert "models/seed-cnn" in refs.did_you_mean("models/seed-cn", refs.shipped_models())


def test_suggestions_for_registry_names() -> None:
    names = ["signlens-asl", "signlens-personal"]
    assert refs.suggest_registered("models:/signlens-as@champion", names) == \
        " (did you mean models:/signlens-asl@champion?)"
    assert refs.suggest_registered("models:/signlens-asl/3", names) == ""  # the name exists: the version does not
    assert refs.suggest_registered("models:/zzz/1", names) == ""


def test_model_names_checked_early_match_the_builders() -> None:
    from signlens.models import builders

    assert set(spec.MODEL_NAMES) == set(builders.MODELS)


def test_train_refuses_to_overwrite_a_trained_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "model"
    out.mkdir()
    (out / spec.META_FILE).write_text('{"name": "earlier"}')
    (out / spec.HEAD_FILE).write_text("an earlier model's head")
    assert main(["train", "--out", str(out), "--no-track", "epochs=1"]) == 2
    err = capsys.readouterr().err
    assert "already holds a trained model" in err and "--force" in err
    assert (out / spec.META_FILE).read_text() == '{"name": "earlier"}'
    from signlens.cli.train import check_out_dir

    check_out_dir(out, resume=False, force=True)  # --force: nothing of the old model survives next to the new
    assert not out.exists()


def test_make_tiny_writes_a_valid_sample_of_every_letter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, again, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    assert main(["data", "make-tiny", str(first), "--per-letter", "3", "--seed", "7", "--split", "test"]) == 0
    assert "72 rows (24 letters" in capsys.readouterr().out
    data = load(first)
    assert len(data) == 72 and sorted(set(data.y.tolist())) == list(range(24))
    assert main(["data", "make-tiny", str(again), "--per-letter", "3", "--seed", "7", "--split", "test"]) == 0
    assert main(["data", "make-tiny", str(other), "--per-letter", "3", "--seed", "8", "--split", "test"]) == 0
    assert first.read_bytes() == again.read_bytes() != other.read_bytes()
    assert main(["data", "make-tiny", str(tmp_path / "d.txt")]) == 2


def test_banner_filter_keeps_real_messages() -> None:
    text = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            "I0000 00:00:1796201675.454425   23097 port.cc:153] oneDNN custom operations are on. You may see ...\n"
            "E0000 something actually failed\n")
    assert console.drop_banners(text) == "E0000 something actually failed\n"


@pytest.mark.slow  # imports TensorFlow in a fresh interpreter
def test_tensorflow_import_leaves_no_banners_in_a_log(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", "from signlens.cli import console; console.import_tensorflow()"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "absl::InitializeLog" not in proc.stderr and "oneDNN" not in proc.stderr


def test_a_log_gets_a_summary_line_not_progress_bar_frames(tmp_path: Path, tiny_artifact: Path, tiny_test_csv: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    # pytest's captured stderr is not a terminal, as a log file is not
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(tiny_artifact), "--batch", str(tiny_test_csv), "-o", str(out)]) == 0
    printed = capsys.readouterr()
    assert "\r" not in printed.err and "img/s" not in printed.err, printed.err
    assert printed.out.strip() == f"120 predicted, 0 errors, 0 already done -> {out}"
