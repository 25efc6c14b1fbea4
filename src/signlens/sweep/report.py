"""What a finished sweep leaves for a person: the sorted table, `trials.csv` and `sweep.png`."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signlens.sweep.progress import table
from signlens.sweep.trial import STOPPED_TAG
from signlens.sweep.spec import SweepSpec

LINE_STYLES = ("-", "--", ":", "-.")
STATES = {"FINISHED": "done", "KILLED": "stopped", "FAILED": "error", "RUNNING": "unfinished"}


@dataclass
class TrialRow:
    trial_id: str
    values: dict[str, Any]
    curve: list[float]  # the metric per epoch, as reported to Tune
    state: str  # done | stopped (by ASHA) | error | unfinished
    run_id: str = ""
    error: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def metric(self) -> float:
        return self.curve[-1] if self.curve else float("nan")


def rows(results: Any, spec: SweepSpec, tracking_uri: str) -> list[TrialRow]:
    """One row per trial from Tune's results, its state from its MLflow run; sorted best first."""
    from signlens.sweep.trial import trial_values
    from signlens.tracking import store as tracking

    c = tracking.client(tracking_uri)
    out = []
    for result in results:
        frame = result.metrics_dataframe
        last = result.metrics or {}
        curve = [] if frame is None or spec.metric not in frame else [float(v) for v in frame[spec.metric]]
        run_id = str(last.get("mlflow_run_id") or "")
        state = "error" if result.error else "unfinished"
        if run_id:
            run = c.get_run(run_id)
            state = STATES.get(run.info.status, state)
            if state == "stopped" and STOPPED_TAG not in run.data.tags:
                state = "error"
        out.append(TrialRow(Path(result.path).name, trial_values(result.config),
                            curve, state, run_id, str(result.error or "")[:200],
                            {k: float(last[k]) for k in ("epoch",) if k in last}))
    sign = -1 if spec.mode == "max" else 1
    return sorted(out, key=lambda r: (math.isnan(r.metric), sign * (0 if math.isnan(r.metric) else r.metric)))


def best(trials: list[TrialRow]) -> TrialRow | None:
    """The best trial that finished (a stopped or failed one has no artifact to register)."""
    return next((t for t in trials if t.state == "done"), None)


def format_table(trials: list[TrialRow], spec: SweepSpec) -> str:
    header = ["trial", *spec.swept_fields, "epochs", spec.metric, "state", "mlflow run"]
    body = [[t.trial_id, *(t.values.get(f) for f in spec.swept_fields), len(t.curve), t.metric, t.state, t.run_id]
            for t in trials]
    return table(header, body)


def write_csv(trials: list[TrialRow], spec: SweepSpec, path: Path) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["trial_id", *spec.swept_fields, "epochs", spec.metric, "state", "mlflow_run_id", "curve"])
        for t in trials:
            w.writerow([t.trial_id, *(t.values.get(k, "") for k in spec.swept_fields), len(t.curve),
                        f"{t.metric:.6f}", t.state, t.run_id, " ".join(f"{v:.6f}" for v in t.curve)])
    return path


def _colours(trials: list[TrialRow], spec: SweepSpec, key: str) -> tuple[list[Any], list[tuple[str, Any]]]:
    """A colour per trial by its value of `key`, and legend entries (value, colour)."""
    import matplotlib
    from matplotlib import colors

    dim = next((d for d in spec.dimensions if d.field == key), None)
    values = [t.values.get(key) for t in trials]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) and len(set(values)) > 4
    if numeric:
        low, high = min(values), max(values)
        log = (dim.log_scale if dim else False) and low > 0
        norm = (colors.LogNorm if log else colors.Normalize)(vmin=low, vmax=high if high > low else low + 1)
        cmap = matplotlib.colormaps["viridis"]
        return [cmap(norm(v)) for v in values], []
    palette = matplotlib.colormaps["tab10"]
    levels = list(dict.fromkeys(str(v) for v in values))
    lookup = {v: palette(i % 10) for i, v in enumerate(levels)}
    return [lookup[str(v)] for v in values], list(lookup.items())


def _styles(trials: list[TrialRow], spec: SweepSpec) -> tuple[list[str], list[tuple[str, str]]]:
    """A line style per trial by its value of the second swept field (when it has few values)."""
    fields = spec.swept_fields
    levels = list(dict.fromkeys(str(t.values.get(fields[1])) for t in trials)) if len(fields) > 1 else []
    if not 1 < len(levels) <= len(LINE_STYLES):
        return ["-"] * len(trials), []
    lookup = dict(zip(levels, LINE_STYLES))
    return [lookup[str(t.values.get(fields[1]))] for t in trials], list(lookup.items())


def _curves(ax: Any, trials: list[TrialRow], spec: SweepSpec) -> list[Any]:
    key = spec.swept_fields[0]
    tint, legend = _colours(trials, spec, key)
    styles, style_legend = _styles(trials, spec)
    for t, colour, style in zip(trials, tint, styles):
        ax.plot(range(1, len(t.curve) + 1), t.curve, color=colour, ls=style, lw=1.6, alpha=0.9)
        if t.state == "stopped" and t.curve:
            ax.plot(len(t.curve), t.curve[-1], "x", color=colour, ms=8, mew=2)
    for value, colour in legend:
        ax.plot([], [], color=colour, label=f"{key} = {value}")
    for value, style in style_legend:
        ax.plot([], [], color="grey", ls=style, label=f"{spec.swept_fields[1]} = {value}")
    if any(t.state == "stopped" for t in trials):
        ax.plot([], [], "x", color="grey", label="stopped early (ASHA)")
    if legend or style_legend:
        ax.legend(fontsize=7)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set(xlabel="epoch", ylabel=spec.metric, title=f"validation curves by {key}")
    return tint


def _scatter(ax: Any, trials: list[TrialRow], spec: SweepSpec, name: str, tint: list[Any]) -> None:
    xs = [t.values.get(name) for t in trials]
    ys = [t.metric for t in trials]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in xs):
        ax.scatter(xs, ys, c=tint, edgecolor="k", zorder=3)
        dim = next((d for d in spec.dimensions if d.field == name), None)
        if (dim.log_scale if dim else min(xs) > 0 and max(xs) / min(xs) >= 100):
            ax.set_xscale("log")
    else:
        levels = list(dict.fromkeys(str(v) for v in xs))
        ax.scatter([levels.index(str(v)) for v in xs], ys, c=tint, edgecolor="k", zorder=3)
        ax.set_xticks(range(len(levels)), levels, rotation=30)
        ax.set_xlim(-0.5, len(levels) - 0.5)
    ax.grid(alpha=0.3)
    ax.set(xlabel=name, ylabel=f"last {spec.metric}", title=f"{spec.metric} vs {name}")


def plot(trials: list[TrialRow], spec: SweepSpec, path: Path, title: str) -> Path:
    """Every trial's validation curve (colour: first swept field, line style: second), and the
    metric against each swept field."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fields = spec.swept_fields[:3]
    fig, axes = plt.subplots(1, 1 + len(fields), figsize=(5.5 + 3.8 * len(fields), 4.2), squeeze=False)
    tint = _curves(axes[0][0], trials, spec)
    for ax, name in zip(axes[0][1:], fields):
        _scatter(ax, trials, spec, name, tint)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
