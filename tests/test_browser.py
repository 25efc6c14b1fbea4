"""End to end in headless Chromium: upload a known letter; live-spell letters from a fake camera.

The fake camera plays a y4m video made here from synthetic letter images, so the tiny test model
(trained on the same synthetic letters) must read them back as the letters they are.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, expect, sync_playwright

from signlens import labels
from signlens.serving.settings import ServeSettings
from tests.hands import photo_png
from tests.live_server import live_server
from tests.synthetic import letter_image

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def letter_pixels(letter: str, seed: int = 3) -> np.ndarray:
    return letter_image(labels.index_of_letter(letter), np.random.default_rng(seed), noise=4.0)


def write_y4m(path: Path, frames: list[np.ndarray], fps: int) -> Path:
    """Grayscale frames -> a 4:2:0 y4m video. Luma uses video range (16..235), as Chromium expects."""
    h, w = frames[0].shape
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        chroma = bytes([128]) * ((w // 2) * (h // 2) * 2)
        for frame in frames:
            luma = np.rint(16 + frame.astype(np.float64) * 219 / 255).astype(np.uint8)
            f.write(b"FRAME\n" + luma.tobytes() + chroma)
    return path


@pytest.fixture(scope="module")
def server_url(tiny_artifact: Path) -> Iterator[str]:
    with live_server(ServeSettings(models=(("tiny", str(tiny_artifact)),), hold_ms=300)) as url:
        yield url


def _browser(playwright, extra_args: list[str]) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + extra_args)


def test_upload_shows_prediction_preview_and_chart(server_url: str, tmp_path: Path) -> None:
    png = tmp_path / "H.png"
    Image.fromarray(letter_pixels("H")).save(png)
    with sync_playwright() as p:
        browser = _browser(p, [])
        page = browser.new_page(viewport={"width": 390, "height": 844})  # phone-sized
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server_url)
        expect(page.locator("#model-select option")).to_have_count(1)
        page.set_input_files("#file-input", str(png))
        expect(page.locator("#result-letter")).to_have_text("H", timeout=15_000)
        expect(page.locator("#chart rect")).to_have_count(24)
        expect(page.locator("#chart rect.top")).to_have_attribute("data-letter", "H")
        expect(page.locator("#preview")).to_be_visible()
        expect(page.locator("#alphabet li")).to_have_count(24)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "upload-phone.png"), full_page=True)
        browser.close()
    assert not errors


def test_a_hand_photo_shows_the_skeleton_the_head_read(headed_artifact: Path, tmp_path: Path) -> None:
    photo = tmp_path / "V.png"
    photo.write_bytes(photo_png("V"))
    with live_server(ServeSettings(models=(("headed", str(headed_artifact)),))) as url, sync_playwright() as p:
        browser = _browser(p, [])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.set_input_files("#file-input", str(photo))
        expect(page.locator("#result-meta")).to_contain_text("hand landmarks read", timeout=15_000)
        expect(page.locator("#source")).to_have_attribute("data-landmarks", "21")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "hand-skeleton.png"), full_page=True)
        browser.close()
    assert not errors


def test_live_mode_spells_letters_from_fake_camera(server_url: str, tmp_path: Path) -> None:
    fps = 10
    frames = [letter_pixels("H")] * 15 + [letter_pixels("I")] * 15
    video = write_y4m(tmp_path / "hi.y4m", frames, fps)
    with sync_playwright() as p:
        browser = _browser(p, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                               f"--use-file-for-fake-video-capture={video}"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(server_url)
        expect(page.locator("#model-select option")).to_have_count(1)
        page.focus("#camera-start")  # keyboard only from here
        page.keyboard.press("Enter")
        expect(page.locator("#live-toggle")).to_be_enabled(timeout=15_000)
        page.focus("#live-toggle")
        page.keyboard.press("Enter")
        expect(page.locator("#spelled")).to_have_value(re.compile(r"^(?=.*H)(?=.*I)[HI]+$"), timeout=20_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "live-fingerspelling.png"), full_page=True)
        page.click("#live-toggle")
        page.click("#clear")
        expect(page.locator("#spelled")).to_have_value("")
        browser.close()


def test_teach_mode_captures_samples_and_trains_a_personal_model(tiny_artifact: Path, tiny_csv: Path,
                                                                 tmp_path: Path) -> None:
    video = write_y4m(tmp_path / "b.y4m", [letter_pixels("B")] * 10, 10)
    settings = ServeSettings(models=(("tiny", str(tiny_artifact)),), teach_dir=tmp_path / "teach",
                             teach_anchor=str(tiny_csv), prediction_log=None)
    with live_server(settings) as url, sync_playwright() as p:
        browser = _browser(p, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                               f"--use-file-for-fake-video-capture={video}"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        expect(page.locator("#teach-counts li")).to_have_count(24)
        expect(page.locator("#teach-train")).to_be_disabled()
        page.click("#camera-start")
        expect(page.locator("#teach-capture")).to_be_enabled(timeout=15_000)
        page.select_option("#teach-letter", "B")
        page.fill("#teach-n", "3")
        page.click("#teach-capture")
        expect(page.locator("#teach-status")).to_have_text("3 samples of B stored.", timeout=20_000)
        expect(page.locator("#teach-counts li.has")).to_have_text(["B 3"])
        expect(page.locator("#teach-letter")).to_have_value("C")  # moved on to the next letter
        expect(page.locator("#source")).to_be_visible()  # the frame with its crop box
        assert sorted(p.name for p in (tmp_path / "teach").glob("*/samples/B/*.png")) == ["001.png", "002.png", "003.png"]
        page.click("#teach-train")
        expect(page.locator("#teach-status")).to_contain_text("is ready and selected", timeout=180_000)
        expect(page.locator("#model-select option")).to_have_count(2)
        assert page.locator("#model-select").input_value().startswith("personal-")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "teach.png"), full_page=True)
        browser.close()
    assert not errors


def test_camera_refused_shows_message(server_url: str) -> None:
    with sync_playwright() as p:
        browser = _browser(p, ["--use-fake-device-for-media-stream"])
        context = browser.new_context()  # no camera permission granted; headless denies the prompt
        page = context.new_page()
        page.goto(server_url)
        page.click("#camera-start")
        expect(page.locator("#status")).to_have_class("error", timeout=10_000)
        expect(page.locator("#status")).to_contain_text("camera", ignore_case=True)
        browser.close()
