"""The page's word suggestions, end to end in headless Chromium with a fake camera that signs
H, E, L, (release), L, O: the decoder's best word is offered and Space accepts it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect, sync_playwright

from signlens.serving.settings import ServeSettings
from tests.live_server import live_server
from tests.test_browser import _browser, letter_pixels, write_y4m

pytestmark = pytest.mark.browser

FPS = 10


def hello_video(path: Path) -> Path:
    """A long O hold (where the test clears the text), then H E L, a short release (no hand), L, O.
    Chromium loops the file; the O at the end runs into the O hold, so one loop types one O."""
    def hold(letter: str, seconds: float) -> list[np.ndarray]:
        return [letter_pixels(letter)] * int(seconds * FPS)

    release = [np.zeros_like(letter_pixels("L"))] * 3  # 0.3 s: shorter than the hold time
    frames = hold("O", 4) + hold("H", 1.2) + hold("E", 1.2) + hold("L", 1.2) + release + hold("L", 1.2) + hold("O", 1.2)
    return write_y4m(path, frames, FPS)


def test_live_mode_suggests_the_word_and_space_accepts_it(tiny_artifact: Path, tmp_path: Path) -> None:
    video = hello_video(tmp_path / "hello.y4m")
    settings = ServeSettings(models=(("tiny", str(tiny_artifact)),), hold_ms=500, prediction_log=None, teach_dir=None)
    with live_server(settings) as url, sync_playwright() as p:
        browser = _browser(p, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                               f"--use-file-for-fake-video-capture={video}"])
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.fill("#my-word", "Kwabena")  # the word box: kept for the decoder
        page.press("#my-word", "Enter")
        expect(page.locator("#my-words li")).to_have_text(["KWABENA×"])
        page.click("#camera-start")
        expect(page.locator("#live-toggle")).to_be_enabled(timeout=15_000)
        page.click("#live-toggle")
        expect(page.locator("#word-letters")).to_have_text(re.compile("O$"), timeout=30_000)
        page.click("#clear")  # during the O hold: the next letters typed are the word's
        expect(page.locator("#word-letters")).to_have_text("HELLO", timeout=30_000)
        expect(page.locator("#suggestions .suggestion.best")).to_have_attribute("data-word", "HELLO")
        page.click("#live-toggle")
        page.evaluate("document.activeElement.blur()")  # Space on a focused button would press it
        page.keyboard.press(" ")
        expect(page.locator("#spelled")).to_have_value("HELLO ")
        expect(page.locator("#word-letters")).to_have_text("–")
        page.click("#type-j")  # J is typed, and a word with a typed J is kept as typed
        expect(page.locator("#suggestions .suggestion.best")).to_have_attribute("data-word", "J")
        page.keyboard.press("Backspace")
        expect(page.locator("#spelled")).to_have_value("HELLO ")
        browser.close()
    assert not errors
