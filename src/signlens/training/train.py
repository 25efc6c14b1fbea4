"""train.train(cfg): config + data -> a trained, saved artifact. Reads top to bottom.

Validation comes from the training split only; the test split is never touched here.
Every epoch is checkpointed (keras BackupAndRestore: weights and optimizer state), so
`resume=True` after a crash or kill continues from the last finished epoch; each epoch's data
order and random draws come from (seed, epoch) alone (pipeline.py), so a resumed seeded run
trains exactly as the uninterrupted one would have.
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

from signlens import labels
from signlens.data import Dataset, load
from signlens.data.load import portable
from signlens.data.split import train_val_split
from signlens.errors import SignlensError
from signlens.evaluation import plots
from signlens.models import artifact
from signlens.models import builders as models
from signlens.training import config, speedups
from signlens.training import head as hand_head
from signlens.training.callbacks import EpochEnd
from signlens.training.config import TrainConfig
from signlens.training.pipeline import TrainBatches, eval_batches
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


class _EpochLog(EpochEnd):
    """Keeps the per-epoch history (with learning rate) and the seconds spent training on disk,
    so a resumed run has all of both."""

    def __init__(self, path: Path, resume: bool):
        super().__init__(self._record)
        self.path = path
        saved = json.loads(path.read_text()) if resume and path.exists() else {}
        self.epochs: list[dict[str, float]] = saved.get("epochs", [])
        self.seconds_before: float = saved.get("train_seconds", 0.0)  # in the runs this one resumes
        self._started = time.perf_counter()

    def seconds(self) -> float:
        """Seconds spent in fit() by this run, including the parts before any interruption."""
        return self.seconds_before + time.perf_counter() - self._started

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def _record(self, epoch: int, values: dict[str, float]) -> None:
        del self.epochs[epoch:]
        self.epochs.append(values)
        self.save()

    def save(self) -> None:
        self.path.write_text(json.dumps({"epochs": self.epochs, "train_seconds": self.seconds()}))

    def history(self) -> dict[str, list[float]]:
        keys = sorted({k for e in self.epochs for k in e})
        return {k: [e.get(k, float("nan")) for e in self.epochs] for k in keys}


def _exclude(data: Dataset, exclude_file: str | None) -> tuple[Dataset, list[str]]:
    if not exclude_file:
        return data, []
    wanted = {line.split(",")[0].strip() for line in Path(exclude_file).read_text().splitlines()[1:] if line.strip()}
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


def preflight(cfg: TrainConfig, out_dir: Path, resume: bool) -> None:
    """What can be refused before any work (or a tracked run) starts: the out dir's state and the
    files the config names. The config checked its own values when it was built."""
    check_unfinished(out_dir, resume)
    if cfg.exclude and not Path(cfg.exclude).exists():
        raise SignlensError(f"exclude file not found: {cfg.exclude}")


def _compiled_twin(cfg: TrainConfig, n_train: int, precision: str) -> tuple[keras.Model, keras.Model]:
    """-> (the stock model that ships, its faster training twin compiled for this run)."""
    stock = models.build(cfg.model, (28, 28, 1), labels.N_CLASSES, dropout=cfg.dropout)
    model = speedups.training_twin(stock, precision)  # trains faster; its weights go back into `stock`
    steps = int(np.ceil(n_train / cfg.batch_size))
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing)
    model.compile(optimizer=make_optimizer(cfg, steps), loss=loss, metrics=["accuracy"])
    return stock, model


def _fit(cfg: TrainConfig, model: keras.Model, train_data: Dataset, val_data: Dataset | None,
         callbacks: list[keras.callbacks.Callback], epoch_log: _EpochLog, verbose: int | None) -> None:
    batches = TrainBatches(train_data.x, train_data.y, cfg.batch_size, cfg.seed,
                           augment=cfg.augment, domain_augment=cfg.domain_augment)
    try:
        model.fit(
            batches.dataset,
            validation_data=eval_batches(val_data.x, val_data.y, cfg.batch_size) if val_data is not None else None,
            epochs=cfg.epochs,
            shuffle=False,  # the batches are shuffled, seeded per epoch
            callbacks=[batches.callback(), *callbacks],
            verbose=verbose if verbose is not None else (1 if sys.stdout.isatty() else 2),
        )
    finally:
        epoch_log.save()  # an interrupted run's seconds count when it is resumed


def train(
    cfg: TrainConfig,
    out_dir: Path,
    data: Dataset | None = None,
    resume: bool = False,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | None = None,
) -> TrainResult:
    """Train `cfg` on `data` (default: the config's data) into the artifact dir `out_dir`.

    `callbacks` run after signlens' own each epoch (MLflow logging, a sweep's reports)."""
    out_dir = Path(out_dir)
    checkpoint = out_dir / CHECKPOINT_DIR
    preflight(cfg, out_dir, resume)

    seed_everything(cfg.seed)  # same seed + config + data -> same metrics on this machine

    data = data if data is not None else load(cfg.data, "train")
    data, excluded = _exclude(data, cfg.exclude)
    train_data, val_data = train_val_split(data, cfg.val_fraction, cfg.seed, cfg.val_split)
    precision = speedups.resolve_precision(cfg.precision)  # "auto": bfloat16 only on CPUs that have it
    stock, model = _compiled_twin(cfg, len(train_data), precision)

    checkpoint.mkdir(parents=True, exist_ok=True)  # from here on the run is resumable, with this config
    if not resume:
        (checkpoint / RUN_CONFIG).write_text(json.dumps(cfg.to_dict()))
    epoch_log = _EpochLog(out_dir / EPOCH_LOG, resume)
    cbs: list[keras.callbacks.Callback] = [keras.callbacks.BackupAndRestore(str(checkpoint)), epoch_log]
    if cfg.early_stopping:
        cbs.append(keras.callbacks.EarlyStopping(
            monitor=cfg.monitor, patience=cfg.patience, restore_best_weights=cfg.restore_best, verbose=1
        ))
    _fit(cfg, model, train_data, val_data, [*cbs, *(callbacks or [])], epoch_log, verbose)

    history = epoch_log.history()
    metrics: dict[str, float] = {"train_seconds": round(epoch_log.seconds(), 2), "epochs_run": len(epoch_log.epochs)}
    stock.set_weights(model.get_weights())
    if val_data is not None:  # measured on the float32 model that ships, not the training twin
        stock.compile(loss=model.loss, metrics=["accuracy"])
        val_loss, val_acc = stock.evaluate(eval_batches(val_data.x, val_data.y, cfg.batch_size), verbose=0)
        metrics.update(val_loss=float(val_loss), val_accuracy=float(val_acc))
    artifact.save(
        out_dir, stock, name=cfg.model, config=cfg.to_dict(), fingerprint=data.fingerprint,
        metrics=metrics, history=history,
        extra={"data_source": portable(data.source), "excluded_rows": excluded, "n_train": len(train_data),
               "precision_used": precision,
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
