"""Resolve what a user names as a model into a loaded Artifact.

Accepted: a signlens artifact directory, a TFLite export (dir or .tflite), a TF.js layers model
directory (the seed's), or an MLflow reference: `runs:/<run id>/artifact`, `models:/signlens-asl@champion`, `models:/signlens-asl/3`.
"""

from __future__ import annotations

from pathlib import Path

from signlens.models import artifact
from signlens.models import tflite
from signlens.models.artifact import Artifact
from signlens.errors import ArtifactError
from signlens.paths import DEFAULT_MODEL
from signlens.models.tfjs_import import import_tfjs, is_tfjs_dir



def resolve(ref: str | Path | None, tracking_uri: str | None = None) -> Artifact:
    if isinstance(ref, str) and ref.startswith(("runs:/", "models:/")):
        from signlens.tracking import registry  # mlflow is imported only when a reference needs it

        local, info = registry.download(ref, tracking_uri)
        art = artifact.load(local)
        art.meta.update(info)  # the run id and registry version travel with the loaded model
        return art
    path = Path(ref) if ref is not None else DEFAULT_MODEL
    if path.is_dir() and is_tfjs_dir(path):
        return import_tfjs(path)
    if tflite.is_export(path):
        return tflite.load(path)
    if path.is_dir():
        return artifact.load(path)
    raise ArtifactError(f"{ref}: no such model (expected an artifact directory or a TF.js model directory)")
