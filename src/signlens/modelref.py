"""Resolve what a user names as a model into a loaded Artifact.

Accepted: a signlens artifact directory, or a TF.js layers model directory (the seed's).
"""

from __future__ import annotations

from pathlib import Path

from signlens import artifact
from signlens.artifact import Artifact
from signlens.errors import ArtifactError
from signlens.tfjs_import import import_tfjs, is_tfjs_dir

#: The shipped default model, next to src/ in the repository.
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "default"


def resolve(ref: str | Path | None) -> Artifact:
    path = Path(ref) if ref is not None else DEFAULT_MODEL
    if path.is_dir() and is_tfjs_dir(path):
        return import_tfjs(path)
    if path.is_dir():
        return artifact.load(path)
    raise ArtifactError(f"{ref}: no such model (expected an artifact directory or a TF.js model directory)")
