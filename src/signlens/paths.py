"""Where things are: the repository's shipped files, local state, and every environment variable
signlens reads. The only module that looks up the repository root or reads the environment."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository (or source checkout) that holds src/, models/ and data/.
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The shipped default model.
DEFAULT_MODEL = REPO_ROOT / "models" / "default"
#: Files shipped inside the package (the hand-landmark model and its licence).
ASSETS_DIR = Path(__file__).resolve().parent / "assets"


def state_dir() -> Path:
    """$SIGNLENS_HOME, default `.signlens/` in the current directory."""
    return Path(os.environ.get("SIGNLENS_HOME", ".signlens")).resolve()


def prediction_log() -> Path:
    return state_dir() / "predictions.db"


def embedded_data_dir() -> Path:
    """The vendored Sign-MNIST ($SIGNLENS_DATA_DIR overrides it), shipped next to src/."""
    return Path(os.environ.get("SIGNLENS_DATA_DIR", REPO_ROOT / "data" / "sign-mnist"))


def cache_dir() -> Path:
    """$SIGNLENS_CACHE, default ~/.cache/signlens: decoded datasets, downloaded run artifacts."""
    return Path(os.environ.get("SIGNLENS_CACHE", Path.home() / ".cache" / "signlens"))


def tracking_uri_from_env() -> str | None:
    return os.environ.get("MLFLOW_TRACKING_URI") or None


def redis_url() -> str:
    return os.environ.get("SIGNLENS_REDIS", "redis://127.0.0.1:6379/0")


def admin_token_from_env() -> str | None:
    return os.environ.get("SIGNLENS_ADMIN_TOKEN") or None


def ray_address_from_env() -> str | None:
    """RAY_ADDRESS: the Ray cluster `signlens sweep` and `predict --ray` use instead of a local one."""
    return os.environ.get("RAY_ADDRESS") or None
