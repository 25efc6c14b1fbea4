"""A frame with no hand answers "no hand" — in Predictor, the CLI, the batch CSV, the API and the
page — while hand photos and 28×28 grids (hands by definition) keep their letters."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from signlens.inference import batch
from signlens.inference.predictor import Predictor
from signlens.models import artifact
from tests import nonhands
from tests.hands import example, photo_png


def _save(image: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)
    return path


def test_predictor_tells_hands_from_non_hands(shared_headed_artifact: Path) -> None:
    predictor = Predictor(artifact.load(shared_headed_artifact))
    chart, noise = nonhands.make("bar chart", 0), nonhands.make("noise", 0)
    answers = predictor.predict([chart, noise, photo_png("L"), example("L"), np.asarray(noise[:28, :28, 0])])
    assert [p.hand for p in answers] == [False, False, True, True, True]  # a 28×28 grid is always a hand
    assert all(p.letter and 0 < p.confidence <= 1 for p in answers)  # `letter` stays present


def test_cli_and_batch_csv_say_no_hand(shared_headed_artifact: Path, tmp_path: Path, capsys) -> None:
    from signlens.cli.main import main

    chart = _save(nonhands.make("bar chart", 1), tmp_path / "in" / "X" / "chart.png")
    hand = tmp_path / "in" / "L" / "hand.png"
    hand.parent.mkdir(parents=True)
    hand.write_bytes(photo_png("L"))
    assert main(["predict", str(shared_headed_artifact), str(chart), str(hand)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{chart}: no hand" and "no hand" not in out[1] and "top-3" in out[1]
    batch.run(Predictor(artifact.load(shared_headed_artifact)), tmp_path / "in", tmp_path / "out.csv", progress=False)
    with open(tmp_path / "out.csv", newline="") as f:
        rows = {row["id"]: row for row in csv.DictReader(f)}
    assert rows["X/chart.png"]["hand"] == "0" and rows["L/hand.png"]["hand"] == "1"


def test_the_api_answers_hand_false(shared_headed_artifact: Path) -> None:
    from fastapi.testclient import TestClient

    from signlens.serving.app import create_app
    from signlens.serving.schemas import PredictResponse
    from signlens.serving.settings import ServeSettings

    with TestClient(create_app(ServeSettings(models=(("headed", str(shared_headed_artifact)),)))) as client:
        chart = client.post("/v1/predict", content=nonhands.png(nonhands.make("bar chart", 2)),
                            headers={"content-type": "image/png"})
        grid = client.post("/v1/predict", json={"pixels": example("L").tolist()})
    assert chart.status_code == grid.status_code == 200
    PredictResponse.model_validate(chart.json())
    assert chart.json()["hand"] is False and chart.json()["letter"] in chart.json()["probabilities"]
    assert grid.json()["hand"] is True


@pytest.mark.browser
def test_the_page_says_no_hand(shared_headed_artifact: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from signlens.serving.settings import ServeSettings
    from tests.live_server import live_server
    from tests.test_browser import _browser

    chart = _save(nonhands.make("bar chart", 3), tmp_path / "chart.png")
    with live_server(ServeSettings(models=(("headed", str(shared_headed_artifact)),))) as url, sync_playwright() as p:
        browser = _browser(p, [])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.set_input_files("#file-input", str(chart))
        expect(page.locator("#result-confidence")).to_contain_text("No hand", timeout=15_000)
        expect(page.locator("#result-letter")).to_have_text("–")
        browser.close()
    assert not errors
