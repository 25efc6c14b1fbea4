"""The live table a person watches while a sweep runs, and the MLflow mark for trials ASHA stopped."""

from __future__ import annotations

import time
from typing import Any

from ray import tune

from signlens.sweep.trial import STOPPED_TAG, trial_values

REDRAW_SECONDS = 10.0


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def table(header: list[str], rows: list[list[Any]]) -> str:
    cells = [header] + [[fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


class LiveTable(tune.Callback):
    """Prints (trial, swept values, epoch, metric, state) when trials start or end, and at most every
    REDRAW_SECONDS as epochs come in. Holds only plain data: Tune pickles it with the experiment."""

    def __init__(self, fields: list[str], metric: str, tracking_uri: str):
        self.fields, self.metric, self.tracking_uri = fields, metric, tracking_uri
        self.rows: dict[str, dict[str, Any]] = {}
        self.last_draw = 0.0

    def _row(self, trial: Any) -> dict[str, Any]:
        return self.rows.setdefault(trial.trial_id, {"values": trial_values(trial.config), "epoch": None,
                                                     "metric": None, "state": "pending", "run_id": ""})

    def draw(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.last_draw < REDRAW_SECONDS:
            return
        self.last_draw = time.monotonic()
        rows = [[tid, *(r["values"].get(f) for f in self.fields), r["epoch"], r["metric"], r["state"]]
                for tid, r in self.rows.items()]
        done = sum(r["state"] in ("done", "stopped", "error") for r in self.rows.values())
        print(f"\n[{time.strftime('%H:%M:%S')}] {done}/{len(self.rows)} trials ended")
        print(table(["trial", *self.fields, "epoch", self.metric, "state"], rows), flush=True)

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._row(trial)["state"] = "running"
        self.draw(force=True)

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        row = self._row(trial)
        row.update(epoch=result.get("epoch"), metric=result.get(self.metric), run_id=result.get("mlflow_run_id", ""))
        self.draw()

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        row = self._row(trial)
        row["state"] = "stopped" if mark_stopped(self.tracking_uri, row["run_id"]) else "done"
        self.draw(force=True)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._row(trial)["state"] = "error"
        self.draw(force=True)


def mark_stopped(tracking_uri: str, run_id: str) -> bool:
    """A trial ended while its MLflow run still runs: the scheduler stopped it and its worker went
    before saying so (trial.run_trial marks its own stops when it can). Say so in MLflow."""
    if not run_id:
        return False
    from signlens.tracking import store as tracking

    c = tracking.client(tracking_uri)
    if c.get_run(run_id).info.status != "RUNNING":
        return False
    c.set_tag(run_id, STOPPED_TAG, "asha")
    c.set_terminated(run_id, "KILLED")
    return True
