"""Logging what signlens does as MLflow runs: trainings (live, resumable), fine-tunings, evaluations.

Tracking must never cost a training. A TrainingRun keeps the whole run record (params, tags,
per-epoch metrics, artifact dir) in memory and logs it live; an unreachable store is found in
seconds (store.check_reachable), and the first store failure prints one warning, stops live
logging, and at the end the record is queued (offline.queue) for `signlens runs sync`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable

from mlflow import MlflowClient
from mlflow.entities import Metric

from signlens.tracking import offline, store
from signlens.tracking.store import DEFAULT_EXPERIMENT, FINAL_METRICS, PERSONAL_EXPERIMENT, PERSONAL_MODEL, TrackingError

# Keras, TensorFlow and signlens.models.artifact are imported where needed: `signlens runs list` should
# not pay seconds of TensorFlow start-up.
if TYPE_CHECKING:
    import keras

    from signlens.data import Dataset
    from signlens.training.config import TrainConfig
    from signlens.training.train import TrainResult

RUN_FILE = ".mlflow-run-id"  # in an unfinished training's out dir


class TrainingRun:
    """One training as an MLflow run; use as a context manager around train(callbacks=[run.callback()]).

    `experiment=None` means the default experiment, or, when resuming, the interrupted run's."""

    def __init__(self, cfg: TrainConfig, data: Dataset, experiment: str | None = None,
                 uri: str | None = None, run_name: str | None = None, tags: dict[str, str] | None = None,
                 run_file: Path | None = None, resume: bool = False):
        self.uri = store.tracking_uri(uri)
        self.run_id: str | None = None
        # The run id is kept beside the training checkpoint so `--resume` continues the same run.
        self.run_file, self.resume = run_file, resume
        self.queued: Path | None = None
        self._asked_experiment = experiment
        self._client: MlflowClient | None = None
        self._warned = False
        self.record: dict[str, Any] = {
            "experiment": experiment or DEFAULT_EXPERIMENT,
            "run_name": run_name or f"{cfg.model}-{time.strftime('%Y%m%d-%H%M%S')}",
            "params": {k: str(v) for k, v in cfg.to_dict().items()},
            "tags": {"signlens.dataset_fingerprint": data.fingerprint, "signlens.data_source": data.source,
                     "signlens.model": cfg.model, **store.environment_tags(), **(tags or {})},
            "metrics": [],  # [key, value, step, timestamp_ms]
            "start_time": store.now_ms(),
            "intended_tracking_uri": self.uri,
        }

    @property
    def experiment(self) -> str:
        """The experiment the run is (or will be, once synced) logged in."""
        return self.record["experiment"]

    def _reopen(self, c: MlflowClient) -> bool:
        """Continue the interrupted run recorded in run_file (its params are already logged), in
        the experiment it was started in."""
        if not (self.resume and self.run_file and self.run_file.exists()):
            return False
        run_id = self.run_file.read_text().strip()
        try:
            run = c.get_run(run_id)
        except Exception:  # deleted, or another store: a new run it is
            return False
        started_in = c.get_experiment(run.info.experiment_id).name
        if self._asked_experiment not in (None, started_in):
            print(f"signlens: warning: run {run_id} was started in experiment {started_in!r}; it continues there "
                  f"(not in {self._asked_experiment!r})", file=sys.stderr)
        self.record["experiment"] = started_in
        c.update_run(run_id, status="RUNNING")
        self._client, self.run_id = c, run_id
        return True

    def __enter__(self) -> TrainingRun:
        try:
            store.check_reachable(self.uri)
            c = store.client(self.uri)
            if self._reopen(c):
                return self
            r = self.record
            self.run_id = store.create_run(c, r["experiment"], r["run_name"], r["tags"], r["params"],
                                           start_time=r["start_time"])
            self._client = c
            if self.run_file is not None:
                self.run_file.parent.mkdir(parents=True, exist_ok=True)
                self.run_file.write_text(self.run_id + "\n")
        except Exception as exc:  # any store failure (HTTP, SQL lock, permissions) must not stop training
            self._offline(exc)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None and self._client is not None and self.run_id is not None:
            status = "KILLED" if issubclass(kind, KeyboardInterrupt) else "FAILED"
            self._live(lambda c: c.set_terminated(self.run_id, status))

    def _offline(self, exc: BaseException) -> None:
        self._client = None
        if self._warned:
            return
        self._warned = True
        print(f"signlens: warning: tracking store {self.uri} failed ({type(exc).__name__}: {str(exc)[:200]}); "
              "training continues and the run will be queued for `signlens runs sync`", file=sys.stderr)

    def _live(self, fn: Callable[[MlflowClient], Any]) -> None:
        if self._client is None:
            return
        try:
            fn(self._client)
        except Exception as exc:  # see __enter__
            self._offline(exc)

    def log_metrics(self, values: dict[str, float], step: int) -> None:
        now = store.now_ms()
        rows = [[k, float(v), step, now] for k, v in values.items()]
        self.record["metrics"] += rows
        self._live(lambda c: store.log_metric_rows(c, self.run_id, rows))

    def callback(self) -> keras.callbacks.Callback:
        from signlens.training.callbacks import EpochEnd

        return EpochEnd(lambda epoch, values: self.log_metrics(values, epoch))

    def finish(self, result: TrainResult) -> None:
        """Final metrics, the artifact dir and learning curves; queue the record if the store failed."""
        final = {k: result.metrics[k.removeprefix("final_")] for k in FINAL_METRICS
                 if k.removeprefix("final_") in result.metrics}
        self.log_metrics(final, max(0, int(result.metrics.get("epochs_run", 1)) - 1))
        self.record.update(artifact_dir=str(Path(result.artifact_dir).resolve()), end_time=store.now_ms())
        if result.fingerprint != self.record["tags"]["signlens.dataset_fingerprint"]:
            self.record["tags"]["signlens.train_fingerprint"] = result.fingerprint  # rows were excluded
        if self._client is not None:
            from signlens.models import artifact

            artifact.update_meta(Path(result.artifact_dir), mlflow_run_id=self.run_id)
        self._live(lambda c: store.log_outputs(c, self.run_id, self.record))
        if self.run_file is not None:
            self.run_file.unlink(missing_ok=True)
        if self._client is None:
            self.record["partial_run_id"] = self.run_id
            self.queued = offline.queue(self.record)
            self.run_id = None
            print(f"signlens: warning: run queued in {self.queued}; log it with `signlens runs sync`", file=sys.stderr)


def train_tracked(cfg: TrainConfig, out_dir: Path, data: Dataset, *, resume: bool = False,
                  experiment: str | None = None, uri: str | None = None,
                  tags: dict[str, str] | None = None, verbose: int | None = None) -> tuple[TrainResult, TrainingRun]:
    """train.train as an MLflow run; the TrainingRun says where it went (run_id) or was queued.

    Whatever can be checked without training is checked before a run exists, so a refused start
    leaves neither a FAILED run nor a run id behind."""
    from signlens.training.train import CHECKPOINT_DIR, preflight, train

    preflight(cfg, out_dir, resume)
    run_file = Path(out_dir) / RUN_FILE
    try:
        with TrainingRun(cfg, data, experiment, uri, tags=tags, run_file=run_file, resume=resume) as run:
            result = train(cfg, out_dir, data=data, resume=resume, callbacks=[run.callback()], verbose=verbose)
            run.finish(result)
    except BaseException:
        if not (Path(out_dir) / CHECKPOINT_DIR).exists():  # nothing to resume: the run id has no use
            run_file.unlink(missing_ok=True)
        raise
    return result, run


def log_finetune(art_dir: Path, record: dict[str, Any], history: dict[str, list[float]], *,
                 register_as: str = PERSONAL_MODEL, uri: str | None = None) -> tuple[str, Any]:
    """Log a fine-tuning as a run of the PERSONAL_EXPERIMENT and register its artifact.

    Returns (run_id, the new model version). Raises TrackingError when the store fails: the caller
    keeps the artifact either way, and says the model is unregistered.
    """
    from signlens.models import artifact
    from signlens.tracking.registry import register_version

    params = {k: str(v) for k, v in record.items() if k not in ("per_letter", "seconds")}
    params["per_letter"] = ",".join(f"{k}={v}" for k, v in record["per_letter"].items())[:6000]
    tags = {"signlens.model": "finetune", "signlens.base_version": record["base_version"],
            "signlens.dataset_fingerprint": record["images_fingerprint"], "signlens.data_source": record["images"]}
    now = store.now_ms()
    metrics = [[k, v, step, now] for k, vs in history.items() for step, v in enumerate(vs)]
    try:
        store.check_reachable(store.tracking_uri(uri))
        c = store.client(uri)
        run_id = store.create_run(c, PERSONAL_EXPERIMENT, f"finetune-{record['base_name']}",
                                  {**tags, **store.environment_tags()}, params)
        store.log_metric_rows(c, run_id, [*metrics, ["finetune_seconds", record["seconds"], 0, now]])
        artifact.update_meta(art_dir, mlflow_run_id=run_id)
        c.log_artifacts(run_id, str(art_dir), store.ARTIFACT_PATH)
        c.set_terminated(run_id, "FINISHED")
        return run_id, register_version(c, run_id, register_as)
    except TrackingError:
        raise
    except Exception as exc:  # a store failure must not cost the fine-tuned model
        raise TrackingError(f"tracking store {store.tracking_uri(uri)} failed: {type(exc).__name__}: "
                            f"{str(exc)[:200]}") from None


def log_evaluation(run_id: str, out_dir: Path, report: dict[str, Any], uri: str | None = None) -> bool:
    """Attach an evaluation report to the run the model came from; a store failure only warns."""
    name = out_dir.name if out_dir.name.startswith("eval") else f"eval-{out_dir.name}"
    key = name.replace("-", "_")  # eval-test -> metrics.eval_test_accuracy, searchable without backticks
    try:
        store.check_reachable(store.tracking_uri(uri))
        c = store.client(uri)
        c.log_artifacts(run_id, str(out_dir), name)
        c.log_batch(run_id, metrics=[Metric(f"{key}_accuracy", report["accuracy"], store.now_ms(), 0),
                                     Metric(f"{key}_macro_f1", report["macro_f1"], store.now_ms(), 0)])
    except Exception as exc:
        print(f"signlens: warning: could not log the report to run {run_id}: {str(exc)[:200]}", file=sys.stderr)
        return False
    return True
