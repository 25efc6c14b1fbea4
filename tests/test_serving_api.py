"""REST API: every endpoint, every kind of bad input (4xx JSON with a reason, never 5xx)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from signlens import labels
from signlens.serving.app import create_app
from signlens.serving.schemas import BatchResponse, PredictResponse
from signlens.serving.settings import ServeSettings
from tests.synthetic import letter_image


def png_bytes(pixels: np.ndarray, size: int | None = None) -> bytes:
    img = Image.fromarray(pixels)
    if size:
        img = img.resize((size, size), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def letter_pixels(letter: str, seed: int = 5) -> np.ndarray:
    return letter_image(labels.index_of_letter(letter), np.random.default_rng(seed))


@pytest.fixture(scope="module")
def client(tiny_artifact: Path) -> TestClient:
    settings = ServeSettings(models=(("tiny", str(tiny_artifact)), ("twin", str(tiny_artifact))),
                             max_upload_bytes=300_000, max_batch_images=8)
    with TestClient(create_app(settings)) as c:
        yield c


def assert_error(resp: httpx.Response, status: int, error: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == error and body["detail"], body


def test_health_ready_models(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    models = client.get("/v1/models").json()
    assert models["default"] == "tiny"
    assert [m["name"] for m in models["models"]] == ["tiny", "twin"]
    assert models["letters"] == list(labels.LETTERS)
    assert 0 < models["fingerspelling"]["confidence"] <= 1


@pytest.mark.parametrize("letter", ["A", "H", "Y"])
def test_predict_upload_multipart(client: TestClient, letter: str) -> None:
    resp = client.post("/v1/predict", files={"image": ("x.png", png_bytes(letter_pixels(letter)), "image/png")})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["letter"] == letter
    assert set(body["probabilities"]) == set(labels.LETTERS)
    assert abs(sum(body["probabilities"].values()) - 1) < 1e-3
    assert body["model"] == "tiny" and len(body["id"]) == 32 and body["latency_ms"] > 0
    preview = Image.open(io.BytesIO(base64.b64decode(body["input"]["preview_png"])))
    assert preview.size == (28, 28)
    PredictResponse.model_validate(body)  # the answer is built by hand: it must match the documented schema
    assert body["input"]["box"] == [0, 0, 28, 28]


def test_predict_photo_sized_upload_goes_through_preprocess(client: TestClient) -> None:
    """A bigger image is cropped and resized by the one preprocess; the preview shows the result."""
    rgb = np.stack([np.kron(letter_pixels("D"), np.ones((8, 10), np.uint8))] * 3, axis=-1)  # 224×280
    resp = client.post("/v1/predict", files={"image": ("p.png", png_bytes(rgb), "image/png")})
    assert resp.status_code == 200, resp.text
    assert resp.json()["input"]["box"] != [0, 0, 28, 28]  # cropped from the 280×224 source, not passed through
    assert Image.open(io.BytesIO(base64.b64decode(resp.json()["input"]["preview_png"]))).size == (28, 28)


def test_predict_raw_jpeg_base64_and_pixels_agree(client: TestClient) -> None:
    pixels = letter_pixels("K")
    raw = client.post("/v1/predict?model=twin", content=png_bytes(pixels), headers={"content-type": "image/png"})
    b64 = client.post("/v1/predict", json={"image": "data:image/png;base64," + base64.b64encode(png_bytes(pixels)).decode()})
    flat = client.post("/v1/predict", json={"pixels": pixels.reshape(-1).tolist()})
    rows = client.post("/v1/predict", json={"pixels": pixels.tolist()})
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=95)
    jpeg = client.post("/v1/predict", content=buf.getvalue(), headers={"content-type": "image/jpeg"})
    bodies = [r.json() for r in (raw, b64, flat, rows, jpeg)]
    assert [b["letter"] for b in bodies] == ["K"] * 5
    assert bodies[0]["model"] == "twin"
    assert bodies[1]["probabilities"] == pytest.approx(bodies[2]["probabilities"], abs=1e-6)


def test_batch_json_and_multipart(client: TestClient) -> None:
    word = "SIGN"
    items = [{"pixels": letter_pixels(c).tolist()} for c in word]
    resp = client.post("/v1/predict/batch", json={"items": items})
    assert resp.status_code == 200, resp.text
    assert "".join(p["letter"] for p in resp.json()["predictions"]) == word
    BatchResponse.model_validate(resp.json())
    files = [("images", (f"{c}.png", png_bytes(letter_pixels(c)), "image/png")) for c in word]
    resp = client.post("/v1/predict/batch", files=files)
    assert "".join(p["letter"] for p in resp.json()["predictions"]) == word


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (5000, 5000)).save(buf, "PNG")  # 25 Mpx, a few kB on the wire
    return buf.getvalue()


BAD_INPUTS = [
    ("wrong content type", dict(content=b"hello", headers={"content-type": "text/plain"}), 415, "unsupported_media_type"),
    ("no content type", dict(content=b"hello"), 415, "unsupported_media_type"),
    ("empty raw body", dict(content=b"", headers={"content-type": "image/png"}), 400, "empty_body"),
    ("empty json body", dict(content=b"", headers={"content-type": "application/json"}), 400, "empty_body"),
    ("not an image", dict(content=b"GIF89a nonsense", headers={"content-type": "image/png"}), 422, "bad_image"),
    ("truncated png", dict(content=png_bytes(letter_pixels("B"), 64)[:120], headers={"content-type": "image/png"}), 422, "bad_image"),
    ("decompression bomb", dict(content=_bomb(), headers={"content-type": "image/png"}), 422, "bad_image"),
    ("oversize upload", dict(content=b"\x89PNG" + bytes(400_000), headers={"content-type": "image/png"}), 413, "too_large"),
    ("invalid json", dict(content=b"{nope", headers={"content-type": "application/json"}), 400, "bad_json"),
    ("json neither field", dict(json={}), 422, "bad_json"),
    ("json both fields", dict(json={"image": "AAAA", "pixels": [0] * 784}), 422, "bad_json"),
    ("json unknown field", dict(json={"img": "AAAA"}), 422, "bad_json"),
    ("bad base64", dict(json={"image": "not base64!!"}), 422, "bad_base64"),
    ("base64 of garbage", dict(json={"image": base64.b64encode(b"garbage").decode()}), 422, "bad_image"),
    ("empty base64", dict(json={"image": ""}), 400, "empty_image"),
    ("wrong pixel count", dict(json={"pixels": [0] * 783}), 422, "bad_pixel_count"),
    ("wrong pixel shape", dict(json={"pixels": [[0] * 28] * 27 + [[0] * 29]}), 422, "bad_pixels"),
    ("pixels 27x29", dict(json={"pixels": [[0] * 29] * 27}), 422, "bad_pixel_count"),
    ("pixel out of range", dict(json={"pixels": [0] * 783 + [256]}), 422, "bad_pixel_range"),
    ("negative pixel", dict(json={"pixels": [-1] + [0] * 783}), 422, "bad_pixel_range"),
    ("pixel not a number", dict(json={"pixels": ["x"] * 784}), 422, "bad_json"),
    ("multipart without image", dict(files={"other": ("a.png", b"x", "image/png")}), 422, "missing_file"),
    ("multipart two images", dict(files=[("image", ("a.png", b"x", "image/png"))] * 2), 422, "too_many_files"),
    ("multipart broken", dict(content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data; boundary=x"}), 422, "missing_file"),
]


@pytest.mark.parametrize("case, kwargs, status, error", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_predict_bad_input(client: TestClient, case: str, kwargs: dict, status: int, error: str) -> None:
    assert_error(client.post("/v1/predict", **kwargs), status, error)


def test_oversize_streamed_without_content_length(client: TestClient) -> None:
    def chunks():
        for _ in range(10):
            yield bytes(50_000)

    assert_error(client.post("/v1/predict", content=chunks(), headers={"content-type": "image/png"}), 413, "too_large")


def test_batch_bad_input(client: TestClient) -> None:
    assert_error(client.post("/v1/predict/batch", json={"items": []}), 422, "bad_json")
    assert_error(client.post("/v1/predict/batch", json={"items": [{"pixels": [0] * 784}] * 9}), 413, "too_many_images")
    assert_error(client.post("/v1/predict/batch", json={"items": [{"pixels": [0] * 784}, {"pixels": [1]}]}), 422, "bad_pixel_count")
    assert_error(client.post("/v1/predict/batch", content=b"x", headers={"content-type": "image/png"}), 415, "unsupported_media_type")


def test_unknown_model_and_bad_query(client: TestClient) -> None:
    assert_error(client.post("/v1/predict?model=nope", json={"pixels": [0] * 784}), 404, "unknown_model")
    assert client.get("/v1/nothing").status_code == 404


def test_metrics_count_requests_predictions_errors(client: TestClient) -> None:
    client.post("/v1/predict", json={"pixels": letter_pixels("C").tolist()})
    client.post("/v1/predict", content=b"", headers={"content-type": "image/png"})
    text = client.get("/metrics").text
    assert 'signlens_predictions_total{letter="C",model="tiny"}' in text
    assert 'signlens_request_errors_total{reason="empty_body"}' in text
    assert "signlens_http_requests_total{method=\"POST\",route=\"/v1/predict\",status=\"200\"}" in text, [l for l in text.splitlines() if "requests_total" in l]
    assert "signlens_http_request_seconds_bucket" in text and "signlens_batch_size_bucket" in text


def test_page_and_static_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/v1/predict", "/v1/predict/batch", "/v1/models", "/healthz", "/readyz", "/metrics"} <= set(spec["paths"])


def test_concurrent_requests_are_micro_batched(tiny_artifact: Path) -> None:
    """Many requests at once share model calls and all get their own right answer."""
    app = create_app(ServeSettings(models=(("tiny", str(tiny_artifact)),), batch_wait_ms=5))
    word = "ABCDEFGHIKLMNOPQRSTUVWXY" * 2

    async def run() -> list[str]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                await c.post("/v1/predict", json={"pixels": letter_pixels("A").tolist()})  # last batch: size 1
                resps = await asyncio.gather(*[
                    c.post("/v1/predict", json={"pixels": letter_pixels(ch, seed=i).tolist()}) for i, ch in enumerate(word)])
                metrics = (await c.get("/metrics")).text
        calls = [line for line in metrics.splitlines() if line.startswith("signlens_batch_size_count")]
        n_calls = float(calls[0].split()[-1])
        assert n_calls < 1 + len(word) / 2, metrics  # far fewer model calls than requests
        return [r.json()["letter"] for r in resps]

    assert "".join(asyncio.run(run())) == word


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        ServeSettings(models=())
    with pytest.raises(ValueError):
        ServeSettings(models=(("a", None), ("a", None)))


def test_cli_model_specs(tmp_path: Path) -> None:
    from signlens.cli.serve import parse_models
    from signlens.errors import SignlensError

    (tmp_path / "cnn").mkdir()
    assert parse_models([]) == (("default", None),)
    assert parse_models(["default", f"seed={tmp_path / 'cnn'}", str(tmp_path / "cnn")]) == (
        ("default", None), ("seed", str(tmp_path / "cnn")), ("cnn", str(tmp_path / "cnn")))
    for bad in (["x=/no/such/dir"], ["a b=default"], ["default", "default=default"]):
        with pytest.raises(SignlensError):
            parse_models(bad)
