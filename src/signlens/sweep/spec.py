"""A sweep SPEC (TOML) -> a checked SweepSpec. No Ray here: a bad SPEC fails before Ray starts.

    [sweep]
    name = "optimizers"
    base = "../default.toml"   # a train config, relative to this file (optional)
    metric = "val_accuracy"    # or val_loss; the test split is never a sweep metric
    search = "grid"            # grid | random | optuna
    num_samples = 1            # grid: repeats of the grid; random/optuna: trials
    scheduler = "asha"         # asha (stops weak trials early on per-epoch validation) | fifo
    max_concurrent = 2         # 0: as many as the cores allow
    cpus_per_trial = 1

    [fixed]                    # TrainConfig values every trial shares (over the base config)
    model = "cnn"
    epochs = 3

    [space]                    # the swept TrainConfig fields
    optimizer = ["adam", "sgd"]                 # a list: every value (grid)
    learning_rate = { loguniform = [1e-4, 1e-1] }
    dropout = { uniform = [0.0, 0.5] }
    batch_size = { choice = [32, 64] }          # sampled (random/optuna)

    [[points]]                 # or whole trials, values that belong together (a grid of points)
    optimizer = "sgd"
    learning_rate = 0.1

Every error names the field and the value that is wrong.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from signlens.errors import SignlensError
from signlens.training import config
from signlens.training.config import ConfigError, TrainConfig

SEARCHES = ("grid", "random", "optuna")
SCHEDULERS = ("asha", "fifo")
METRICS = {"val_accuracy": "max", "val_loss": "min"}  # per-epoch validation, what ASHA can act on
RANGES = ("loguniform", "uniform", "choice")
SWEEP_KEYS = {"name", "base", "metric", "search", "num_samples", "scheduler", "max_concurrent",
              "cpus_per_trial", "grace_period", "seed"}


class SpecError(SignlensError):
    pass


@dataclass(frozen=True)
class Dimension:
    """One swept field: `grid` (every value), or a sampled `loguniform`/`uniform` range or `choice`."""

    field: str
    kind: str  # grid | loguniform | uniform | choice
    values: tuple[Any, ...]  # grid/choice values, or (low, high)

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)

    @property
    def log_scale(self) -> bool:
        return self.kind == "loguniform" or (self.numeric and min(self.values) > 0
                                             and max(self.values) / min(self.values) >= 100)


@dataclass(frozen=True)
class SweepSpec:
    name: str
    base: dict[str, Any]  # the train config every trial starts from (base file + [fixed])
    dimensions: tuple[Dimension, ...]
    points: tuple[dict[str, Any], ...]
    metric: str = "val_accuracy"
    search: str = "grid"
    num_samples: int = 1
    scheduler: str = "asha"
    max_concurrent: int = 0
    cpus_per_trial: int = 1
    grace_period: int = 1  # epochs every trial runs before ASHA may stop it
    seed: int = 0
    source: str = ""  # the SPEC file, for the record
    raw: dict[str, Any] = field(default_factory=dict)  # the TOML as read (saved for --resume)

    @property
    def mode(self) -> str:
        return METRICS[self.metric]

    @property
    def swept_fields(self) -> list[str]:
        """Fields that differ between trials, in SPEC order: the table's and the plot's columns."""
        out = [d.field for d in self.dimensions]
        for point in self.points:
            out += [k for k in point if k not in out]
        return out

    def trial_config(self, values: dict[str, Any]) -> TrainConfig:
        return config.build({**self.base, **values})


def _fail(where: str, message: str) -> SpecError:
    return SpecError(f"{where}: {message}")


def _check_value(where: str, key: str, value: Any, base: dict[str, Any]) -> Any:
    """The value as a TrainConfig takes it (coerced), or an error naming the field and value."""
    try:
        return getattr(config.build({**base, key: value}), key)
    except ConfigError as exc:
        raise _fail(where, f"{key} = {value!r} is not a valid value ({exc})") from None


def _known(where: str, key: str) -> None:
    known = {f.name for f in fields(TrainConfig)}
    if key not in known:
        raise _fail(where, f"unknown TrainConfig field {key!r} (known: {', '.join(sorted(known))})")


def _dimension(key: str, value: Any, base: dict[str, Any]) -> Dimension:
    where = f"[space] {key}"
    _known("[space]", key)
    if isinstance(value, list):
        if not value:
            raise _fail(where, "an empty list sweeps nothing")
        return Dimension(key, "grid", tuple(_check_value(where, key, v, base) for v in value))
    if not (isinstance(value, dict) and len(value) == 1 and next(iter(value)) in RANGES):
        raise _fail(where, f"{value!r} is neither a list of values nor one of "
                    + ", ".join(f"{{ {r} = [...] }}" for r in RANGES))
    kind, args = next(iter(value.items()))
    if not isinstance(args, list) or not args:
        raise _fail(where, f"{kind} needs a list, got {args!r}")
    if kind == "choice":
        return Dimension(key, kind, tuple(_check_value(where, key, v, base) for v in args))
    if len(args) != 2 or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
        raise _fail(where, f"{kind} needs [low, high] numbers, got {args!r}")
    low, high = (float(a) for a in args)
    if not low < high:
        raise _fail(where, f"{kind} range [{low:g}, {high:g}] is empty: low must be below high")
    if kind == "loguniform" and low <= 0:
        raise _fail(where, f"loguniform range [{low:g}, {high:g}] must be above 0")
    for end in (low, high):
        _check_value(where, key, end, base)
    return Dimension(key, kind, (low, high))


def _points(raw: Any, base: dict[str, Any], dims: list[Dimension]) -> tuple[dict[str, Any], ...]:
    if not isinstance(raw, list) or not all(isinstance(p, dict) and p for p in raw):
        raise _fail("[[points]]", "each [[points]] entry must be a table of field = value")
    out = []
    for i, point in enumerate(raw, 1):
        where = f"[[points]] #{i}"
        for key in point:
            _known(where, key)
            if any(d.field == key for d in dims):
                raise _fail(where, f"{key} is both in [space] and in [[points]]")
        checked = {k: _check_value(where, k, v, base) for k, v in point.items()}
        try:
            config.build({**base, **checked})  # values that are fine alone but not together
        except ConfigError as exc:
            raise _fail(where, f"{point!r}: {exc}") from None
        out.append(checked)
    return tuple(out)


def _sweep_section(raw: dict[str, Any]) -> dict[str, Any]:
    sweep = raw.get("sweep", {})
    unknown = sorted(set(sweep) - SWEEP_KEYS)
    if unknown:
        raise _fail("[sweep]", f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(SWEEP_KEYS))})")
    metric = sweep.get("metric", "val_accuracy")
    if "test" in str(metric):
        raise _fail("[sweep] metric", f"{metric!r}: the test split is never a sweep metric "
                    "(choosing on it would leak the test set); use val_accuracy or val_loss")
    choices = {"metric": tuple(METRICS), "search": SEARCHES, "scheduler": SCHEDULERS}
    for key, allowed in choices.items():
        if key in sweep and sweep[key] not in allowed:
            raise _fail(f"[sweep] {key}", f"{sweep[key]!r} is not one of {', '.join(allowed)}")
    for key, low in (("num_samples", 1), ("max_concurrent", 0), ("cpus_per_trial", 1), ("grace_period", 1)):
        value = sweep.get(key, low)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise _fail(f"[sweep] {key}", f"{value!r} must be an integer >= {low}")
    return sweep


def _base(raw: dict[str, Any], spec_path: Path) -> dict[str, Any]:
    sweep = raw.get("sweep", {})
    base: dict[str, Any] = {}
    if "base" in sweep:
        path = (spec_path.parent / sweep["base"]) if not Path(sweep["base"]).is_absolute() else Path(sweep["base"])
        if not path.exists():
            raise _fail("[sweep] base", f"config file {sweep['base']!r} not found (looked at {path})")
        base = config.load(path).to_dict()
    fixed = raw.get("fixed", {})
    for key in fixed:
        _known("[fixed]", key)
    try:
        cfg = config.build({**base, **fixed})
    except ConfigError as exc:
        raise _fail("[fixed]", str(exc)) from None
    if cfg.val_fraction <= 0:
        raise _fail("[fixed] val_fraction", "0 leaves no validation split to compare trials on")
    return cfg.to_dict()


def parse(raw: dict[str, Any], spec_path: Path) -> SweepSpec:
    unknown = sorted(set(raw) - {"sweep", "fixed", "space", "points"})
    if unknown:
        raise _fail(str(spec_path), f"unknown section(s) {', '.join(unknown)} (known: sweep, fixed, space, points)")
    sweep = _sweep_section(raw)
    base = _base(raw, spec_path)
    dims = [_dimension(k, v, base) for k, v in raw.get("space", {}).items()]
    points = _points(raw["points"], base, dims) if "points" in raw else ()
    if not dims and not points:
        raise _fail(str(spec_path), "nothing to sweep: add a [space] field or [[points]]")
    search = sweep.get("search", "grid")
    sampled = [d.field for d in dims if d.kind != "grid"]
    if search == "grid" and sampled:
        raise _fail(f"[space] {sampled[0]}", "a sampled range needs search = \"random\" or \"optuna\" "
                    "(a grid takes lists)")
    if search == "optuna" and (points or any(d.kind == "grid" for d in dims)):
        raise _fail("[sweep] search", "optuna samples: give ranges or { choice = [...] }, not lists or [[points]]")
    return SweepSpec(
        name=str(sweep.get("name", spec_path.stem)), base=base, dimensions=tuple(dims), points=points,
        metric=sweep.get("metric", "val_accuracy"), search=search, num_samples=sweep.get("num_samples", 1),
        scheduler=sweep.get("scheduler", "asha"), max_concurrent=sweep.get("max_concurrent", 0),
        cpus_per_trial=sweep.get("cpus_per_trial", 1), grace_period=sweep.get("grace_period", 1),
        seed=int(sweep.get("seed", 0)), source=str(spec_path), raw=raw,
    )


def resolved(spec: SweepSpec) -> dict[str, Any]:
    """The SPEC with its base config folded into [fixed]: parses to the same sweep from anywhere (--resume)."""
    sweep = {k: v for k, v in spec.raw.get("sweep", {}).items() if k != "base"}
    return {**spec.raw, "sweep": {**sweep, "name": spec.name}, "fixed": spec.base}


def load(path: str | Path, overrides: dict[str, str] | None = None) -> SweepSpec:
    """Read and check a SPEC; `overrides` (`--set key=value`) replace [fixed] values, e.g. a smaller run."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SpecError(f"sweep spec not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: invalid TOML: {exc}") from None
    if overrides:
        raw["fixed"] = {**raw.get("fixed", {}), **overrides}
    return parse(raw, path)
