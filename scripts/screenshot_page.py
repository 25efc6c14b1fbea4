"""Redraw docs/page.png: the page serving models/default, after uploading examples/W.png.

    .venv/bin/python scripts/screenshot_page.py [--out docs/page.png]

Needs Chromium (scripts/system-deps.sh) and the test extras (playwright); run it after the
default model changes, so the README shows what the page shows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from signlens.serving.settings import ServeSettings  # noqa: E402
from tests.live_server import live_server  # noqa: E402
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "page.png")
    args = p.parse_args()
    with live_server(ServeSettings(models=(("default", str(ROOT / "models" / "default")),))) as url, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(url)
        page.set_input_files("#file-input", str(ROOT / "examples" / "W.png"))
        expect(page.locator("#result-letter")).to_have_text("W", timeout=30_000)
        page.screenshot(path=str(args.out), full_page=True)
        browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
