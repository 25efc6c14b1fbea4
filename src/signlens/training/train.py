"""train.train(cfg): config + data -> a trained, saved artifact. Reads top to bottom.

Validation comes from the training split only; the test split is never touched here.
Every epoch is checkpointed (keras BackupAndRestore), so `resume=True` after a crash or kill
continues from the last finished epoch.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from signlens import labels
from signlens.models import artifact
from signlens.training import config
from signlens.training import domain_augment as domain
from signlens.models import hand_head
from signlens.models import builders as models
from signlens.evaluation import plots
from signlens.training import speedups
from signlens.training.config import TrainConfig
from signlens.data import Dataset, load
from signlens.data.load import portable
from signlens.data.split import train_val_split
from signlens.errors import SignlensError
from signlens.vision.preprocess import to_model_input
from signlens.training.seeding import seed_everything

CHECKPOINT_DIR = "checkpoint"
EPOCH_LOG = "epochs.json"
RUN_CONFIG = "config.json"  # in CHECKPOINT_DIR while a run is unfinished


@dataclass
class TrainResult:
    artifact_dir: Path
    history: dict[str, list[float]]
    metrics: dict[str, float]
    config: TrainConfig
    fingerprint: str


def make_optimizer(cfg: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    total = max(1, steps_per_epoch * cfg.epochs)
    lr: float | keras.optimizers.schedules.LearningRateSchedule = cfg.learning_rate
    if cfg.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=total)
    elif cfg.schedule == "exponential":  # x0.1 over the run, smoothly
        lr = keras.optimizers.schedules.ExponentialDecay(cfg.learning_rate, decay_steps=total, decay_rate=0.1)
    elif cfg.schedule == "step":  # x0.1 at half and three quarters of the run
        bounds = [max(1, total // 2), max(2, 3 * total // 4)]
        lr = keras.optimizers.schedules.PiecewiseConstantDecay(
            bounds, [cfg.learning_rate, cfg.learning_rate * 0.1, cfg.learning_rate * 0.01]
        )
    return {
        "sgd": lambda: keras.optimizers.SGD(lr),
        "momentum": lambda: keras.optimizers.SGD(lr, momentum=cfg.momentum),
        "adagrad": lambda: keras.optimizers.Adagrad(lr),
        "adadelta": lambda: keras.optimizers.Adadelta(lr),
        "adam": lambda: keras.optimizers.Adam(lr),
        "rmsprop": lambda: keras.optimizers.RMSprop(lr),
    }[cfg.optimizer]()


def _pipeline(data: Dataset, cfg: TrainConfig, training: bool) -> tf.data.Dataset:
    x = to_model_input(data.x)
    y = keras.utils.to_categorical(data.y, labels.N_CLASSES).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if training:
        ds = ds.shuffle(len(x), seed=cfg.seed, reshuffle_each_iteration=True)
    ds = ds.batch(cfg.batch_size)
    if training and cfg.domain_augment:
        ds = ds.map(domain.mapper(cfg.seed), num_parallel_calls=tf.data.AUTOTUNE)
    if training and cfg.augment:
        aug = models.augmenter(cfg.seed)
        ds = ds.map(lambda a, b: (aug(a, training=True), b), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


class _EpochLog(keras.callbacks.Callback):
    """Keeps the per-epoch history (with learning rate) on disk so a resumed run has all of it."""

    def __init__(self, path: Path, resume: bool):
        super().__init__()
        self.path = path
        self.epochs: list[dict[str, float]] = json.loads(path.read_text()) if resume and path.exists() else []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        entry = {k: float(v) for k, v in (logs or {}).items()}
        entry["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        del self.epochs[epoch:]
        self.epochs.append(entry)
        self.path.write_text(json.dumps(self.epochs))

    def history(self) -> dict[str, list[float]]:
        keys = sorted({k for e in self.epochs for k in e})
        return {k: [e.get(k, float("nan")) for e in self.epochs] for k in keys}


def _exclude(data: Dataset, exclude_file: str | None) -> tuple[Dataset, list[str]]:
    if not exclude_file:
        return data, []
    path = Path(exclude_file)
    if not path.exists():
        raise SignlensError(f"exclude file not found: {path}")
    wanted = {line.split(",")[0].strip() for line in path.read_text().splitlines()[1:] if line.strip()}
    keep = np.array([i for i, row_id in enumerate(data.ids) if row_id not in wanted])
    excluded = sorted(wanted & set(data.ids))
    return data.subset(keep), excluded


def check_unfinished(out_dir: Path, resume: bool) -> None:
    """Refuse to start over an interrupted run unless resuming it, and to resume what is not there."""
    unfinished = (Path(out_dir) / CHECKPOINT_DIR).exists()
    if unfinished and not resume:
        raise SignlensError(
            f"{out_dir} holds an unfinished run; pass --resume to continue it or remove the directory"
        )
    if resume and not unfinished:
        raise SignlensError(f"nothing to resume in {out_dir}: no interrupted run there (leave out --resume)")


def interrupted_config(out_dir: Path) -> TrainConfig:
    """The config an interrupted run in out_dir was started with: a resumed run keeps it."""
    path = Path(out_dir) / CHECKPOINT_DIR / RUN_CONFIG
    check_unfinished(out_dir, resume=True)
    if not path.exists():
        raise SignlensError(f"{out_dir}: the interrupted run left no {RUN_CONFIG}; remove the directory and start again")
    return config.build(json.loads(path.read_text()))


def train(
    cfg: TrainConfig,
    out_dir: Path,
    data: Dataset | None = None,
    resume: bool = False,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | None = None,
) -> TrainResult:
    out_dir = Path(out_dir)
    checkpoint = out_dir / CHECKPOINT_DIR
    check_unfinished(out_dir, resume)

    seed_everything(cfg.seed)  # same seed + config + data -> same metrics on this machine

    data = data if data is not None else load(cfg.data, "train")
    data, excluded = _exclude(data, cfg.exclude)
    train_data, val_data = train_val_split(data, cfg.val_fraction, cfg.seed, cfg.val_split)

    stock = models.build(cfg.model, (28, 28, 1), labels.N_CLASSES, dropout=cfg.dropout)
    model = speedups.training_twin(stock, cfg.precision)  # trains faster; its weights go back into `stock`
    steps = int(np.ceil(len(train_data) / cfg.batch_size))
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing)
    model.compile(optimizer=make_optimizer(cfg, steps), loss=loss, metrics=["accuracy"])

    checkpoint.mkdir(parents=True, exist_ok=True)  # from here on the run is resumable, with this config
    if not resume:
        (checkpoint / RUN_CONFIG).write_text(json.dumps(cfg.to_dict()))
    epoch_log = _EpochLog(out_dir / EPOCH_LOG, resume)
    cbs: list[keras.callbacks.Callback] = [keras.callbacks.BackupAndRestore(str(checkpoint)), epoch_log]
    if cfg.early_stopping:
        cbs.append(keras.callbacks.EarlyStopping(
            monitor=cfg.monitor, patience=cfg.patience, restore_best_weights=cfg.restore_best, verbose=1
        ))
    cbs += callbacks or []

    started = time.perf_counter()
    model.fit(
        _pipeline(train_data, cfg, training=True),
        validation_data=_pipeline(val_data, cfg, training=False) if val_data is not None else None,
        epochs=cfg.epochs,
        shuffle=False,  # the pipeline shuffles, seeded
        callbacks=cbs,
        verbose=verbose if verbose is not None else (1 if sys.stdout.isatty() else 2),
    )
    seconds = time.perf_counter() - started

    history = epoch_log.history()
    metrics: dict[str, float] = {"train_seconds": round(seconds, 2), "epochs_run": len(epoch_log.epochs)}
    stock.set_weights(model.get_weights())
    model = stock
    if val_data is not None:  # measured on the float32 model that ships, not the training twin
        model.compile(loss=loss, metrics=["accuracy"])
        val_loss, val_acc = model.evaluate(_pipeline(val_data, cfg, training=False), verbose=0)
        metrics.update(val_loss=float(val_loss), val_accuracy=float(val_acc))
    artifact.save(
        out_dir, model, name=cfg.model, config=cfg.to_dict(), fingerprint=data.fingerprint,
        metrics=metrics, history=history,
        extra={"data_source": portable(data.source), "excluded_rows": excluded, "n_train": len(train_data),
               "n_val": 0 if val_data is None else len(val_data)},
    )
    if cfg.hand_head:
        # The whole train split: the head is not validated (its job is photos, which no split has).
        photos = load(cfg.hand_head_photos) if cfg.hand_head_photos else None
        head = hand_head.train(data, cfg.seed, cfg.hand_head_per_letter, progress=bool(verbose != 0),
                               synthetic=cfg.hand_head_synthetic, copies=cfg.hand_head_augment, photos=photos)
        artifact.save_hand_head(out_dir, head.model, head.record)
    plots.learning_curves({cfg.model: history}, out_dir / "learning_curves.png")
    shutil.rmtree(checkpoint, ignore_errors=True)  # finished: nothing left to resume
    (out_dir / EPOCH_LOG).unlink(missing_ok=True)
    return TrainResult(out_dir, history, metrics, cfg, data.fingerprint)
