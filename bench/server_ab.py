"""Server code A/B: this checkout's signlens server vs the one at a git revision, same run.

    .venv/bin/python bench/server_ab.py --baseline HEAD~1 [--rounds 3] [--requests 2000]   # ~5 min

The baseline revision is checked out into a temporary git worktree and served from there
(PYTHONPATH points at its src/), with the same virtualenv, model and request (a raw 28×28
Sign-MNIST PNG). Rounds alternate baseline / current so a noisy host drifts over both alike; the
load is 8 concurrent clients by default, the p99 target's setting.
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serving  # noqa: E402


def trial(src: Path, model: str, clients: int, n: int) -> serving.Row:
    port = serving.free_port()
    cmd = [sys.executable, "-m", "signlens.cli.main", "serve", f"bench={model}", "--port", str(port)]
    return serving.measure(cmd, {**os.environ, "PYTHONPATH": str(src)}, port, clients, n)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", required=True, help="git revision to compare against, e.g. HEAD~1 or a commit")
    p.add_argument("--model", default=str(serving.ROOT / "models" / "default"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--clients", type=int, default=8)
    args = p.parse_args()
    serving.PNG = serving.sample_png()
    rev = subprocess.run(["git", "-C", str(serving.ROOT), "rev-parse", "--short", args.baseline],
                         check=True, capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(serving.ROOT), "worktree", "add", "--detach", str(tree), rev],
                       check=True, capture_output=True)
        try:
            sources = {f"baseline {rev}": tree / "src", "this checkout": serving.ROOT / "src"}
            serving.alternate({name: functools.partial(trial, src, args.model, args.clients, args.requests)
                               for name, src in sources.items()}, args.rounds, args.clients, args.requests, "server")
        finally:
            subprocess.run(["git", "-C", str(serving.ROOT), "worktree", "remove", "--force", str(tree)], check=False)


if __name__ == "__main__":
    main()
