"""The shipped default model, as a fresh clone gets it, on committed Sign-MNIST test images."""

from pathlib import Path

import numpy as np
from PIL import Image

from signlens import labels
from signlens.models.artifact import load
from signlens.data.load import EMBEDDED_DIR, load as load_data
from signlens.paths import DEFAULT_MODEL
from signlens.inference.predictor import Predictor

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_default_model_predicts_committed_test_images():
    predictor = Predictor.from_ref(None)
    images = [np.asarray(Image.open(EXAMPLES / f"{letter}.png")) for letter in labels.LETTERS]
    predicted = [p.letter for p in predictor.predict(images)]
    assert predicted == list(labels.LETTERS)


def test_default_model_records_what_it_was_trained_on():
    art = load(DEFAULT_MODEL)
    assert art.meta["dataset_fingerprint"] == load_data(EMBEDDED_DIR / "sign_mnist_train.csv.gz").fingerprint
    assert art.meta["config"]["seed"] == 0 and art.meta["config"]["model"] == "signlens"
    assert art.hand_head is not None and art.meta["config"]["hand_head"]  # photos get the landmark head
    # named as a user's clone has it, not as a path on the machine that trained it
    assert art.meta["data_source"] == art.meta["hand_head"]["trained_on"] == "data/sign-mnist/sign_mnist_train.csv.gz"
