"""Checks on what a user names, made before any heavy library loads.

A mistyped model path or model name should be answered in a fraction of a second, with the name
the user probably meant, not after TensorFlow's 10-second import. These checks are cheap (the
file system and the shipped lists only); a registry reference (`runs:/`, `models:/`) is looked
up later, by the command that needs MLflow anyway.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING

from signlens import paths, spec
from signlens.errors import ArtifactError, SignlensError, did_you_mean

if TYPE_CHECKING:
    from signlens.models.artifact import Artifact

REGISTRY_PREFIXES = ("runs:/", "models:/")


def is_registry_ref(ref: str | None) -> bool:
    return isinstance(ref, str) and ref.startswith(REGISTRY_PREFIXES)


def _display(path: Path) -> str:
    """A path as a user would type it from here: relative when it is under the current directory."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def shipped_models() -> list[str]:
    """The model directories the repository ships (models/default, models/seed-cnn, ...)."""
    root = paths.DEFAULT_MODEL.parent
    return sorted(_display(d) for d in root.iterdir() if d.is_dir()) if root.is_dir() else []


def check_model(ref: str | None) -> None:
    """Refuse a model path that is not there, naming the closest shipped model; registry refs pass."""
    if ref is None or ref == "default" or is_registry_ref(ref):
        return
    path = Path(ref)
    if path.is_dir() or (path.is_file() and path.suffix == ".tflite"):
        return
    hint = did_you_mean(ref.rstrip("/"), ["default", *shipped_models()])
    raise ArtifactError(f"{ref}: no such model (expected an artifact directory or a TF.js model directory){hint}")


def suggest_registered(ref: str, names: list[str]) -> str:
    """For a `models:/NAME@ALIAS` or `models:/NAME/VERSION` ref not found: the ref with the closest
    registered model name, or '' when the name is registered (or nothing is close)."""
    body = ref.removeprefix("models:/")
    name, sep, alias = body.partition("@")
    rest = f"@{alias}" if sep else ""
    if not sep:
        name, _, version = body.rpartition("/")
        rest = f"/{version}"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6) if name and name not in names else []
    return f" (did you mean models:/{close[0]}{rest}?)" if close else ""


def _registered_names(tracking_uri: str | None) -> list[str]:
    from signlens.tracking import store as tracking

    try:
        return [m.name for m in tracking.client(tracking_uri).search_registered_models()]
    except Exception:  # a hint is a courtesy: a store that cannot list names gives none
        return []


def fetch_registered(ref: str, tracking_uri: str | None = None) -> Path:
    """Download a `runs:/` or `models:/` reference's artifact (cached), naming the closest
    registered model when a `models:/` name is not found."""
    from signlens.tracking import registry

    try:
        return registry.download(ref, tracking_uri)[0]
    except SignlensError as exc:
        hint = suggest_registered(ref, _registered_names(tracking_uri)) if ref.startswith("models:/") else ""
        raise SignlensError(f"{exc}{hint}") from None


def resolve(ref: str | None, tracking_uri: str | None = None) -> Artifact:
    """models.resolve.resolve, with a registry reference checked (and suggested) first."""
    from signlens.models.resolve import resolve as resolve_model

    if is_registry_ref(ref):
        fetch_registered(ref, tracking_uri)
    return resolve_model(ref, tracking_uri=tracking_uri)
