"""Typed, frozen run configuration: defaults live here and only here.

A TOML file and `--key=value` overrides build a TrainConfig; unknown keys and wrong types are
errors. The resolved config is saved in every artifact so inference and `reproduce` rebuild
everything from it.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, get_type_hints

from signlens.errors import SignlensError, did_you_mean
from signlens.spec import MODEL_NAMES  # the builders' names, readable before Keras loads

#: models.builders.MODELS' keys, here so a config is checked without importing Keras (a test ties the two).
OPTIMIZERS = ("sgd", "momentum", "adagrad", "adadelta", "adam", "rmsprop")
SCHEDULES = ("constant", "cosine", "exponential", "step")
VAL_SPLITS = ("random", "grouped")
PRECISIONS = ("auto", "float32", "bfloat16")  # training compute type; artifacts are float32 either way


class ConfigError(SignlensError):
    pass


@dataclass(frozen=True)
class TrainConfig:
    model: str = "signlens"  # one of MODEL_NAMES
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"  # learning-rate schedule over the whole run
    momentum: float = 0.9  # used by `momentum` (SGD + momentum) and `rmsprop`
    batch_size: int = 128
    epochs: int = 10
    dropout: float | None = None  # None: the model's own default
    label_smoothing: float = 0.0
    augment: bool = False
    precision: str = "float32"  # "bfloat16": mixed precision while training; "auto": bfloat16 where the CPU has it natively (speedups.py)
    domain_augment: bool = False  # photo-domain look (background, lighting, scale, blur): domain.py
    hand_head: bool = False  # also train a hand-landmark head for photos (hand_head.py)
    hand_head_per_letter: int = 400  # Sign-MNIST training images per letter it learns from
    hand_head_synthetic: int = 0  # + this many kinematic hands per handshape variant (handshapes.py)
    hand_head_augment: int = 0  # + this many 3-D augmented copies of its landmarks (landmark_augment.py)
    hand_head_photos: str | None = None  # + real photos (<DIR>/<LETTER>/*.jpg) it also learns from
    early_stopping: bool = False
    monitor: str = "val_loss"
    patience: int = 3
    restore_best: bool = True
    seed: int = 0
    val_fraction: float = 0.1
    val_split: str = "grouped"  # keep near-duplicate clusters on one side (data.groups)
    data: str | None = None  # None: the vendored Sign-MNIST train split
    exclude: str | None = None  # CSV of row ids to leave out (reviewed wrong labels)

    def __post_init__(self) -> None:
        checks = [
            (self.model in MODEL_NAMES, f"unknown model {self.model!r}; choose one of {sorted(MODEL_NAMES)}{did_you_mean(self.model, list(MODEL_NAMES))}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}"),
            (self.val_split in VAL_SPLITS, f"val_split must be one of {VAL_SPLITS}"),
            (self.precision in PRECISIONS, f"precision must be one of {PRECISIONS}"),
            (self.learning_rate > 0, "learning_rate must be > 0"),
            (self.batch_size > 0, "batch_size must be > 0"),
            (self.epochs > 0, "epochs must be > 0"),
            (self.hand_head_per_letter > 0, "hand_head_per_letter must be > 0"),
            (self.hand_head_synthetic >= 0, "hand_head_synthetic must be >= 0"),
            (self.hand_head_augment >= 0, "hand_head_augment must be >= 0"),
            (self.patience >= 0, "patience must be >= 0"),
            (0.0 <= self.val_fraction < 1.0, "val_fraction must be in [0, 1)"),
            (self.dropout is None or 0.0 <= self.dropout < 1.0, "dropout must be in [0, 1)"),
            (0.0 <= self.label_smoothing < 1.0, "label_smoothing must be in [0, 1)"),
            (not self.early_stopping or self.val_fraction > 0, "early_stopping needs val_fraction > 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_HINTS = get_type_hints(TrainConfig)


def _coerce(key: str, value: Any) -> Any:
    """Check/convert one value against the field's type; strings come from the command line."""
    hint = _HINTS[key]
    optional = type(None) in getattr(hint, "__args__", ())
    base = next((a for a in getattr(hint, "__args__", (hint,)) if a is not type(None)), hint)
    if optional and (value is None or (isinstance(value, str) and value.lower() in ("none", "null", ""))):
        return None
    if isinstance(value, str) and base is not str:
        text = value.strip().lower()
        if base is bool:
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise ConfigError(f"{key}: expected true/false, got {value!r}")
        try:
            return base(value)
        except ValueError:
            raise ConfigError(f"{key}: expected {base.__name__}, got {value!r}") from None
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, base) or (base is int and isinstance(value, bool)):
        raise ConfigError(f"{key}: expected {base.__name__}, got {type(value).__name__} {value!r}")
    return value


def build(values: dict[str, Any]) -> TrainConfig:
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown config key(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return TrainConfig(**{k: _coerce(k, v) for k, v in values.items()})


def parse_overrides(items: list[str]) -> dict[str, str]:
    """['epochs=3', '--schedule=cosine', '--val-split', 'grouped'] -> {'epochs': '3', ...}."""
    out = {}
    rest = iter(items)
    for item in rest:
        key, sep, value = item.lstrip("-").partition("=")
        if not sep and item.startswith("--"):  # `--key value`, as any CLI flag
            value = next(rest, None)
            if value is None or value.startswith("--"):
                raise ConfigError(f"override {item!r} needs a value: {item} VALUE or {item}=VALUE")
        elif not sep:
            raise ConfigError(f"override {item!r} must look like key=value")
        out[key.strip().replace("-", "_")] = value
    return out


def load(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> TrainConfig:
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        values = values.get("train", values)
    return build({**values, **(overrides or {})})
