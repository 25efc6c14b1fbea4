"""register -> promote -> serve: `signlens serve` takes every reference `resolve` takes (issue 18, item 12)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from signlens.cli.main import main
from signlens.cli.serve import build_settings, parse_models, register
from signlens.errors import SignlensError
from signlens.tracking import store as tracking
from tests.synthetic import letter_image


def _logged_run(store: str, art: Path) -> str:
    """A finished MLflow run holding `art` where training would have put it."""
    c = tracking.client(store)
    run = c.create_run(tracking.experiment_id(c, "serve-test"))
    c.log_artifacts(run.info.run_id, str(art), tracking.ARTIFACT_PATH)
    c.set_terminated(run.info.run_id)
    return run.info.run_id


def _png(letter_index: int) -> bytes:
    """A 28×28 grid: the model's own input, so the answer does not hang on finding a hand in a photo."""
    buf = io.BytesIO()
    Image.fromarray(letter_image(letter_index, np.random.default_rng(5))).save(buf, format="PNG")
    return buf.getvalue()


def test_registry_refs_are_model_specs() -> None:
    assert parse_models(["mine=models:/signlens-asl@champion", "r=runs:/0123abcd/artifact"]) == (
        ("mine", "models:/signlens-asl@champion"), ("r", "runs:/0123abcd/artifact"))
    assert parse_models(["models:/signlens-asl@champion"]) == (
        ("signlens-asl-champion", "models:/signlens-asl@champion"),)
    with pytest.raises(SignlensError, match="no such model directory"):
        parse_models(["mine=models/no-such-model"])


def test_register_promote_serve(tmp_path: Path, tiny_artifact: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)  # the server resolves refs in this store
    run_id = _logged_run(store, tiny_artifact)
    assert main(["models", "register", run_id, "--tracking-uri", store]) == 0
    assert main(["models", "promote", "1", "--alias", "champion", "--tracking-uri", store]) == 0
    capsys.readouterr()

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["serve", "mine=models:/signlens-asl@champion", f"r=runs:/{run_id}/artifact",
                              "--no-prediction-log"])
    from signlens.serving.app import create_app

    with TestClient(create_app(build_settings(args))) as client:
        assert [m["name"] for m in client.get("/v1/models").json()["models"]] == ["mine", "r"]
        for name in ("mine", "r"):
            resp = client.post(f"/v1/predict?model={name}", files={"image": ("b.png", _png(1), "image/png")})
            assert resp.status_code == 200, resp.text
            assert resp.json()["letter"] == "B" and resp.json()["model"] == name

    # a mistyped registered name is refused before the server starts, with the name meant
    assert main(["serve", "x=models:/signlens-as@champion"]) == 2
    assert "did you mean models:/signlens-asl@champion?" in capsys.readouterr().err
