"""Teach mode over HTTP: samples in, a registered personal model served out, kept across restarts."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from signlens import labels
from signlens.serving.app import create_app
from signlens.serving.settings import ServeSettings
from tests.synthetic import letter_image

PERSONAL = "ABCD"


def user_png(letter: str, i: int) -> bytes:
    """The user signs letter c the way the training data signs c+6 (as in test_finetune)."""
    pixels = letter_image(labels.index_of_letter(letter) + 6, np.random.default_rng(100 + i))
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def settings(tiny_artifact: Path, tiny_csv: Path, teach_dir: Path | None) -> ServeSettings:
    return ServeSettings(models=(("tiny", str(tiny_artifact)),), teach_dir=teach_dir, teach_anchor=str(tiny_csv),
                         teach_max_per_letter=4, prediction_log=None)


def predicted(client: TestClient, model: str) -> list[str]:
    return [client.post(f"/v1/predict?model={model}", content=user_png(letter, i),
                        headers={"content-type": "image/png"}).json()["letter"]
            for letter in PERSONAL for i in range(3)]


def wait(client: TestClient, job: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get(f"/v1/teach/jobs/{job}").json()
        if info["status"] != "running":
            return info
        time.sleep(0.5)
    raise AssertionError(f"fine-tune job {job} still running after {timeout}s")


def test_teach_session_to_served_registered_personal_model(tmp_path: Path, tiny_artifact: Path, tiny_csv: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import keras
    import tensorflow as tf

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")  # a registry of its own
    # The server's process-wide TensorFlow state must stay as it is while a fine-tune runs in it.
    process_wide: list[str] = []
    monkeypatch.setattr(tf.config.experimental, "enable_op_determinism", lambda: process_wide.append("determinism"))
    monkeypatch.setattr(keras.utils, "set_random_seed", lambda seed: process_wide.append("global seed"))
    expected = [letter for letter in PERSONAL for _ in range(3)]
    with TestClient(create_app(settings(tiny_artifact, tiny_csv, tmp_path / "teach"))) as client:
        before = predicted(client, "tiny")
        session = client.post("/v1/teach/sessions").json()["session"]
        base = f"/v1/teach/sessions/{session}"
        for letter in PERSONAL:
            for i in range(3):
                resp = client.post(f"{base}/samples/{letter.lower()}", content=user_png(letter, i),
                                   headers={"content-type": "image/png"})
                assert resp.status_code == 200, resp.text
        assert resp.json()["letter"] == "D" and resp.json()["input"]["preview_png"]
        assert client.get(base).json()["counts"] == {letter: 3 for letter in PERSONAL}
        assert sorted(p.name for p in (tmp_path / "teach" / session / "samples" / "A").iterdir()) == \
            ["001.png", "002.png", "003.png"]  # an ordinary image folder: `signlens finetune --images` reads it

        job = client.post(f"{base}/finetune", json={"epochs": 12}).json()
        busy = client.post(f"{base}/finetune", json={"epochs": 1})
        assert busy.status_code == 409 and busy.json()["error"] == "finetune_running"
        done = wait(client, job["id"])
        assert done["status"] == "done" and done["epoch"] == 12, done
        assert process_wide == []
        assert done["registered"] == "models:/signlens-personal/1", done
        name = done["model"]
        assert name in [m["name"] for m in client.get("/v1/models").json()["models"]]
        after = predicted(client, name)
    hits = lambda got: sum(g == e for g, e in zip(got, expected))  # noqa: E731
    assert hits(before) <= 3 and hits(after) >= 10, (before, after)

    with TestClient(create_app(settings(tiny_artifact, tiny_csv, tmp_path / "teach"))) as client:
        assert name in [m["name"] for m in client.get("/v1/models").json()["models"]]  # served again
        assert client.get("/readyz").json() == {"status": "ready"}
        assert predicted(client, name) == after


def test_a_fine_tune_interrupted_by_a_crash_runs_again_on_restart(tmp_path: Path, tiny_artifact: Path,
                                                                   tiny_csv: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from signlens.serving.teach_jobs import JOB_FILE

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    teach = tmp_path / "teach"
    with TestClient(create_app(settings(tiny_artifact, tiny_csv, teach))) as client:
        session = client.post("/v1/teach/sessions").json()["session"]
        for letter in "AB":
            client.post(f"/v1/teach/sessions/{session}/samples/{letter}", content=user_png(letter, 0),
                        headers={"content-type": "image/png"})
    # What a server killed mid fine-tune leaves behind: the job file, and no model.
    job_id = "f" * 32
    (teach / session / JOB_FILE).write_text(
        f'{{"id": "{job_id}", "session": "{session}", "base": "tiny", "epochs": 2, "status": "running", "epoch": 1}}')
    with TestClient(create_app(settings(tiny_artifact, tiny_csv, teach))) as client:
        done = wait(client, job_id)  # the same job id the page was polling
        assert done["status"] == "done" and done["epoch"] == 2, done
        assert done["model"] in [m["name"] for m in client.get("/v1/models").json()["models"]]
    assert not (teach / session / JOB_FILE).exists()  # ended: not run a third time


def test_teach_refuses_bad_requests(tmp_path: Path, tiny_artifact: Path, tiny_csv: Path) -> None:
    with TestClient(create_app(settings(tiny_artifact, tiny_csv, tmp_path / "teach"))) as client:
        session = client.post("/v1/teach/sessions").json()["session"]
        base = f"/v1/teach/sessions/{session}"
        png = {"content-type": "image/png"}
        cases = [
            (client.post(f"{base}/finetune", json={}), 422, "no_samples"),
            (client.post(f"{base}/samples/J", content=user_png("A", 0), headers=png), 422, "bad_letter"),
            (client.post(f"{base}/samples/A", content=b"not an image", headers=png), 422, "bad_image"),
            (client.post(f"{base}/samples/A", content=b"{}", headers={"content-type": "application/json"}),
             415, "unsupported_media_type"),
            (client.post(f"/v1/teach/sessions/{'0' * 32}/samples/A", content=user_png("A", 0), headers=png),
             404, "unknown_session"),
            (client.get(f"/v1/teach/jobs/{'0' * 32}"), 404, "unknown_job"),
        ]
        for i in range(4):
            client.post(f"{base}/samples/B", content=user_png("B", i), headers=png)
        cases.append((client.post(f"{base}/samples/B", content=user_png("B", 9), headers=png), 409, "letter_full"))
        cases.append((client.post(f"{base}/finetune", json={"base": "ghost"}), 404, "unknown_model"))
        for resp, status, error in cases:
            assert (resp.status_code, resp.json()["error"]) == (status, error), resp.text
        assert client.delete(f"{base}/samples/B").json()["counts"] == {}

    with TestClient(create_app(settings(tiny_artifact, tiny_csv, None))) as client:
        resp = client.post("/v1/teach/sessions")
        assert (resp.status_code, resp.json()["error"]) == (404, "teach_disabled")


@pytest.mark.parametrize(("host", "flag", "on"), [("127.0.0.1", [], True), ("0.0.0.0", [], False),
                                                  ("0.0.0.0", ["--teach"], True), ("127.0.0.1", ["--no-teach"], False)])
def test_teach_defaults_to_loopback_only(host: str, flag: list[str], on: bool) -> None:
    import argparse

    from signlens.cli.serve import build_settings, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    assert (build_settings(parser.parse_args(["serve", "--host", host, *flag])).teach_dir is not None) == on


def test_a_sample_shows_the_crop_the_fine_tune_will_read(tmp_path: Path, tiny_artifact: Path, tiny_csv: Path) -> None:
    import cv2

    from tests.test_locate import frame_with_hand, on_the_hand

    frame = frame_with_hand(420, 250, colour=(90, 100, 110))
    cv2.ellipse(frame, (320, 200), (110, 150), 0, 0, 360, (200, 150, 120), -1)  # the user's face, in view
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, "PNG")
    with TestClient(create_app(settings(tiny_artifact, tiny_csv, tmp_path / "teach"))) as client:
        session = client.post("/v1/teach/sessions").json()["session"]
        resp = client.post(f"/v1/teach/sessions/{session}/samples/L", content=buf.getvalue(),
                           headers={"content-type": "image/png"})
    assert resp.status_code == 200, resp.text
    shown = resp.json()["input"]
    assert shown["hand_found"] and on_the_hand(tuple(shown["box"]), 420, 250), shown["box"]  # the hand, not the face
