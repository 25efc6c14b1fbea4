"""The thin MLflow wrapper: every training is a run, runs are searchable, models are versioned.

Store: `--tracking-uri`, else MLFLOW_TRACKING_URI, else `sqlite:///$SIGNLENS_HOME/mlflow.db`
(SIGNLENS_HOME defaults to `.signlens/` in the current directory) with artifacts in
`mlartifacts/` beside the database, so `mlflow ui --backend-store-uri <uri>` shows everything.

Tracking must never cost a training. A TrainingRun keeps the whole run record (params, tags,
per-epoch metrics, artifact dir) in memory and logs it live; the first store failure prints one
warning, stops live logging, and at the end the record is queued as JSON under
`$SIGNLENS_HOME/pending/` for `signlens runs sync` to log later.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, Run

from signlens.errors import SignlensError
from signlens import paths
from signlens.paths import state_dir

# Keras, TensorFlow and signlens.models.artifact are imported where needed: `signlens runs list` should
# not pay seconds of TensorFlow start-up.
if TYPE_CHECKING:
    import keras

    from signlens.training.config import TrainConfig
    from signlens.data import Dataset
    from signlens.training.train import TrainResult

ARTIFACT_PATH = "artifact"  # where the signlens artifact dir lives inside a run
REGISTERED_MODEL = "signlens-asl"
DEFAULT_EXPERIMENT = "signlens"
#: Fine-tuned personal models are runs of their own experiment and versions of their own model.
PERSONAL_EXPERIMENT = "signlens-personal"
PERSONAL_MODEL = "signlens-personal"
RUN_FILE = ".mlflow-run-id"  # in an unfinished training's out dir
FINAL_METRICS = ("final_val_accuracy", "final_val_loss", "train_seconds", "epochs_run")


class TrackingError(SignlensError):
    """The tracking store cannot answer, or a run/model reference does not exist."""


def tracking_uri(uri: str | None = None) -> str:
    return uri or paths.tracking_uri_from_env() or f"sqlite:///{state_dir() / 'mlflow.db'}"


def _artifact_root(uri: str) -> str | None:
    """Local stores keep artifacts beside the database; a server decides for itself."""
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts").as_uri()
    return None


def client(uri: str | None = None) -> MlflowClient:
    uri = tracking_uri(uri)
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).resolve().parent.mkdir(parents=True, exist_ok=True)
    # MLflow's schema-migration INFO lines and download progress bars are noise in a CLI.
    for name in ("mlflow.store.db.utils", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(c: MlflowClient, name: str) -> str:
    exp = c.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    return c.create_experiment(name, artifact_location=_artifact_root(c.tracking_uri))


def _git() -> dict[str, str]:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(paths.REPO_ROOT), *args], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
    try:
        # Untracked files (state dirs, scratch) do not change the code that ran; edits do.
        return {"mlflow.source.git.commit": git("rev-parse", "HEAD"),
                "signlens.git_dirty": str(bool(git("status", "--porcelain", "--untracked-files=no")))}
    except (OSError, subprocess.SubprocessError):
        return {"signlens.git_dirty": "unknown"}


def _versions() -> dict[str, str]:
    import keras
    import mlflow
    import numpy
    import tensorflow

    import signlens

    return {"lib.python": platform.python_version(), "lib.tensorflow": tensorflow.__version__,
            "lib.keras": keras.__version__, "lib.numpy": numpy.__version__, "lib.mlflow": mlflow.__version__,
            "lib.signlens": signlens.__version__}


def _now_ms() -> int:
    return int(time.time() * 1000)


class TrainingRun:
    """One training as an MLflow run; use as a context manager around train(callbacks=[run.callback()])."""

    def __init__(self, cfg: TrainConfig, data: Dataset, experiment: str = DEFAULT_EXPERIMENT,
                 uri: str | None = None, run_name: str | None = None, tags: dict[str, str] | None = None,
                 run_file: Path | None = None, resume: bool = False):
        self.uri = tracking_uri(uri)
        self.run_id: str | None = None
        # The run id is kept beside the training checkpoint so `--resume` continues the same run.
        self.run_file, self.resume = run_file, resume
        self.queued: Path | None = None
        self._client: MlflowClient | None = None
        self._warned = False
        self.record: dict[str, Any] = {
            "experiment": experiment,
            "run_name": run_name or f"{cfg.model}-{time.strftime('%Y%m%d-%H%M%S')}",
            "params": {k: str(v) for k, v in cfg.to_dict().items()},
            "tags": {"signlens.dataset_fingerprint": data.fingerprint, "signlens.data_source": data.source,
                     "signlens.model": cfg.model, **_git(), **_versions(), **(tags or {})},
            "metrics": [],  # [key, value, step, timestamp_ms]
            "start_time": _now_ms(),
            "intended_tracking_uri": self.uri,
        }

    def _reopen(self, c: MlflowClient) -> bool:
        """Continue the interrupted run recorded in run_file (its params are already logged)."""
        if not (self.resume and self.run_file and self.run_file.exists()):
            return False
        run_id = self.run_file.read_text().strip()
        try:
            c.get_run(run_id)
        except Exception:  # deleted, or another store: a new run it is
            return False
        c.update_run(run_id, status="RUNNING")
        self._client, self.run_id = c, run_id
        return True

    def __enter__(self) -> TrainingRun:
        try:
            c = client(self.uri)
            if self._reopen(c):
                return self
            run = c.create_run(experiment_id(c, self.record["experiment"]), start_time=self.record["start_time"],
                               tags=self.record["tags"], run_name=self.record["run_name"])
            self._client, self.run_id = c, run.info.run_id
            c.log_batch(self.run_id, params=[Param(k, v) for k, v in self.record["params"].items()])
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

    def _live(self, fn: Any) -> None:
        if self._client is None:
            return
        try:
            fn(self._client)
        except Exception as exc:  # see __enter__
            self._offline(exc)

    def log_metrics(self, values: dict[str, float], step: int) -> None:
        now = _now_ms()
        rows = [[k, float(v), step, now] for k, v in values.items()]
        self.record["metrics"] += rows
        self._live(lambda c: c.log_batch(self.run_id, metrics=[Metric(k, v, ts, s) for k, v, s, ts in rows]))

    def callback(self) -> keras.callbacks.Callback:
        import keras

        run = self

        class _Log(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
                values = {k: float(v) for k, v in (logs or {}).items()}
                values["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
                run.log_metrics(values, epoch)

        return _Log()

    def finish(self, result: TrainResult) -> None:
        """Final metrics, the artifact dir and learning curves; queue the record if the store failed."""
        final = {k: result.metrics[k.removeprefix("final_")] for k in FINAL_METRICS
                 if k.removeprefix("final_") in result.metrics}
        self.log_metrics(final, max(0, int(result.metrics.get("epochs_run", 1)) - 1))
        self.record.update(artifact_dir=str(Path(result.artifact_dir).resolve()), end_time=_now_ms())
        if result.fingerprint != self.record["tags"]["signlens.dataset_fingerprint"]:
            self.record["tags"]["signlens.train_fingerprint"] = result.fingerprint  # rows were excluded
        if self._client is not None:
            from signlens.models import artifact

            artifact.update_meta(Path(result.artifact_dir), mlflow_run_id=self.run_id)
        self._live(lambda c: _log_outputs(c, self.run_id, self.record))
        if self.run_file is not None:
            self.run_file.unlink(missing_ok=True)
        if self._client is None:
            self.record["partial_run_id"] = self.run_id
            self.queued = _queue(self.record)
            self.run_id = None
            print(f"signlens: warning: run queued in {self.queued}; log it with `signlens runs sync`", file=sys.stderr)


def _log_outputs(c: MlflowClient, run_id: str, record: dict[str, Any]) -> None:
    if "signlens.train_fingerprint" in record["tags"]:
        c.set_tag(run_id, "signlens.train_fingerprint", record["tags"]["signlens.train_fingerprint"])
    art_dir = Path(record["artifact_dir"])
    if art_dir.is_dir():
        c.log_artifacts(run_id, str(art_dir), ARTIFACT_PATH)
        if (art_dir / "learning_curves.png").exists():
            c.log_artifact(run_id, str(art_dir / "learning_curves.png"))
    c.set_terminated(run_id, "FINISHED", end_time=record["end_time"])


def _queue(record: dict[str, Any]) -> Path:
    pending = state_dir() / "pending"
    pending.mkdir(parents=True, exist_ok=True)
    path = pending / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def pending() -> list[Path]:
    return sorted((state_dir() / "pending").glob("*.json"))


def sync(uri: str | None = None) -> list[tuple[Path, str]]:
    """Log every queued run record to the store; a record is deleted only once fully logged."""
    from signlens.models import artifact

    done = []
    for path in pending():
        record = json.loads(path.read_text())
        try:
            c = client(uri)
            run = c.create_run(experiment_id(c, record["experiment"]), start_time=record["start_time"],
                               tags={**record["tags"], "signlens.synced_from": path.name},
                               run_name=record["run_name"])
            run_id = run.info.run_id
            c.log_batch(run_id, params=[Param(k, v) for k, v in record["params"].items()])
            metrics = [Metric(k, v, ts, step) for k, v, step, ts in record["metrics"]]
            for i in range(0, len(metrics), 1000):  # MLflow's per-request limit
                c.log_batch(run_id, metrics=metrics[i : i + 1000])
            if Path(record["artifact_dir"]).is_dir():
                artifact.update_meta(Path(record["artifact_dir"]), mlflow_run_id=run_id)
            else:
                print(f"signlens: warning: {record['artifact_dir']} is gone; run logged without artifacts",
                      file=sys.stderr)
            _log_outputs(c, run_id, record)
        except Exception as exc:
            raise TrackingError(f"cannot log {path} to {tracking_uri(uri)}: {type(exc).__name__}: {exc}") from None
        if record.get("partial_run_id"):
            try:
                c.delete_run(record["partial_run_id"])  # the half-logged original, if it reached a store
            except Exception:
                pass  # it may live in another store; the complete run is what matters
        path.unlink()
        done.append((path, run_id))
    return done


def find_run(c: MlflowClient, ref: str) -> Run:
    """A run by id, by unique id prefix (6+ characters) or by run name."""
    try:
        return c.get_run(ref)
    except Exception:
        pass
    exp_ids = [e.experiment_id for e in c.search_experiments()]
    by_name = c.search_runs(exp_ids, f"attributes.run_name = '{ref}'", max_results=2) if "'" not in ref else []
    runs = list(by_name) or ([r for r in c.search_runs(exp_ids, max_results=5000)
                              if r.info.run_id.startswith(ref)] if len(ref) >= 6 else [])
    if len(runs) == 1:
        return runs[0]
    if runs:
        raise TrackingError(f"run {ref!r} is ambiguous: {', '.join(r.info.run_id for r in runs)}")
    short = " (an id prefix needs at least 6 characters)" if len(ref) < 6 else ""
    raise TrackingError(f"no run {ref!r} in {c.tracking_uri}{short} (see `signlens runs list`)")


def model_version(c: MlflowClient, ref: str) -> Any:
    """`models:/NAME@ALIAS`, `models:/NAME/VERSION`, or a bare version number/alias of signlens-asl."""
    body = ref.removeprefix("models:/")
    name, sep, alias = body.partition("@")
    if not sep:
        name, _, version = body.rpartition("/")
        name = name or REGISTERED_MODEL
    try:
        return c.get_model_version_by_alias(name, alias) if sep else c.get_model_version(name, version)
    except Exception as exc:
        raise TrackingError(f"no model version {ref!r} in {c.tracking_uri} ({str(exc)[:200]})") from None


def download(ref: str, uri: str | None = None) -> tuple[Path, dict[str, str]]:
    """Fetch the signlens artifact dir behind `runs:/ID/PATH` or `models:/...` into a local cache.

    Run artifacts never change, so a finished download is reused.
    """
    from signlens.models.artifact import META_FILE

    c = client(uri)
    info: dict[str, str] = {}
    if ref.startswith("models:/"):
        mv = model_version(c, ref)
        info["version"] = f"{mv.name}/v{mv.version}"
        ref = mv.source if str(mv.source).startswith("runs:/") else f"runs:/{mv.run_id}/{ARTIFACT_PATH}"
    run_id, _, path = ref.removeprefix("runs:/").partition("/")
    run_id = find_run(c, run_id).info.run_id
    info["mlflow_run_id"] = run_id
    path = path.strip("/") or ARTIFACT_PATH
    cached = state_dir() / "downloads" / run_id / path
    if not (cached / META_FILE).exists():
        tmp = state_dir() / "downloads" / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir(parents=True)
        try:
            got = Path(c.download_artifacts(run_id, path, str(tmp)))
        except Exception as exc:
            raise TrackingError(f"cannot download {path!r} of run {run_id}: {str(exc)[:200]}") from None
        cached.parent.mkdir(parents=True, exist_ok=True)
        if not cached.exists():
            got.replace(cached)
    return cached, info


def register_version(c: MlflowClient, run_id: str, name: str = REGISTERED_MODEL) -> Any:
    """A new version of registered model `name` from the signlens artifact logged in run `run_id`."""
    if not any(a.path == ARTIFACT_PATH for a in c.list_artifacts(run_id)):
        raise TrackingError(f"run {run_id} has no logged signlens artifact (unfinished run?)")
    if not c.search_registered_models(f"name = '{name}'"):
        c.create_registered_model(name, description="ASL fingerspelling letter classifiers (signlens)")
    return c.create_model_version(name, source=f"runs:/{run_id}/{ARTIFACT_PATH}", run_id=run_id)


def log_finetune(art_dir: Path, record: dict[str, Any], history: dict[str, list[float]], *,
                 register_as: str = PERSONAL_MODEL, uri: str | None = None) -> tuple[str, Any]:
    """Log a fine-tuning as a run of the PERSONAL_EXPERIMENT and register its artifact.

    Returns (run_id, the new model version). Raises TrackingError when the store fails: the caller
    keeps the artifact either way, and says the model is unregistered.
    """
    from signlens.models import artifact

    try:
        c = client(uri)
        run = c.create_run(experiment_id(c, PERSONAL_EXPERIMENT), run_name=f"finetune-{record['base_name']}",
                           tags={"signlens.model": "finetune", "signlens.base_version": record["base_version"],
                                 "signlens.dataset_fingerprint": record["images_fingerprint"],
                                 "signlens.data_source": record["images"], **_git(), **_versions()})
        run_id = run.info.run_id
        params = {k: str(v) for k, v in record.items() if k not in ("per_letter", "seconds")}
        params["per_letter"] = ",".join(f"{k}={v}" for k, v in record["per_letter"].items())[:6000]
        c.log_batch(run_id, params=[Param(k, v) for k, v in params.items()],
                    metrics=[Metric(k, float(v), _now_ms(), step) for k, vs in history.items()
                             for step, v in enumerate(vs)] + [Metric("finetune_seconds", record["seconds"], _now_ms(), 0)])
        artifact.update_meta(art_dir, mlflow_run_id=run_id)
        c.log_artifacts(run_id, str(art_dir), ARTIFACT_PATH)
        c.set_terminated(run_id, "FINISHED")
        return run_id, register_version(c, run_id, register_as)
    except TrackingError:
        raise
    except Exception as exc:  # a store failure must not cost the fine-tuned model
        raise TrackingError(f"tracking store {tracking_uri(uri)} failed: {type(exc).__name__}: {str(exc)[:200]}") from None


def log_evaluation(run_id: str, out_dir: Path, report: dict[str, Any], uri: str | None = None) -> bool:
    """Attach an evaluation report to the run the model came from; a store failure only warns."""
    name = out_dir.name if out_dir.name.startswith("eval") else f"eval-{out_dir.name}"
    key = name.replace("-", "_")  # eval-test -> metrics.eval_test_accuracy, searchable without backticks
    try:
        c = client(uri)
        c.log_artifacts(run_id, str(out_dir), name)
        c.log_batch(run_id, metrics=[Metric(f"{key}_accuracy", report["accuracy"], _now_ms(), 0),
                                     Metric(f"{key}_macro_f1", report["macro_f1"], _now_ms(), 0)])
    except Exception as exc:
        print(f"signlens: warning: could not log the report to run {run_id}: {str(exc)[:200]}", file=sys.stderr)
        return False
    return True


def history(c: MlflowClient, run_id: str) -> dict[str, list[float]]:
    """Per-epoch learning curves of a run, in the shape plots.learning_curves takes."""
    out = {}
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        points = sorted(c.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))
        if points:
            out[key] = [m.value for m in points]
    return out


def train_tracked(cfg: TrainConfig, out_dir: Path, data: Dataset, *, resume: bool = False,
                  experiment: str = DEFAULT_EXPERIMENT, uri: str | None = None,
                  tags: dict[str, str] | None = None, verbose: int | None = None) -> tuple[TrainResult, TrainingRun]:
    """train.train as an MLflow run; the TrainingRun says where it went (run_id) or was queued."""
    from signlens.training.train import check_unfinished, train

    check_unfinished(out_dir, resume)  # before a run exists: a refused start must not replace the run id
    with TrainingRun(cfg, data, experiment, uri, tags=tags, run_file=Path(out_dir) / RUN_FILE, resume=resume) as run:
        result = train(cfg, out_dir, data=data, resume=resume, callbacks=[run.callback()], verbose=verbose)
        run.finish(result)
    return result, run


def reproduce(ref: str, out_dir: Path | None = None, uri: str | None = None,
              verbose: int | None = None) -> dict[str, Any]:
    """Retrain a run from its logged config on the same data (checked by fingerprint); compare metrics."""
    from signlens.training import config
    from signlens.data import load

    c = client(uri)
    original = find_run(c, ref)
    run_id = original.info.run_id
    cfg = config.build(dict(original.data.params))
    data = load(cfg.data, "train")
    expected = original.data.tags.get("signlens.dataset_fingerprint")
    if data.fingerprint != expected:
        raise TrackingError(f"run {run_id} was trained on {original.data.tags.get('signlens.data_source')} "
                            f"with fingerprint {expected}, but {data.source} has {data.fingerprint}")
    exp_name = c.get_experiment(original.info.experiment_id).name
    out_dir = out_dir or state_dir() / "reproduce" / run_id
    result, run = train_tracked(cfg, out_dir, data, experiment=exp_name, uri=uri,
                                tags={"signlens.reproduces": run_id}, verbose=verbose)
    rows = {}
    for key in FINAL_METRICS:
        if key in original.data.metrics and key.removeprefix("final_") in result.metrics:
            before, after = original.data.metrics[key], float(result.metrics[key.removeprefix("final_")])
            rows[key] = {"original": before, "reproduced": after, "diff": after - before}
    return {"original": run_id, "run_id": run.run_id, "queued": run.queued, "artifact_dir": result.artifact_dir,
            "metrics": rows}
