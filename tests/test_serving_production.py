"""The server in production: A/B split, prediction log and feedback, hot swap, admin security."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import time
from collections import Counter
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from signlens import labels
from signlens.data.fingerprint import file_sha256
from signlens.production.report import variant_stats
from signlens.serving.app import create_app
from signlens.serving.settings import ServeSettings
from tests.synthetic import letter_image

TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def pixels(letter: str, seed: int = 5) -> list[list[int]]:
    return letter_image(labels.index_of_letter(letter), np.random.default_rng(seed)).tolist()


def _copy(src: Path, dst: Path, version: str) -> Path:
    shutil.copytree(src, dst)
    meta = json.loads((dst / "signlens.json").read_text())
    meta["version"] = version
    (dst / "signlens.json").write_text(json.dumps(meta))
    return dst


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, tiny_artifact: Path) -> Path:
    """A model store: champion, challenger, a new champion version, a corrupt and a NaN model."""
    import keras

    root = tmp_path_factory.mktemp("store")
    for name in ("champion", "challenger", "v2"):
        _copy(tiny_artifact, root / name, f"{name}-version")
    # v2: the same weights saved again, so its file (and served version) differs from champion's
    keras.models.load_model(root / "v2" / "model.keras", compile=False).save(root / "v2" / "model.keras")
    assert served_version(root / "v2") != served_version(root / "champion")
    (_copy(tiny_artifact, root / "corrupt", "corrupt") / "model.keras").write_bytes(b"garbage" * 100)
    nan = _copy(tiny_artifact, root / "nan", "nan")
    model = keras.models.load_model(nan / "model.keras", compile=False)
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    model.save(nan / "model.keras")
    return root


def served_version(path: Path) -> str:
    """The version a server reports: the hash of the model file it loaded (signlens.json may say otherwise)."""
    return file_sha256(path / "model.keras")[:12]


def settings(store: Path, log: Path | None, **kw: Any) -> ServeSettings:
    base = dict(models=(("champion", str(store / "champion")), ("challenger", str(store / "challenger"))),
                traffic=(("champion", 70), ("challenger", 30)), prediction_log=log, admin_token=TOKEN,
                model_root=store)
    return ServeSettings(**{**base, **kw})


@asynccontextmanager
async def _client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            yield c


def metric(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


def test_traffic_split_is_weighted_sticky_and_overridable(store: Path, tmp_path: Path) -> None:
    app = create_app(settings(store, None))
    body = {"pixels": pixels("A")}

    async def run() -> None:
        async with _client(app) as c:
            clients = [f"user-{i}" for i in range(600)]
            resps = await asyncio.gather(*[c.post("/v1/predict", json=body, headers={"X-Client-Id": u}) for u in clients])
            first = {u: r.json()["variant"] for u, r in zip(clients, resps)}
            share = Counter(first.values())["challenger"] / len(clients)
            assert abs(share - 0.3) < 0.06, share
            assert all(r.headers["X-Variant"] == r.json()["variant"] == r.json()["model"] for r in resps)
            again = await asyncio.gather(*[c.post("/v1/predict", json=body, headers={"X-Client-Id": u}) for u in clients[:50]])
            assert [r.json()["variant"] for r in again] == [first[u] for u in clients[:50]]  # sticky
            # no id: the server sets a cookie, and the cookie keeps the assignment
            fresh = await c.post("/v1/predict", json=body)
            assert "signlens_client" in fresh.cookies
            later = [await c.post("/v1/predict", json=body) for _ in range(5)]  # the client's jar sends it back
            assert {r.json()["variant"] for r in later} == {fresh.json()["variant"]}
            assert "signlens_client" not in later[0].cookies
            # overrides, for debugging
            champion_user = next(u for u, v in first.items() if v == "champion")
            by_query = await c.post("/v1/predict?model=challenger", json=body, headers={"X-Client-Id": champion_user})
            by_header = await c.post("/v1/predict", json=body, headers={"X-Client-Id": champion_user, "X-Variant": "challenger"})
            assert by_query.json()["variant"] == by_header.json()["variant"] == "challenger"
            assert (await c.post("/v1/predict", json=body, headers={"X-Variant": "nope"})).status_code == 404
            batch = await c.post("/v1/predict/batch", json={"items": [body] * 3}, headers={"X-Client-Id": champion_user})
            assert {p["variant"] for p in batch.json()["predictions"]} == {"champion"}
            text = (await c.get("/metrics")).text
            challenger_requests = Counter(first.values())["challenger"] + sum(
                r.json()["variant"] == "challenger" for r in [*again, fresh, *later, by_query, by_header])
            assert metric(text, 'signlens_variant_requests_total{variant="challenger"}') == challenger_requests
            assert 'signlens_variant_request_seconds_bucket{le="0.5",variant="champion"}' in text
            assert metric(text, 'signlens_recent_mean_confidence{variant="champion"}') > 0.5
            assert 'signlens_recent_low_confidence_rate{variant="challenger"}' in text
            models = (await c.get("/v1/models")).json()
            assert models["traffic"] == {"champion": 70.0, "challenger": 30.0}

    asyncio.run(run())


def test_log_and_feedback_give_per_variant_accuracy(store: Path, tmp_path: Path) -> None:
    from tests.test_serving_api import png_bytes

    log = tmp_path / "log.db"
    with TestClient(create_app(settings(store, log, log_images=True))) as c:
        ids = {}
        for variant, letter in [("champion", "B"), ("champion", "C"), ("champion", "D"), ("challenger", "E"), ("challenger", "F")]:
            r = c.post(f"/v1/predict?model={variant}", json={"pixels": pixels(letter)})
            assert r.json()["letter"] == letter
            ids[letter] = r.json()["id"]
        # feedback right away races the log's 0.2 s flush: the server waits for the row
        for letter, truth in [("B", "b"), ("C", "C"), ("D", "K"), ("E", "E"), ("F", "A")]:
            r = c.post("/v1/feedback", json={"prediction_id": ids[letter], "true_letter": truth})
            assert r.status_code == 200, r.text
            assert r.json()["true_letter"] == truth.upper()
        upload = c.post("/v1/predict", files={"image": ("x.png", png_bytes(np.full((40, 56), 90, np.uint8)), "image/png")})
        assert upload.status_code == 200
        assert c.post("/v1/feedback", json={"prediction_id": "0" * 32, "true_letter": "A"}).json()["error"] == "unknown_prediction"
        for bad in ({"prediction_id": ids["B"], "true_letter": "J"}, {"prediction_id": ids["B"], "true_letter": "AB"}):
            r = c.post("/v1/feedback", json=bad)
            assert (r.status_code, r.json()["error"]) == (422, "bad_letter")
        assert c.post("/v1/feedback", json={"prediction_id": "../x", "true_letter": "A"}).status_code == 422
        metrics = c.get("/metrics").text
    stats = {s.variant: s for s in variant_stats(log)}
    assert (stats["champion"].requests, stats["champion"].feedback, stats["champion"].correct) == (3 + (upload.json()["variant"] == "champion"), 3, 2)
    assert (stats["challenger"].feedback, stats["challenger"].correct) == (2, 1)
    conn = sqlite3.connect(log)
    width, height, brightness, image = conn.execute(
        "SELECT width, height, brightness, image FROM predictions WHERE id = ?", (upload.json()["id"],)).fetchone()
    conn.close()
    assert (width, height) == (56, 40) and len(image) == 28 * 28 and brightness > 0
    assert metric(metrics, "signlens_prediction_log_failures_total") == 0


def test_unavailable_log_never_fails_a_request(store: Path, tmp_path: Path) -> None:
    with TestClient(create_app(settings(store, tmp_path))) as c:  # the "database" is a directory
        for letter in "GHI":
            assert c.post("/v1/predict", json={"pixels": pixels(letter)}).status_code == 200
        deadline = time.monotonic() + 5
        while metric(c.get("/metrics").text, "signlens_prediction_log_failures_total") < 3:
            assert time.monotonic() < deadline, "failures never showed up in /metrics"
            time.sleep(0.05)
        assert metric(c.get("/metrics").text, "signlens_prediction_log_writes_total") == 0
        r = c.post("/v1/feedback", json={"prediction_id": "0" * 32, "true_letter": "A"})
        assert (r.status_code, r.json()["error"]) == (503, "log_unavailable")


def test_hot_swap_under_load_fails_no_request(store: Path) -> None:
    app = create_app(settings(store, None, batch_wait_ms=1))
    body = {"pixels": pixels("L")}

    async def run() -> None:
        async with _client(app) as c:
            done = asyncio.Event()
            statuses: list[int] = []
            versions: list[str] = []

            async def fire() -> None:
                extra = 0
                while extra < 5:  # keep going until a few requests after the swap
                    r = await c.post("/v1/predict?model=champion", json=body)
                    statuses.append(r.status_code)
                    versions.append(r.json().get("version", "?"))
                    extra += done.is_set()

            async def swap() -> httpx.Response:
                await asyncio.sleep(0.05)
                try:
                    return await c.post("/v1/admin/reload", json={"model": "champion", "ref": "v2"}, headers=AUTH)
                finally:
                    done.set()

            *_, reload = await asyncio.wait_for(asyncio.gather(*[fire() for _ in range(8)], swap()), 60)
            assert reload.status_code == 200, reload.text
            v1, v2 = served_version(store / "champion"), served_version(store / "v2")
            assert reload.json() == {"model": "champion", "version": v2, "previous_version": v1}
            assert set(statuses) == {200} and len(statuses) >= 40
            assert versions[0] == v1 and versions[-1] == v2
            after = await c.post("/v1/predict?model=champion", json=body)
            assert after.json()["version"] == v2 and after.json()["letter"] == "L"
            assert 'signlens_model_swaps_total{model="champion",outcome="swapped"} 1.0' in (await c.get("/metrics")).text

    asyncio.run(run())


@pytest.mark.parametrize("ref, reason", [("corrupt", "cannot load model"), ("nan", "smoke prediction"),
                                         ("missing", "no such model")])
def test_unservable_model_is_refused_and_old_keeps_serving(store: Path, ref: str, reason: str) -> None:
    with TestClient(create_app(settings(store, None))) as c:
        r = c.post("/v1/admin/reload", json={"model": "champion", "ref": ref}, headers=AUTH)
        assert (r.status_code, r.json()["error"]) == (422, "model_refused") and reason in r.json()["detail"], r.text
        after = c.post("/v1/predict?model=champion", json={"pixels": pixels("M")})
        assert (after.status_code, after.json()["version"], after.json()["letter"]) == \
            (200, served_version(store / "champion"), "M")
        assert 'signlens_model_swaps_total{model="champion",outcome="refused"} 1.0' in c.get("/metrics").text


def test_admin_needs_the_token_and_refs_stay_in_the_store(store: Path, tiny_artifact: Path, tmp_path: Path) -> None:
    reload = {"model": "champion", "ref": "v2"}
    with TestClient(create_app(settings(store, None, admin_token=None))) as c:
        r = c.post("/v1/admin/reload", json=reload, headers=AUTH)
        assert (r.status_code, r.json()["error"]) == (404, "admin_disabled")
    link = store / "escape"
    link.symlink_to(tiny_artifact, target_is_directory=True)
    try:
        with TestClient(create_app(settings(store, None))) as c:
            r = c.post("/v1/admin/reload", json=reload)
            assert (r.status_code, r.headers["www-authenticate"]) == (401, "Bearer")
            assert c.post("/v1/admin/reload", json=reload, headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
            assert c.put("/v1/admin/traffic", json={"weights": "champion=1"}).status_code == 401
            r = c.post("/v1/admin/reload", json=reload, headers={"Authorization": "Bearer wrong-token-0123456789"})
            assert (r.status_code, r.json()["error"]) == (403, "forbidden")
            for ref in ("../" + tiny_artifact.name, "champion/../../x", str(tiny_artifact), "/etc", "escape"):
                r = c.post("/v1/admin/reload", json={"model": "champion", "ref": ref}, headers=AUTH)
                assert (r.status_code, r.json()["error"]) == (400, "ref_outside_model_store"), ref
            assert c.post("/v1/admin/reload", json={"model": "nope", "ref": "v2"}, headers=AUTH).status_code == 404
            # traffic weights change live
            for bad in ("champion=1,ghost=2", "champion=-1", "nonsense"):
                r = c.put("/v1/admin/traffic", json={"weights": bad}, headers=AUTH)
                assert (r.status_code, r.json()["error"]) == (422, "bad_weights"), bad
            r = c.put("/v1/admin/traffic", json={"weights": "champion=0,challenger=100"}, headers=AUTH)
            assert r.json() == {"weights": {"champion": 0.0, "challenger": 100.0}}
            served = {c.post("/v1/predict", json={"pixels": pixels("N")}, headers={"X-Client-Id": f"u{i}"}).json()["variant"]
                      for i in range(20)}
            assert served == {"challenger"}
    finally:
        link.unlink()


def test_cli_builds_production_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import argparse

    from signlens.cli.serve import build_settings, register
    from signlens.errors import SignlensError

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    monkeypatch.setenv("SIGNLENS_ADMIN_TOKEN", TOKEN)
    args = parser.parse_args(["serve", "champion=default", "challenger=default", "--traffic", "champion=90,challenger=10",
                              "--prediction-log", str(tmp_path / "p.db"), "--log-images", "--model-root", str(tmp_path)])
    s = build_settings(args)
    assert s.traffic == (("champion", 90.0), ("challenger", 10.0)) and s.prediction_log == tmp_path / "p.db"
    assert s.log_images and s.admin_token == TOKEN and s.model_root == tmp_path
    assert build_settings(parser.parse_args(["serve", "--no-prediction-log"])).prediction_log is None
    with pytest.raises(SignlensError):
        build_settings(parser.parse_args(["serve", "--traffic", "ghost=1"]))
    monkeypatch.delenv("SIGNLENS_ADMIN_TOKEN")
    with pytest.raises(SignlensError):
        build_settings(parser.parse_args(["serve", "--admin-token", "short"]))


@pytest.mark.browser
def test_page_sends_feedback_for_the_last_prediction(store: Path, tmp_path: Path) -> None:
    """Keyboard only: upload, tab to the letter select, pick the true letter, submit with Enter."""
    from PIL import Image
    from playwright.sync_api import expect, sync_playwright

    from tests.live_server import live_server
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

    png = tmp_path / "P.png"
    Image.fromarray(np.asarray(pixels("P"), np.uint8)).save(png)
    log = tmp_path / "log.db"
    with live_server(settings(store, log)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(url)
        expect(page.locator("#model-select")).to_have_value("")  # A/B on: the server chooses
        expect(page.locator("#feedback")).to_be_hidden()
        page.set_input_files("#file-input", str(png))
        expect(page.locator("#result-letter")).to_have_text("P", timeout=15_000)
        page.focus("#feedback-letter")
        page.keyboard.press("Q")  # a native select jumps to the typed letter
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.locator("#feedback-status")).to_have_text("Thanks: recorded as Q.", timeout=5_000)
        browser.close()
    stats = variant_stats(log)
    assert sum(s.feedback for s in stats) == 1 and sum(s.correct for s in stats) == 0
