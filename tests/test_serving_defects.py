"""Server defects found by fuzzing (issue 18), each kept as a reproduction that failed before its fix."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from signlens import labels
from signlens.data.fingerprint import file_sha256
from signlens.serving.app import create_app
from signlens.serving.settings import ServeSettings
from tests.serving_support import assert_responsive, synthetic_examples
from tests.live_server import live_server
from tests.synthetic import letter_image

TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PNG = {"content-type": "image/png"}


def grid(letter: str) -> list[list[int]]:
    return letter_image(labels.index_of_letter(letter), np.random.default_rng(3)).tolist()


def encoded(fmt: str, side: int = 64) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((side, side, 3), 90, np.uint8)).save(buf, fmt)
    return buf.getvalue()


def _edit_last_layer(src: Path, dst: Path, edit: Any) -> Path:
    """A copy of an artifact whose output layer's (kernel, bias) went through `edit`."""
    import keras

    shutil.copytree(src, dst)
    model = keras.models.load_model(dst / "model.keras", compile=False)
    dense = [layer for layer in model.layers if layer.get_weights()][-1]
    dense.set_weights(edit(*dense.get_weights()))
    model.save(dst / "model.keras")
    return dst


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, tiny_artifact: Path) -> Path:
    """Known letters the tiny model reads, and models that load fine but must not be served."""
    root = tmp_path_factory.mktemp("store")
    synthetic_examples(root / "known")
    shutil.copytree(tiny_artifact, root / "good")
    # all-zero output weights: finite, valid, and the same probabilities for every image
    _edit_last_layer(tiny_artifact, root / "constant", lambda k, b: [np.zeros_like(k), b])
    # outputs shifted by one letter: confident, image-dependent, and wrong on every known letter
    _edit_last_layer(tiny_artifact, root / "shifted", lambda k, b: [np.roll(k, 1, axis=1), np.roll(b, 1)])
    tampered = root / "tampered"  # new weights under the old signlens.json, version included
    _edit_last_layer(tiny_artifact, tampered, lambda k, b: [k * 1.01, b])
    return root


def settings(store: Path, **kw: Any) -> ServeSettings:
    base = dict(models=(("main", str(store / "good")),), prediction_log=None, admin_token=TOKEN, model_root=store,
                known_examples=store / "known", teach_dir=None)
    return ServeSettings(**{**base, **kw})


@pytest.fixture(scope="module")
def client(store: Path) -> TestClient:
    with TestClient(create_app(settings(store, max_upload_bytes=300_000))) as c:
        yield c


@pytest.mark.parametrize("path", ["/v1/predict", "/v1/predict/batch", "/v1/feedback", "/v1/admin/reload"])
def test_deeply_nested_json_is_refused_not_a_server_error(client: TestClient, path: str) -> None:
    body = b'{"pixels": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    r = client.post(path, content=body, headers={"content-type": "application/json", **AUTH})
    assert 400 <= r.status_code < 500 and r.json()["detail"], r.text


@pytest.mark.parametrize("pixels", [True, "1", [True] * 784, ["1"] * 784, [[True] * 28] * 28])
def test_pixels_must_be_json_numbers(client: TestClient, pixels: Any) -> None:
    r = client.post("/v1/predict", json={"pixels": pixels})
    assert r.status_code == 422 and r.json()["error"] == "bad_json", r.text


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO"])
def test_other_image_formats_are_refused_naming_the_accepted_ones(client: TestClient, fmt: str) -> None:
    data = encoded(fmt)
    answers = [client.post("/v1/predict", content=data, headers=PNG),
               client.post("/v1/predict", files={"image": ("x.png", data, "image/png")}),
               client.post("/v1/predict", json={"image": base64.b64encode(data).decode()}),
               client.post("/v1/predict/batch", files=[("images", ("x.png", data, "image/png"))])]
    for r in answers:
        assert (r.status_code, r.json()["error"]) == (415, "unsupported_image_format"), r.text
        assert "png, jpeg or webp" in r.json()["detail"] and fmt in r.json()["detail"]


def test_an_image_over_the_photo_pixel_limit_is_refused(client: TestClient) -> None:
    """4000×4000 (16 MP) once passed and cost ~200 MB per request; photos are read far smaller."""
    r = client.post("/v1/predict", content=encoded("PNG", side=4000), headers=PNG)
    assert (r.status_code, r.json()["error"]) == (422, "bad_image") and "pixel limit" in r.json()["detail"]


def test_a_wrong_method_keeps_its_allow_header(client: TestClient) -> None:
    r = client.delete("/v1/predict")
    assert r.status_code == 405 and r.headers["allow"] == "POST" and r.json()["error"] == "http_error"


@pytest.mark.parametrize("ref", ["good\x00", "\x00", "models:/x\x00"])
def test_a_nul_byte_in_a_reload_ref_is_a_4xx(client: TestClient, ref: str) -> None:
    r = client.post("/v1/admin/reload", json={"model": "main", "ref": ref}, headers=AUTH)
    assert r.status_code == 422 and r.json()["error"] == "invalid_request", r.text


@pytest.mark.parametrize("ref, reason", [("constant", "same answer whatever the image"),
                                         ("shifted", "known examples right")])
def test_hot_swap_refuses_a_model_that_misreads_known_letters(client: TestClient, ref: str, reason: str) -> None:
    before = client.post("/v1/predict", json={"pixels": grid("K")}).json()
    r = client.post("/v1/admin/reload", json={"model": "main", "ref": ref}, headers=AUTH)
    assert (r.status_code, r.json()["error"]) == (422, "model_refused") and reason in r.json()["detail"], r.text
    after = client.post("/v1/predict", json={"pixels": grid("K")}).json()
    assert (after["letter"], after["version"]) == ("K", before["version"])


def test_a_model_that_answers_the_same_to_everything_is_not_served_at_start(store: Path) -> None:
    with pytest.raises(ValueError, match="same answer"):
        with TestClient(create_app(settings(store, models=(("main", str(store / "constant")),)))):
            pass


def test_the_served_version_is_the_hash_of_what_was_loaded(client: TestClient, store: Path) -> None:
    claimed = json.loads((store / "tampered" / "signlens.json").read_text())["version"]
    r = client.post("/v1/admin/reload", json={"model": "main", "ref": "tampered"}, headers=AUTH)
    try:
        assert r.status_code == 200, r.text
        loaded = file_sha256(store / "tampered" / "model.keras")[:12]
        assert r.json()["version"] == loaded != claimed
        assert client.post("/v1/predict", json={"pixels": grid("B")}).json()["version"] == loaded
        assert {m["version"] for m in client.get("/v1/models").json()["models"]} == {loaded}
    finally:
        assert client.post("/v1/admin/reload", json={"model": "main", "ref": "good"}, headers=AUTH).status_code == 200


def test_parallel_uploads_to_one_letter_lose_no_sample(store: Path, tmp_path: Path) -> None:
    """40 at once, 30 allowed: every 200 is a file on disk, and the limit holds."""
    png = io.BytesIO()
    Image.fromarray(letter_image(0, np.random.default_rng(0))).resize((96, 96)).save(png, "PNG")
    app = create_app(settings(store, teach_dir=tmp_path / "teach", teach_max_per_letter=30))

    async def run() -> list[int]:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                session = (await c.post("/v1/teach/sessions")).json()["session"]
                sends = [c.post(f"/v1/teach/sessions/{session}/samples/A", content=png.getvalue(), headers=PNG)
                         for _ in range(40)]
                codes = [r.status_code for r in await asyncio.gather(*sends)]
                on_disk = len(list((tmp_path / "teach" / session / "samples" / "A").glob("*.png")))
                assert codes.count(200) == on_disk == 30 and codes.count(409) == 10, (codes, on_disk)
                return codes

    asyncio.run(run())


def test_teach_sessions_are_bounded(store: Path, tmp_path: Path) -> None:
    png = io.BytesIO()
    Image.fromarray(letter_image(0, np.random.default_rng(0))).save(png, "PNG")
    with TestClient(create_app(settings(store, teach_dir=tmp_path / "teach", teach_max_sessions=3))) as c:
        for _ in range(10):  # unused sessions make room for new ones
            assert c.post("/v1/teach/sessions").status_code == 201
        assert len(list((tmp_path / "teach").iterdir())) == 3
        for session in [p.name for p in (tmp_path / "teach").iterdir()]:
            r = c.post(f"/v1/teach/sessions/{session}/samples/B", content=png.getvalue(), headers=PNG)
            assert r.status_code == 200, r.text
        r = c.post("/v1/teach/sessions")  # every session holds a user's samples: none is thrown away
        assert (r.status_code, r.json()["error"]) == (429, "too_many_sessions")
        assert len(list((tmp_path / "teach").iterdir())) == 3


def _healthz_while(url: str, hostile: Any) -> tuple[list[float], list[int]]:
    """Probe /healthz every 20 ms while `hostile(client)` runs in other threads; (latencies, their statuses)."""
    statuses: list[int] = []
    done = threading.Event()

    def attack() -> None:
        try:
            with httpx.Client(base_url=url, timeout=60) as c:
                statuses.extend(hostile(c))
        finally:
            done.set()

    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=10) as probe:
        probe.get("/healthz")  # connection open before timing
        thread = threading.Thread(target=attack)
        thread.start()
        time.sleep(0.05)
        while not done.is_set():
            start = time.perf_counter()
            assert probe.get("/healthz").status_code == 200
            latencies.append(time.perf_counter() - start)
            time.sleep(0.02)
        thread.join()
    return latencies, statuses


def test_healthz_answers_fast_while_hostile_bodies_are_handled(store: Path) -> None:
    """An 8 MB JSON of numbers once froze the server for 16 s; big photos decode off the loop."""
    numbers = b'{"pixels": [' + b"0," * 3_500_000 + b"0]}"
    photo = encoded("PNG", side=2800)  # 7.8 MP: inside the limit

    def hostile(c: httpx.Client) -> list[int]:
        codes = [c.post("/v1/predict", content=numbers, headers={"content-type": "application/json"}).status_code]
        threads = [threading.Thread(target=lambda: codes.append(c.post("/v1/predict", content=photo,
                                                                       headers=PNG).status_code)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return codes

    with live_server(settings(store)) as url:
        latencies, statuses = _healthz_while(url, hostile)
    assert statuses[0] == 413 and sorted(statuses[1:]) == [200] * 4, statuses
    assert_responsive([t * 1000 for t in latencies])
