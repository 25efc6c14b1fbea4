"""Hand landmarks and the hand-landmark head: the photo path that carries Sign-MNIST over to real photos.

Real hands come from the committed Sign-MNIST examples: as 28×28 grids, and upscaled onto a black
frame, which `preprocess` treats as a photo (hand finding, landmarks).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from signlens import labels
from signlens.models import artifact
from signlens.vision import landmarks
from signlens.data import load
from signlens.errors import ArtifactError
from signlens.evaluation.evaluate import evaluate
from signlens.training.finetune import finetune
from signlens.inference.predictor import Predictor
from signlens.vision.preprocess import preprocess
from tests.hands import as_photo, example, photo_png


def test_landmarks_are_found_in_sign_mnist_hands_and_not_in_a_blank(example_points) -> None:
    points, letters = example_points
    assert points.shape[1:] == (21, 3)
    assert len(letters) >= 20  # the landmark model misses ~4% of Sign-MNIST hands
    assert landmarks.grid_points(np.full((28, 28), 128, np.uint8)) is None


def test_features_keep_the_handshape_and_drop_position_and_size(example_points) -> None:
    points = example_points[0][:3]
    moved = points * 1.7 + np.array([30.0, -12.0, 5.0], np.float32)
    np.testing.assert_allclose(landmarks.features(moved), landmarks.features(points), rtol=1e-4, atol=1e-4)
    assert landmarks.features(points).shape == (3, landmarks.N_FEATURES)
    np.testing.assert_array_equal(landmarks.mirrored(landmarks.mirrored(points)), points)
    assert not np.allclose(landmarks.features(landmarks.mirrored(points)), landmarks.features(points))


def test_combine_is_a_renormalized_product() -> None:
    sure_b = np.full(24, 0.01)
    sure_b[1] = 0.77
    uniform = np.full(24, 1 / 24)
    both = landmarks.combine(np.stack([uniform, sure_b]), np.stack([sure_b, uniform]))
    np.testing.assert_allclose(both.sum(axis=1), 1.0, rtol=1e-5)
    assert list(both.argmax(axis=1)) == [1, 1]  # an undecided expert defers to the other


def test_views_that_missed_the_hand_do_not_count_when_pooling() -> None:
    sure_b = np.full(24, 0.01)
    sure_b[1] = 0.77
    sure_c = np.roll(sure_b, 1)
    probs = np.stack([[sure_b, sure_c], [sure_c, sure_b]])
    pooled = landmarks.pool_views(probs, np.array([[True, False], [True, True]]))
    np.testing.assert_allclose(pooled[0], sure_b, rtol=1e-5)  # one view: its own answer
    assert pooled[1][1] == pytest.approx(pooled[1][2]) and pooled[1][1] > pooled[1][0]  # a tie of B and C
    np.testing.assert_allclose(pooled.sum(axis=1), 1.0, rtol=1e-5)


def test_photo_preprocessing_gives_landmarks_only_when_there_is_a_hand() -> None:
    points = preprocess(as_photo(example("B"))).hand_points
    assert points is not None and points.shape == (len(landmarks.VIEWS), 21, 3)
    assert landmarks.has_hand(points[None])[0]
    blank = preprocess(np.full((200, 200, 3), 90, np.uint8))
    assert not blank.hand_found and blank.hand_points is None
    assert preprocess(example("B")).hand_points is None  # a 28×28 grid is passed through untouched


def test_tilted_views_are_turned_back_into_the_untilted_frame() -> None:
    """A tilted view's joints are read in a turned image and turned back: they land where the
    untilted view's do, so the hand's orientation (which tells G from Q, H from U) is kept."""
    points = preprocess(as_photo(example("L")), views=landmarks.TTA_VIEWS).hand_points
    assert points is not None and points.shape == (len(landmarks.TTA_VIEWS), 21, 3)
    crop = points[landmarks.TTA_VIEWS.index("crop")]
    hand_size = np.ptp(crop[:, :2], axis=0).max()
    for tilt in (t for t in landmarks.TILTS if t):
        tilted = points[landmarks.TTA_VIEWS.index(f"crop tilted {tilt:+d}°")]
        # ~1% of the hand's size apart; left turned, a 15° tilt moves them ~7%
        assert np.linalg.norm(tilted[:, :2] - crop[:, :2], axis=1).mean() < 0.03 * hand_size


def test_head_round_trips_changes_the_version_and_decides_photos(headed_artifact: Path, tiny_artifact: Path,
                                                                 example_points) -> None:
    points, letters = example_points
    art = artifact.load(headed_artifact)
    assert art.hand_head is not None and art.meta["hand_head"] == {"test": True}
    assert art.version != artifact.load(tiny_artifact).version
    predictor = Predictor(art)
    one_view = points[:, None]  # (N, views=1, 21, 3)
    assert (predictor.hand_probabilities(one_view).argmax(axis=1) == letters).mean() >= 0.9
    grids = np.stack([example(labels.LETTERS[i]) for i in letters])
    image_only = predictor.probabilities(grids)
    with_hands = predictor.probabilities(grids, one_view)
    # the tiny model knows only synthetic bars and is sure of them; the head shifts its answers
    assert not np.allclose(with_hands, image_only, atol=1e-3)
    np.testing.assert_allclose(with_hands.sum(axis=1), 1.0, rtol=1e-4)
    no_points = np.full_like(one_view, np.nan)
    np.testing.assert_array_equal(predictor.probabilities(grids, no_points), image_only)


def test_a_damaged_head_is_a_clear_error(headed_artifact: Path) -> None:
    (headed_artifact / artifact.HEAD_FILE).write_bytes(b"not a keras file")
    with pytest.raises(ArtifactError, match="hand-landmark head"):
        artifact.load(headed_artifact)


def _photo_folder(root: Path, letters: list[str]) -> Path:
    for c in letters:
        (root / c).mkdir(parents=True)
        Image.fromarray(as_photo(example(c))).save(root / c / "1.png")
    return root


def test_evaluate_on_photos_reports_what_the_head_adds(headed_artifact: Path, tmp_path: Path) -> None:
    data = load(_photo_folder(tmp_path / "photos", ["A", "B", "L", "V", "Y"]))
    assert data.hand_points is not None and not np.isnan(data.hand_points).all()
    report = evaluate(artifact.load(headed_artifact), data)
    assert report["hand_landmarks"]["n_with_landmarks"] >= 4
    assert 0 <= report["hand_landmarks"]["image_model_accuracy"] <= 1


def test_finetune_carries_the_head_over_and_teaches_it(headed_artifact: Path, tmp_path: Path, tiny_csv: Path) -> None:
    user = load(_photo_folder(tmp_path / "me", ["A", "B", "L"]))
    out = tmp_path / "personal"
    finetune(artifact.load(headed_artifact), user, out, anchor=load(tiny_csv), epochs=1, n_anchor=48)
    personal = artifact.load(out)
    assert personal.hand_head is not None
    assert personal.meta["hand_head"]["finetune_photos_with_landmarks"] >= 2


def test_photo_bytes_reach_the_head_through_predict(headed_artifact: Path) -> None:
    photo = photo_png("L")
    art = artifact.load(headed_artifact)
    predictor = Predictor(art)
    [pred] = predictor.predict([photo])
    points = pred.preprocessed.hand_points
    assert points is not None
    expected = landmarks.combine(predictor.probabilities(pred.preprocessed.pixels[None]),
                                 predictor.hand_probabilities(points[None]))[0]
    np.testing.assert_allclose([pred.probabilities[c] for c in labels.LETTERS], expected, rtol=1e-4, atol=1e-7)


def test_the_server_answers_photos_with_the_head_too(headed_artifact: Path) -> None:
    from fastapi.testclient import TestClient

    from signlens.serving.app import create_app
    from signlens.serving.settings import ServeSettings

    photo = photo_png("V")
    [local] = Predictor(artifact.load(headed_artifact)).predict([photo])
    with TestClient(create_app(ServeSettings(models=(("headed", str(headed_artifact)),)))) as client:
        answer = client.post("/v1/predict", content=photo, headers={"content-type": "image/png"}).json()
    assert answer["letter"] == local.letter
    skeleton = np.array(answer["input"]["hand_points"])  # what the page draws over the photo
    assert skeleton.shape == (21, 2)
    assert ((skeleton >= 0) & (skeleton <= 240)).all() and np.ptp(skeleton, axis=0).min() > 20  # a hand-sized spread
    np.testing.assert_allclose([answer["probabilities"][c] for c in labels.LETTERS],
                               [local.probabilities[c] for c in labels.LETTERS], rtol=1e-4, atol=1e-7)


def test_batch_prediction_of_a_photo_folder_uses_the_head_too(headed_artifact: Path, tmp_path: Path) -> None:
    import csv

    from signlens.inference import batch

    folder = _photo_folder(tmp_path / "photos", ["B", "W"])
    predictor = Predictor(artifact.load(headed_artifact))
    batch.run(predictor, folder, tmp_path / "out.csv", all_probabilities=True, progress=False)
    with open(tmp_path / "out.csv", newline="") as f:
        rows = {row["id"]: row for row in csv.DictReader(f)}
    for letter in ["B", "W"]:
        [local] = predictor.predict([(folder / letter / "1.png").read_bytes()])
        row = rows[f"{letter}/1.png"]
        np.testing.assert_allclose([float(row[f"p_{c}"]) for c in labels.LETTERS],
                                   [local.probabilities[c] for c in labels.LETTERS], atol=2e-6)


def test_landmarks_are_taken_only_for_a_model_whose_head_uses_them(headed_artifact: Path, tiny_artifact: Path,
                                                                    monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from signlens.serving.app import create_app
    from signlens.serving.settings import ServeSettings

    calls = []
    real_run = landmarks._Model.run
    monkeypatch.setattr(landmarks._Model, "run", classmethod(lambda cls, rgb: calls.append(1) or real_run(rgb)))
    photo = photo_png("L")

    [plain] = Predictor(artifact.load(tiny_artifact)).predict([photo])
    assert plain.preprocessed.hand_found and plain.preprocessed.hand_points is None and not calls
    settings = ServeSettings(models=(("plain", str(tiny_artifact)), ("headed", str(headed_artifact))))
    with TestClient(create_app(settings)) as client:
        # headed: one look to check hand.py's box (it stands for this clean photo), then the views
        for name, expect_calls in [("plain", 0), ("headed", 1 + len(landmarks.VIEWS))]:
            calls.clear()
            answer = client.post(f"/v1/predict?model={name}", content=photo, headers={"content-type": "image/png"})
            assert answer.status_code == 200 and answer.json()["input"]["hand_found"]
            assert len(calls) == expect_calls, name
            assert (answer.json()["input"]["hand_points"] is None) == (name == "plain")


@pytest.mark.parametrize("quantize", ["none", "int8"])
def test_a_tflite_export_carries_the_head_and_reads_photos_alike(headed_artifact: Path, tmp_path: Path,
                                                                 tiny_csv: Path, quantize: str) -> None:
    from signlens.inference import export
    from signlens.models import tflite

    grids = tmp_path / "grids"
    for c in labels.LETTERS:
        (grids / c).mkdir(parents=True)
        Image.fromarray(example(c)).save(grids / c / "1.png")
    keras_art = artifact.load(headed_artifact)
    report = export.export(keras_art, tmp_path / quantize, quantize, load(grids), load(tiny_csv))
    assert (tmp_path / quantize / tflite.HEAD_FILE).exists()
    assert report["hand_head"]["n"] >= 20 and report["hand_head"]["agreement"] >= 0.9
    assert "hand head" in export.format_report(report)

    photo = photo_png("Y")
    lite = Predictor(tflite.load(tmp_path / quantize))
    assert lite.has_head
    [on_device], [on_server] = lite.predict([photo]), Predictor(keras_art).predict([photo])
    assert on_device.preprocessed.hand_points is not None
    np.testing.assert_allclose(lite.hand_probabilities(on_device.preprocessed.hand_points[None]),
                               Predictor(keras_art).hand_probabilities(on_server.preprocessed.hand_points[None]),
                               atol=0.05)


def test_a_hand_the_classical_finder_misses_still_gets_landmarks_from_the_centre_crop(monkeypatch) -> None:
    from signlens.vision import hand

    photo = as_photo(example("L"))
    missed = hand.Hand(hand.centre_square(*photo.shape[:2]), False, np.zeros(photo.shape[:2], bool), 0)
    monkeypatch.setattr(hand, "find_hand", lambda rgb: missed)
    result = preprocess(photo)
    assert result.hand_found  # the landmark model found it in the centre crop (locate.py)
    assert result.hand_points is not None and landmarks.has_hand(result.hand_points[None])[0]
    assert not preprocess(photo, hands=False).hand_found  # without landmarks: the fallback, and says so


def test_landmarks_map_back_onto_the_photo_they_came_from() -> None:
    box = (50, 30, 100, 100)  # the landmark model sees this square 1.16× wider: 116 px from (42, 22)
    views = np.full((len(landmarks.VIEWS), 21, 3), np.nan, np.float32)
    views[0] = 0.0
    views[0, 1] = (landmarks.INPUT_SIDE, landmarks.INPUT_SIDE, 0.0)
    views[0, 2] = (landmarks.INPUT_SIDE / 2, 0.0, 0.0)
    mapped = landmarks.in_photo(views, box)
    assert mapped[0] == [42.0, 22.0] and mapped[1] == [158.0, 138.0] and mapped[2] == [100.0, 22.0]
    views[0] = np.nan  # only other views saw the hand: nothing to draw where the crop is
    assert landmarks.in_photo(views, box) is None


def test_the_cli_says_what_it_made_of_a_photo(headed_artifact: Path, tiny_artifact: Path, tmp_path: Path,
                                               capsys) -> None:
    from signlens.cli.main import main

    photo, grid, blank = tmp_path / "L.png", tmp_path / "L28.png", tmp_path / "blank.png"
    photo.write_bytes(photo_png("L"))
    Image.fromarray(example("L")).save(grid)
    Image.fromarray(np.full((200, 200, 3), 90, np.uint8)).save(blank)
    assert main(["predict", str(headed_artifact), str(photo), str(grid), str(blank)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("[hand found, hand landmarks read]")
    assert lines[1].endswith(")")  # a 28×28 grid is the model's own format: nothing to say
    assert lines[2] == f"{blank}: no hand"  # not a letter: the landmark model found no hand in it
    assert main(["predict", str(tiny_artifact), str(photo)]) == 0
    assert capsys.readouterr().out.strip().endswith("[hand found]")  # no head: no landmarks taken


def test_a_head_made_for_other_landmark_features_is_a_clear_error(headed_artifact: Path) -> None:
    """A head saved before the features changed would fail on its first photo; loading says why."""
    import keras

    inputs = keras.Input((landmarks.N_FEATURES - 40,))
    old = keras.Model(inputs, keras.layers.Dense(labels.N_CLASSES, activation="softmax")(inputs))
    old.save(headed_artifact / artifact.HEAD_FILE)
    with pytest.raises(ArtifactError, match="add-hand-head"):
        artifact.load(headed_artifact)


def test_add_hand_head_replaces_a_head_made_for_other_features(headed_artifact: Path, tmp_path: Path) -> None:
    """The command the error names must work on the artifact it refused."""
    import keras

    from signlens.cli.main import main
    from tests.synthetic import write_csv

    hands = write_csv(tmp_path / "hands.csv", np.stack([example(c) for c in labels.LETTERS]),
                      np.arange(labels.N_CLASSES))
    inputs = keras.Input((landmarks.N_FEATURES - 40,))
    keras.Model(inputs, keras.layers.Dense(labels.N_CLASSES)(inputs)).save(headed_artifact / artifact.HEAD_FILE)
    main(["add-hand-head", str(headed_artifact), "--data", str(hands), "--per-letter", "1", "--synthetic", "1"])
    art = artifact.load(headed_artifact)
    assert art.hand_head.input_shape[1:] == (landmarks.N_FEATURES,)
    assert art.meta["config"]["hand_head_synthetic"] == 1 and art.meta["hand_head"]["n_synthetic"] > 0


def test_a_hand_no_view_sees_is_looked_for_again_turned(monkeypatch) -> None:
    """Small, dark hands the landmark model misses upright it often finds turned a little: a miss
    in every view costs a second look, whose joints stand for the upright crop's."""
    photo = as_photo(example("L"))
    upright = preprocess(photo).hand_points
    monkeypatch.setattr(landmarks, "_tilted_points",
                        lambda rgb, degrees, real_tilted=landmarks._tilted_points:
                        None if degrees == 0 else real_tilted(rgb, degrees))
    again = preprocess(photo).hand_points
    assert again is not None and landmarks.views_found(again[None]).sum() == 1
    seen = again[landmarks.views_found(again[None])[0]][0]
    hand_size = np.ptp(upright[0, :, :2], axis=0).max()
    assert np.linalg.norm(seen[:, :2] - upright[0, :, :2], axis=1).mean() < 0.05 * hand_size
