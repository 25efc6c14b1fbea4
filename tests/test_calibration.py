"""Calibration: ECE is computed right, temperatures are fitted right, stored in the artifact and used."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from signlens import labels
from signlens.errors import ArtifactError
from signlens.evaluation import calibration
from signlens.inference.predictor import Predictor
from signlens.inference.temperature import temper
from signlens.models import artifact
from tests.hands import as_photo, example
from tests.synthetic import make_arrays


def one_hot_ish(confidences: list[float], predicted: list[int]) -> np.ndarray:
    """(N, 24) rows whose top letter is `predicted` with that confidence, the rest spread evenly."""
    probs = np.zeros((len(confidences), labels.N_CLASSES))
    for row, (c, k) in enumerate(zip(confidences, predicted)):
        probs[row] = (1 - c) / (labels.N_CLASSES - 1)
        probs[row, k] = c
    return probs


def test_ece_of_a_hand_made_example() -> None:
    # two answers at 0.9 (one right), two at 0.6 (both right): bins 0.867-0.933 and 0.533-0.600
    probs = one_hot_ish([0.9, 0.9, 0.6, 0.6], [0, 0, 3, 3])
    y = np.array([0, 5, 3, 3])
    # |0.5 - 0.9| * 2/4 + |1.0 - 0.6| * 2/4
    assert calibration.ece(probs, y) == pytest.approx(0.4)
    bins = calibration.reliability_bins(probs, y)
    assert bins.count.sum() == 4 and bins.count[13] == 2 and bins.count[8] == 2
    # a confidence of exactly 1.0 counts, in the last bin; a right one there has no gap
    assert calibration.ece(one_hot_ish([1.0], [2]), np.array([2])) == 0.0
    assert calibration.reliability_bins(one_hot_ish([1.0], [2]), np.array([2])).count[-1] == 1


def test_temperature_changes_confidence_not_the_letter() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(labels.N_CLASSES), size=50).astype(np.float32)
    np.testing.assert_array_equal(temper(probs, 1.0), probs)
    for t in (0.3, 3.0):
        tempered = temper(probs, t)
        np.testing.assert_array_equal(tempered.argmax(1), probs.argmax(1))
        np.testing.assert_allclose(tempered.sum(1), 1.0, rtol=1e-5)
    assert (temper(probs, 0.3).max(1) > probs.max(1)).all() and (temper(probs, 3.0).max(1) < probs.max(1)).all()


def test_fit_recovers_an_overconfident_models_temperature() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2, (4000, labels.N_CLASSES))
    truth = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = np.array([rng.choice(labels.N_CLASSES, p=p) for p in truth])
    overconfident = np.exp(2 * logits) / np.exp(2 * logits).sum(1, keepdims=True)  # logits doubled
    t = calibration.fit_temperature(overconfident, y)
    assert t == pytest.approx(2.0, rel=0.1)
    assert calibration.ece(temper(overconfident, t), y) < calibration.ece(overconfident, y) / 2


def test_with_no_errors_the_fit_says_as_sure_as_n_right_answers_justify() -> None:
    probs = one_hot_ish([0.7] * 98, [4] * 98)
    t = calibration.fit_temperature(probs, np.full(98, 4))
    assert t < 1 and temper(probs, t).max(1).mean() == pytest.approx(99 / 100, abs=1e-4)


def test_calibration_round_trips_through_the_artifact(tiny_artifact: Path, tmp_path: Path) -> None:
    path = tmp_path / "calibrated"
    shutil.copytree(tiny_artifact, path)
    before = artifact.load(path)
    x, _ = make_arrays(per_letter=2, seed=7)
    raw = Predictor(before).predict(list(x))
    record = {"method": "temperature", "temperatures": {"grid": 2.5, "photo": 0.7}, "grid": {"fitted_on": "test"}}
    version = artifact.save_calibration(path, record)
    after = artifact.load(path)
    assert after.meta["calibration"] == record and after.version == version != before.version
    predictor = Predictor(after)
    assert predictor.temperatures == {"grid": 2.5, "photo": 0.7}
    calibrated = predictor.predict(list(x))
    assert [p.letter for p in calibrated] == [p.letter for p in raw]
    np.testing.assert_allclose([p.confidence for p in calibrated],
                               [temper(np.array([list(p.probabilities.values())]), 2.5).max() for p in raw], rtol=1e-4)
    assert max(p.confidence for p in calibrated) < max(p.confidence for p in raw)


@pytest.mark.parametrize("bad", [{"method": "platt", "temperatures": {"grid": 1.0}},
                                 {"method": "temperature", "temperatures": {"grid": -1.0}},
                                 {"method": "temperature", "temperatures": {"photo": "hot"}}])
def test_a_bad_calibration_record_is_a_clear_error(tiny_artifact: Path, tmp_path: Path, bad: dict) -> None:
    path = tmp_path / "bad"
    shutil.copytree(tiny_artifact, path)
    with pytest.raises(ArtifactError, match="calibration"):
        artifact.save_calibration(path, bad)
    artifact.update_meta(path, calibration=bad)  # written by hand: refused when loaded for inference
    with pytest.raises(ArtifactError, match="calibration"):
        Predictor(artifact.load(path))


def _two_signer_photos(root: Path, letters: list[str]) -> Path:
    """Two "signers": the example hands as photos at two sizes, named as the dev photos are."""
    for c in letters:
        (root / c).mkdir(parents=True)
        for signer, side in (("hand1", 240), ("hand2", 300)):
            Image.fromarray(as_photo(example(c), side=side)).save(root / c / f"{c}_{signer}_1.png")
    return root


def test_calibrate_command_fits_the_grid_temperature_on_the_validation_split(tiny_artifact: Path,
                                                                            tmp_path: Path, capsys) -> None:
    from signlens.cli.main import main

    path = tmp_path / "tiny"
    shutil.copytree(tiny_artifact, path)
    assert main(["calibrate", str(path)]) == 0
    assert "ECE" in capsys.readouterr().out
    record = artifact.load(path).meta["calibration"]
    assert set(record["temperatures"]) == {"grid"}
    assert record["grid"]["n"] == artifact.load(tiny_artifact).meta["n_val"]  # the held-out rows, no more
    assert (path / "reliability-grids.png").stat().st_size > 1000


@pytest.mark.slow  # ~50 s: landmarks of 8 photos in 20 views, in a fresh process
def test_calibrate_command_stores_temperatures_and_draws_them(headed_artifact: Path, tmp_path: Path) -> None:
    photos = _two_signer_photos(tmp_path / "photos", ["A", "L", "V", "Y"])
    out = tmp_path / "figures"
    proc = subprocess.run([sys.executable, "-m", "signlens.cli.main", "calibrate", str(headed_artifact),
                           "--photos", str(photos), "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "ECE" in proc.stdout and "hand1" in proc.stdout and "hand2" in proc.stdout
    meta = json.loads((headed_artifact / artifact.META_FILE).read_text())
    record = meta["calibration"]
    assert set(record["temperatures"]) == {"grid", "photo"}
    assert record["grid"]["fitted_on"].startswith("grouped validation split")
    assert set(record["photo"]["loso"]) == {"hand1", "hand2"}
    for png in ("reliability-grids.png", "reliability-photos.png"):
        assert (out / png).stat().st_size > 1000
    assert Predictor(artifact.load(headed_artifact)).temperatures == record["temperatures"]


def test_replacing_the_head_drops_the_photo_temperature(headed_artifact: Path) -> None:
    art = artifact.load(headed_artifact)
    artifact.save_calibration(headed_artifact, {"method": "temperature", "temperatures": {"grid": 0.5, "photo": 2.0}})
    artifact.save_hand_head(headed_artifact, art.hand_head, {"test": "replaced"})
    assert Predictor(artifact.load(headed_artifact)).temperatures == {"grid": 0.5, "photo": 1.0}


def test_the_shipped_default_carries_both_temperatures() -> None:
    from signlens.paths import DEFAULT_MODEL

    record = artifact.load(DEFAULT_MODEL).meta["calibration"]
    # refitted with `signlens calibrate default --photos DIR` whenever the model or its head changes
    assert set(record["temperatures"]) == {"grid", "photo"}
    assert record["grid"]["fitted_on"].startswith("grouped validation split of data/sign-mnist/sign_mnist_train")
    assert set(record["photo"]["loso"]) == {"hand3", "hand4"}


def _head_that_learnt(tiny_artifact: Path, tmp_path: Path, photos) -> Path:
    """The tiny artifact with a small head trained, as `add-hand-head` does, on the example hands
    (a CSV in Sign-MNIST's format) and on `photos`: the shipped default's situation in miniature."""
    from signlens.data.load import load
    from signlens.training import head as hand_head
    from tests.synthetic import write_csv

    hands = write_csv(tmp_path / "hands.csv", np.stack([example(c) for c in labels.LETTERS]),
                      np.arange(labels.N_CLASSES))
    path = tmp_path / "learnt"
    shutil.copytree(tiny_artifact, path)
    head = hand_head.train(load(hands), seed=0, per_letter=1, progress=False, photos=photos, epochs=3, members=1)
    artifact.save_hand_head(path, head.model, head.record)
    return path


def test_a_head_that_learnt_the_photos_is_calibrated_on_refits_that_never_saw_the_tested_signer(
        tiny_artifact: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from signlens.data.load import load
    from signlens.errors import SignlensError
    from signlens.evaluation import calibrate, loso_refit
    from signlens.training import head as hand_head

    photos = load(_two_signer_photos(tmp_path / "photos", ["A", "L", "V", "Y"]))
    art = artifact.load(_head_that_learnt(tiny_artifact, tmp_path, photos))
    assert loso_refit.head_trained_on(art, photos)
    with pytest.raises(SignlensError, match="trained on"):
        calibrate.check_unseen(art, photos)  # its own answers on them are no held-out predictions
    refits = []

    def spy(*args, **kwargs):  # every head the calibration trains, and what it was given
        refits.append(kwargs)
        return train(*args, **kwargs)

    train = hand_head.train
    monkeypatch.setattr(hand_head, "train", spy)
    held, who = loso_refit.heldout(art, Predictor(art), photos, progress=False)
    assert len(refits) == 2  # one refit per signer
    shas = loso_refit.photo_shas(photos)
    for tested, refit in zip(("hand1", "hand2"), refits):
        assert tested not in set(calibrate.signers(refit["photos"].ids))
        assert not set(loso_refit.photo_shas(refit["photos"])) & set(shas[who == tested])
        assert len(refit["photos"]) == 4  # all of the other signer's photos
        assert (refit["epochs"], refit["members"], refit["copies"]) == (3, 1, 0)  # the recorded recipe
    assert held.probs.shape == (8, labels.N_CLASSES) and np.allclose(held.probs.sum(1), 1, atol=1e-4)
    record = calibrate.photo_record(held, who)
    assert record["fitted_on"].startswith("leave-one-signer-out refits") and set(record["loso"]) == {"hand1", "hand2"}
    assert str(tmp_path) not in json.dumps(record)  # the photo set is named by folder name and fingerprint


def test_a_photo_filed_under_both_signers_stops_the_refits(headed_artifact: Path, tmp_path: Path) -> None:
    from signlens.data.load import load
    from signlens.errors import SignlensError
    from signlens.evaluation import loso_refit

    folder = _two_signer_photos(tmp_path / "photos", ["A"])
    shutil.copy(folder / "A" / "A_hand1_1.png", folder / "A" / "A_hand2_2.png")  # hand1's photo as hand2's
    artifact.update_meta(headed_artifact, hand_head={"trained_on": "x.csv", "per_letter": 1, "seed": 0})
    art = artifact.load(headed_artifact)
    with pytest.raises(SignlensError, match="in the training set"):
        loso_refit.heldout(art, Predictor(art), load(folder), progress=False)
