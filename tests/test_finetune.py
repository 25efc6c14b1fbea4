"""Fine-tuning on a tiny folder gives a loadable new artifact that reads those photos better."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from signlens import labels
from signlens.models.artifact import load as load_artifact
from signlens.data import load
from signlens.training.finetune import finetune
from signlens.models.resolve import resolve
from signlens.inference.predictor import Predictor
from tests.synthetic import letter_image

PERSONAL = [0, 1, 2, 3]  # letters the "user" shows


def _user_folder(root: Path, per_letter: int = 3) -> Path:
    """The user signs letter c the way the training data signs letter c+6: a personal variant
    the base model misreads, so fine-tuning has something to learn."""
    rng = np.random.default_rng(5)
    for c in PERSONAL:
        d = root / labels.LETTERS[c]
        d.mkdir(parents=True)
        for i in range(per_letter):
            Image.fromarray(letter_image(c + 6, rng)).save(d / f"{i}.png")
    return root


def test_finetune_improves_on_the_users_photos(tmp_path: Path, tiny_artifact: Path, tiny_csv: Path) -> None:
    user = load(_user_folder(tmp_path / "me"))
    base = resolve(tiny_artifact)
    before = (Predictor(base).probabilities(user.x).argmax(1) == user.y).mean()
    base_weights = [w.copy() for w in base.model.get_weights()]

    result = finetune(base, user, tmp_path / "personal", anchor=load(tiny_csv), epochs=6,
                      learning_rate=3e-3, n_anchor=120, batch_size=32)

    personal = load_artifact(result.artifact_dir)
    after = (Predictor(personal).probabilities(user.x).argmax(1) == user.y).mean()
    assert before <= 0.25 and after >= 0.9, (before, after)
    meta = personal.meta["finetune"]
    assert meta["n_images"] == len(user) and meta["per_letter"] == {"A": 3, "B": 3, "C": 3, "D": 3}
    assert meta["base_version"] == base.version and personal.name.endswith("-personal")
    assert all(np.array_equal(a, b) for a, b in zip(base_weights, load_artifact(tiny_artifact).model.get_weights()))


def test_finetune_refuses_an_empty_dataset(tmp_path: Path, tiny_artifact: Path, tiny_csv: Path) -> None:
    from signlens.errors import SignlensError

    empty = load(tiny_csv).subset(np.array([], dtype=int))
    with pytest.raises(SignlensError):
        finetune(resolve(tiny_artifact), empty, tmp_path / "x", anchor=load(tiny_csv))


def test_cli_parses_finetune() -> None:
    from signlens.cli.main import build_parser

    args = build_parser().parse_args(["finetune", "base", "--images", "d", "--out", "o", "--epochs", "2"])
    assert (args.base, args.images, args.out, args.epochs) == ("base", "d", "o", 2)


def test_cli_finetune_registers_a_new_version_that_loads(tmp_path: Path, tiny_artifact: Path, tiny_csv: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from signlens.cli import main as cli
    from signlens.training import finetune as finetune_module

    # rehearse on the tiny CSV: the vendored Sign-MNIST would cost this test a minute
    real = finetune_module.finetune
    monkeypatch.setattr(finetune_module, "finetune",
                        lambda *a, **k: real(*a, **{**k, "anchor": load(tiny_csv), "n_anchor": 120}))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    folder = _user_folder(tmp_path / "me")
    for round_ in (1, 2):
        cli.main(["finetune", str(tiny_artifact), "--images", str(folder), "--out", str(tmp_path / f"p{round_}"),
                  "--epochs", "2", "--learning-rate", "3e-3", "--tracking-uri", uri])
        out = capsys.readouterr().out
        assert "epoch 2/2" in out and f"registered signlens-personal version {round_}" in out, out

    registered = resolve("models:/signlens-personal/2", tracking_uri=uri)
    local = load_artifact(tmp_path / "p2")
    user = load(folder)
    assert registered.version == "signlens-personal/v2" and registered.meta["finetune"]["n_images"] == len(user)
    np.testing.assert_allclose(Predictor(registered).probabilities(user.x), Predictor(local).probabilities(user.x),
                               atol=1e-6)
