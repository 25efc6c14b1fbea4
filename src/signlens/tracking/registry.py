"""Model versions: register a run's artifact, point an alias at a version, download what a
`runs:/` or `models:/` reference names."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from mlflow import MlflowClient

from signlens.paths import state_dir
from signlens.tracking import store
from signlens.tracking.store import ARTIFACT_PATH, REGISTERED_MODEL, TrackingError


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


def _fetch(c: MlflowClient, run_id: str, path: str, cached: Path) -> None:
    """Download into a private temporary folder, then move it into place; no temporary folder
    outlives a failed download."""
    tmp = state_dir() / "downloads" / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    try:
        got = Path(c.download_artifacts(run_id, path, str(tmp)))
        cached.parent.mkdir(parents=True, exist_ok=True)
        if not cached.exists():
            got.replace(cached)
    except Exception as exc:
        raise TrackingError(f"cannot download {path!r} of run {run_id}: {str(exc)[:200]}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def download(ref: str, uri: str | None = None) -> tuple[Path, dict[str, str]]:
    """Fetch the signlens artifact dir behind `runs:/ID/PATH` or `models:/...` into a local cache.

    Run artifacts never change, so a finished download is reused.
    """
    from signlens.models.artifact import META_FILE

    c = store.client(uri)
    info: dict[str, str] = {}
    if ref.startswith("models:/"):
        mv = model_version(c, ref)
        info["version"] = f"{mv.name}/v{mv.version}"
        ref = mv.source if str(mv.source).startswith("runs:/") else f"runs:/{mv.run_id}/{ARTIFACT_PATH}"
    run_id, _, path = ref.removeprefix("runs:/").partition("/")
    run_id = store.find_run(c, run_id).info.run_id
    info["mlflow_run_id"] = run_id
    path = path.strip("/") or ARTIFACT_PATH
    cached = state_dir() / "downloads" / run_id / path
    if not (cached / META_FILE).exists():
        _fetch(c, run_id, path, cached)
    return cached, info


def register_version(c: MlflowClient, run_id: str, name: str = REGISTERED_MODEL) -> Any:
    """A new version of registered model `name` from the signlens artifact logged in run `run_id`."""
    if not any(a.path == ARTIFACT_PATH for a in c.list_artifacts(run_id)):
        raise TrackingError(f"run {run_id} has no logged signlens artifact (unfinished run?)")
    if not c.search_registered_models(f"name = '{name}'"):
        c.create_registered_model(name, description="ASL fingerspelling letter classifiers (signlens)")
    return c.create_model_version(name, source=f"runs:/{run_id}/{ARTIFACT_PATH}", run_id=run_id)


def promote(c: MlflowClient, name: str, version: str, alias: str) -> Any:
    """Point `name@alias` (champion, challenger) at an existing version; returns that version."""
    mv = model_version(c, f"models:/{name}/{version}")
    c.set_registered_model_alias(name, alias, mv.version)
    return mv
