"""Shared fixtures: synthetic data, a tiny trained artifact, temporary state directories."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import shutil
from pathlib import Path

import numpy as np
import pytest

from signlens.training import config
from signlens.data.load import load
from tests.hands import example
from tests.synthetic import make_arrays, write_csv


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the user's ~/.cache, ./.signlens state or MLflow store during tests."""
    monkeypatch.setenv("SIGNLENS_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.setenv("SIGNLENS_HOME", str(tmp_path_factory.getbasetemp() / "signlens-home"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture(scope="session")
def tiny_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid Sign-MNIST-format CSV: 24 letters × 20 synthetic images."""
    x, y = make_arrays(per_letter=20, seed=0)
    return write_csv(tmp_path_factory.mktemp("data") / "tiny_train.csv", x, y)


@pytest.fixture(scope="session")
def tiny_test_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    x, y = make_arrays(per_letter=5, seed=1)
    return write_csv(tmp_path_factory.mktemp("data") / "tiny_test.csv", x, y)


@pytest.fixture(scope="session")
def tiny_config(tiny_csv: Path) -> config.TrainConfig:
    return config.build(dict(model="cnn", epochs=4, batch_size=16, learning_rate=3e-3, val_fraction=0.2,
                             data=str(tiny_csv), seed=1))


@pytest.fixture(scope="session")
def tiny_artifact(tmp_path_factory: pytest.TempPathFactory, tiny_config: config.TrainConfig) -> Path:
    """A small CNN trained for 4 epochs on the tiny CSV; learns it to ~100%."""
    from signlens.training.train import train

    out = tmp_path_factory.mktemp("artifact") / "tiny"
    train(tiny_config, out, data=load(tiny_config.data), verbose=0)
    return out


@pytest.fixture(scope="session")
def example_points() -> tuple[np.ndarray, np.ndarray]:
    """Landmarks of the committed example hands (the ~4% the landmark model misses left out), letters."""
    from signlens import labels
    from signlens.vision import landmarks

    found = [(landmarks.grid_points(example(c)), i) for i, c in enumerate(labels.LETTERS)]
    points = np.stack([p for p, _ in found if p is not None])
    return points, np.array([i for p, i in found if p is not None])


@pytest.fixture(scope="session")
def shared_headed_artifact(tmp_path_factory: pytest.TempPathFactory, tiny_artifact: Path, example_points) -> Path:
    """The tiny artifact with a hand-landmark head, trained once a session: for tests that only read it
    (`headed_artifact` gives each test a copy it may change)."""
    from signlens.models import artifact
    from signlens.training import head as hand_head

    points, letters = example_points
    path = tmp_path_factory.mktemp("headed") / "headed"
    shutil.copytree(tiny_artifact, path)
    head = hand_head.fit(np.repeat(points, 8, axis=0), np.repeat(letters, 8), seed=0, epochs=30)
    artifact.save_hand_head(path, head, {"test": True})
    return path


@pytest.fixture()
def headed_artifact(tmp_path: Path, shared_headed_artifact: Path) -> Path:
    """The tiny artifact with a hand-landmark head trained on the example hands' landmarks (a copy
    a test may change)."""
    path = tmp_path / "headed"
    shutil.copytree(shared_headed_artifact, path)
    return path
