"""`make demo`: the web page on the shipped default model, at http://127.0.0.1:8000/.

The seed codelab models are served beside it when the repository vendors them, so the page's
model menu can compare them. `signlens serve` prints the URL; Ctrl-C stops it.
"""

from __future__ import annotations

import sys

from signlens.cli.main import main
from signlens.paths import DEFAULT_MODEL

SEEDS = ("seed-cnn", "seed-mlp")


def run() -> int:
    models = ["default"] + [f"{name}={DEFAULT_MODEL.parent / name}" for name in SEEDS
                            if (DEFAULT_MODEL.parent / name).is_dir()]
    return main(["serve", *models, "--host", "127.0.0.1", "--port", "8000"])


if __name__ == "__main__":
    sys.exit(run())
