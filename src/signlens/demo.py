"""`make demo`: the main job. Evaluates the shipped default model and predicts example images.

(Once the web page lands, this starts `signlens serve` on the default model instead.)
"""

from __future__ import annotations

import sys
from pathlib import Path

from signlens.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run() -> int:
    code = main(["evaluate", "default"])
    images = sorted(str(p) for p in EXAMPLES.glob("*.png"))
    if code == 0 and images:
        code = main(["predict", "default", *images])
    return code


if __name__ == "__main__":
    sys.exit(run())
