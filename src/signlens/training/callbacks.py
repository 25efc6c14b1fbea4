"""The per-epoch Keras callback every trainer shares: Keras' logs plus the learning rate actually used."""

from __future__ import annotations

from typing import Any, Callable

import keras


def learning_rate(model: keras.Model) -> float:
    """The optimizer's current learning rate (a schedule evaluated at the current step)."""
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


class EpochEnd(keras.callbacks.Callback):
    """Calls `on_epoch(epoch, values)` after every epoch; values are Keras' logs as floats plus
    `learning_rate`. The epoch log on disk, MLflow's live logging, fine-tuning's progress bar and a
    sweep trial's reports all read the same values."""

    def __init__(self, on_epoch: Callable[[int, dict[str, float]], None]):
        super().__init__()
        self.on_epoch = on_epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        values = {k: float(v) for k, v in (logs or {}).items()}
        values["learning_rate"] = learning_rate(self.model)
        self.on_epoch(epoch, values)
