"""Training: optimizers, schedules, early stopping, reproducibility, resume after a kill."""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np
import pytest

from signlens.models import artifact
from signlens.training import config
from signlens.training.config import OPTIMIZERS, SCHEDULES
from signlens.data import load
from signlens.errors import SignlensError
from signlens.training.train import CHECKPOINT_DIR, train


@pytest.fixture(scope="module")
def data(tiny_csv):
    return load(tiny_csv)


def _cfg(tiny_config, **kw):
    return dataclasses.replace(tiny_config, **kw)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_reduces_the_loss(tmp_path, tiny_config, data, optimizer):
    lr = {"sgd": 0.05, "momentum": 0.02, "adagrad": 0.05, "adadelta": 1.0}.get(optimizer, 3e-3)
    result = train(_cfg(tiny_config, optimizer=optimizer, learning_rate=lr, epochs=2, model="mlp"),
                   tmp_path / optimizer, data=data, verbose=0)
    loss = result.history["loss"]
    assert loss[-1] < loss[0]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedules_change_the_learning_rate_as_documented(tmp_path, tiny_config, data, schedule):
    result = train(_cfg(tiny_config, schedule=schedule, epochs=4, model="mlp"), tmp_path / schedule,
                   data=data, verbose=0)
    lr = result.history["learning_rate"]
    if schedule == "constant":
        assert lr == pytest.approx([3e-3] * 4)
    else:
        assert lr[-1] < lr[0]


def test_overfits_one_batch(tmp_path, tiny_config, data):
    one_batch = data.subset(np.arange(0, len(data), 15))  # 32 images
    result = train(_cfg(tiny_config, model="signlens", epochs=25, val_fraction=0.0, batch_size=32,
                        learning_rate=1e-2), tmp_path / "overfit", data=one_batch, verbose=0)
    assert result.history["accuracy"][-1] == 1.0


def test_early_stopping_stops_and_restores_best(tmp_path, tiny_config, data):
    # A learning rate this high makes validation loss diverge: training must stop early.
    cfg = _cfg(tiny_config, model="mlp", epochs=30, early_stopping=True, patience=1, learning_rate=0.5,
               optimizer="sgd", monitor="val_loss")
    result = train(cfg, tmp_path / "es", data=data, verbose=0)
    assert result.metrics["epochs_run"] < 30
    best = min(result.history["val_loss"])
    assert result.metrics["val_loss"] == pytest.approx(best, rel=1e-4)


def test_same_seed_same_metrics(tmp_path, tiny_config, data):
    a = train(_cfg(tiny_config, epochs=2), tmp_path / "a", data=data, verbose=0)
    b = train(_cfg(tiny_config, epochs=2), tmp_path / "b", data=data, verbose=0)
    assert a.history["loss"] == b.history["loss"]
    assert a.metrics["val_accuracy"] == b.metrics["val_accuracy"]


class _KillAfter(keras.callbacks.Callback):
    """Simulates a crash: raises after the given epoch has been checkpointed."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_resume_after_interruption_continues_where_it_stopped(tmp_path, tiny_config, data):
    cfg = _cfg(tiny_config, epochs=4)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(cfg, out, data=data, callbacks=[_KillAfter(1)], verbose=0)
    assert (out / CHECKPOINT_DIR).exists()
    with pytest.raises(SignlensError, match="--resume"):
        train(cfg, out, data=data, verbose=0)
    result = train(cfg, out, data=data, resume=True, verbose=0)
    assert len(result.history["loss"]) == 4  # epochs 1-2 from before the kill, 3-4 after
    assert not (out / CHECKPOINT_DIR).exists()
    assert artifact.load(out).meta["metrics"]["epochs_run"] == 4


def test_artifact_records_config_fingerprint_and_history(tiny_artifact, tiny_config, tiny_csv):
    art = artifact.load(tiny_artifact)
    assert art.meta["config"] == tiny_config.to_dict()
    assert art.meta["dataset_fingerprint"] == load(tiny_csv).fingerprint
    assert len(art.history["val_accuracy"]) == tiny_config.epochs
    assert (tiny_artifact / "learning_curves.png").stat().st_size > 1000
    assert config.build(art.meta["config"]) == tiny_config


def test_exclude_file_leaves_rows_out_and_is_recorded(tmp_path, tiny_config, data):
    exclude = tmp_path / "wrong.csv"
    exclude.write_text("id,reason\nline 2,wrong label\nline 3,blurry\n")
    result = train(_cfg(tiny_config, epochs=1, exclude=str(exclude)), tmp_path / "ex", data=data, verbose=0)
    meta = artifact.load(result.artifact_dir).meta
    assert meta["excluded_rows"] == ["line 2", "line 3"]
    assert meta["n_train"] + meta["n_val"] == len(data) - 2


def test_config_model_names_are_the_builders():
    from signlens.models import builders

    assert sorted(config.MODEL_NAMES) == sorted(builders.MODELS)
    with pytest.raises(config.ConfigError, match="unknown model 'resnet'"):
        config.build({"model": "resnet"})


class _SlowEpochs(keras.callbacks.Callback):
    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def on_epoch_end(self, epoch, logs=None):
        time.sleep(self.seconds)


class _FitClock(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self.started


def test_a_resumed_seeded_run_trains_as_the_uninterrupted_one_and_counts_all_its_seconds(tmp_path, tiny_config, data):
    # Dropout (mlp), both augmentations and a schedule: every random draw and the learning rate
    # must come back as they were, not only the weights.
    cfg = _cfg(tiny_config, model="mlp", epochs=2, augment=True, domain_augment=True, schedule="cosine")
    small = data.subset(np.arange(0, len(data), 2))
    whole = train(cfg, tmp_path / "whole", data=small, verbose=0)
    with pytest.raises(KeyboardInterrupt):  # one epoch of at least 1.5 s, then killed
        train(cfg, tmp_path / "resumed", data=small, callbacks=[_SlowEpochs(1.5), _KillAfter(0)], verbose=0)
    clock = _FitClock()
    resumed = train(cfg, tmp_path / "resumed", data=small, resume=True, callbacks=[clock], verbose=0)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
        assert resumed.history[key] == whole.history[key], key
    assert resumed.metrics["val_loss"] == whole.metrics["val_loss"]
    assert resumed.metrics["train_seconds"] >= 1.5 + clock.seconds - 0.05
