"""The house rules of docs/architecture.md that a test can check: what each room may import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _imported_by(module: str) -> set[str]:
    """Every module a fresh interpreter has loaded after importing `module`."""
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("leaf", ["signlens.errors", "signlens.labels", "signlens.paths", "signlens.spec"])
def test_leaves_import_neither_tensorflow_nor_opencv(leaf: str) -> None:
    loaded = _imported_by(leaf)
    assert not {"tensorflow", "keras", "cv2"} & loaded


def test_the_artifact_code_loads_no_opencv_and_no_training() -> None:
    loaded = _imported_by("signlens.models.artifact")
    assert "cv2" not in loaded
    assert not [m for m in loaded if m.startswith("signlens.training")]


def test_the_predictor_imports_nothing_from_training() -> None:
    loaded = _imported_by("signlens.inference.predictor")
    assert not [m for m in loaded if m.startswith("signlens.training")]
