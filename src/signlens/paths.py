"""Where signlens keeps local state (MLflow store, prediction log, queued runs)."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """$SIGNLENS_HOME, default `.signlens/` in the current directory."""
    return Path(os.environ.get("SIGNLENS_HOME", ".signlens")).resolve()


def prediction_log() -> Path:
    return state_dir() / "predictions.db"
