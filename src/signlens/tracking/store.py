"""The MLflow store: where it is, a client that fails fast, run creation and run lookups.

Store: `--tracking-uri`, else MLFLOW_TRACKING_URI, else `sqlite:///$SIGNLENS_HOME/mlflow.db`
(SIGNLENS_HOME defaults to `.signlens/` in the current directory) with artifacts in
`mlartifacts/` beside the database, so `mlflow ui --backend-store-uri <uri>` shows everything.
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, Run

from signlens import paths
from signlens.errors import SignlensError
from signlens.paths import state_dir

ARTIFACT_PATH = "artifact"  # where the signlens artifact dir lives inside a run
REGISTERED_MODEL = "signlens-asl"
DEFAULT_EXPERIMENT = "signlens"
#: Fine-tuned personal models are runs of their own experiment and versions of their own model.
PERSONAL_EXPERIMENT = "signlens-personal"
PERSONAL_MODEL = "signlens-personal"
FINAL_METRICS = ("final_val_accuracy", "final_val_loss", "train_seconds", "epochs_run")
#: MLflow's own HTTP defaults (7 retries, backoff factor 2, 120 s timeout) spend 4 minutes on a
#: server that is down before the first error. signlens would rather know in seconds and queue the
#: run; a user's own MLFLOW_HTTP_REQUEST_* settings still win.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
PROBE_TIMEOUT_S = 3.0
METRICS_PER_REQUEST = 1000  # MLflow's log_batch limit


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
    for key, value in {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false", **HTTP_DEFAULTS}.items():
        os.environ.setdefault(key, value)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def check_reachable(uri: str, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Raise TrackingError within `timeout_s` when an HTTP store's host does not accept connections.

    One TCP connect tells a dead or unroutable server apart before any MLflow request (and its
    retries) is made; local stores (sqlite, file) have nothing to probe."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "localhost", port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise TrackingError(f"tracking store {uri} is unreachable ({type(exc).__name__}: {exc})") from None


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


def environment_tags() -> dict[str, str]:
    """The code and libraries a run ran with: git commit (and whether edited), library versions."""
    return {**_git(), **_versions()}


def now_ms() -> int:
    return int(time.time() * 1000)


def create_run(c: MlflowClient, experiment: str, run_name: str, tags: dict[str, str], params: dict[str, str],
               start_time: int | None = None) -> str:
    """A new run of `experiment` (created if missing) with its tags and params; returns its id.

    Every run signlens logs (training, queued training, fine-tuning) starts here."""
    run = c.create_run(experiment_id(c, experiment), start_time=start_time, tags=tags, run_name=run_name)
    c.log_batch(run.info.run_id, params=[Param(k, v) for k, v in params.items()])
    return run.info.run_id


def log_metric_rows(c: MlflowClient, run_id: str, rows: list[list[Any]]) -> None:
    """Metric rows [key, value, step, timestamp_ms], in requests MLflow accepts."""
    metrics = [Metric(k, float(v), ts, step) for k, v, step, ts in rows]
    for i in range(0, len(metrics), METRICS_PER_REQUEST):
        c.log_batch(run_id, metrics=metrics[i : i + METRICS_PER_REQUEST])


def log_outputs(c: MlflowClient, run_id: str, record: dict[str, Any]) -> None:
    """A finished training's artifact dir and learning curves, then the run marked FINISHED."""
    if "signlens.train_fingerprint" in record["tags"]:
        c.set_tag(run_id, "signlens.train_fingerprint", record["tags"]["signlens.train_fingerprint"])
    art_dir = Path(record["artifact_dir"])
    if art_dir.is_dir():
        c.log_artifacts(run_id, str(art_dir), ARTIFACT_PATH)
        if (art_dir / "learning_curves.png").exists():
            c.log_artifact(run_id, str(art_dir / "learning_curves.png"))
    c.set_terminated(run_id, "FINISHED", end_time=record["end_time"])


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


def history(c: MlflowClient, run_id: str) -> dict[str, list[float]]:
    """Per-epoch learning curves of a run, in the shape plots.learning_curves takes."""
    out = {}
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        points = sorted(c.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))
        if points:
            out[key] = [m.value for m in points]
    return out
