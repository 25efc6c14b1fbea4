"""HTTP stack A/B: the signlens server on uvicorn's pure-Python stack vs uvloop + httptools.

    .venv/bin/python bench/http_stack.py [--rounds 2] [--requests 2000]     # ~4 min

uvicorn picks uvloop and httptools when they are installed (signlens depends on both) and falls
back to asyncio + h11 otherwise. This runs the same app, model and request both ways, alternating
rounds so a noisy host drifts over both alike, at 8 concurrent clients (the p99 target's setting).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serving  # noqa: E402

STACKS = (("asyncio", "h11"), ("uvloop", "httptools"))
SERVER = """
import argparse, sys, uvicorn
from signlens.cli.serve import build_settings, register
from signlens.serving.app import create_app
port, loop, http, model = sys.argv[1:]
parser = argparse.ArgumentParser()
register(parser.add_subparsers())
args = parser.parse_args(["serve", f"bench={model}", "--port", port])  # exactly what `signlens serve` builds
uvicorn.run(create_app(build_settings(args)), host="127.0.0.1", port=int(port), log_level="warning", loop=loop, http=http)
"""


def trial(model: str, loop: str, http: str, clients: int, n: int) -> serving.Row:
    port = serving.free_port()
    cmd = [sys.executable, "-c", SERVER, str(port), loop, http, model]
    return serving.measure(cmd, dict(os.environ), port, clients, n)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(serving.ROOT / "models" / "default"))
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--clients", type=int, default=8)
    args = p.parse_args()
    serving.PNG = serving.sample_png()
    serving.alternate({f"{loop}+{http}": functools.partial(trial, args.model, loop, http, args.clients, args.requests)
                       for loop, http in STACKS}, args.rounds, args.clients, args.requests, "stack")


if __name__ == "__main__":
    main()
