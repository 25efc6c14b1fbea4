"""The `signlens` command: assembles the command groups' parsers and turns errors into one line.

Each command group is a module of this package with a `register(subparsers)` function; adding a
group is adding its module name to COMMAND_GROUPS. Group modules import only the standard library
and signlens' leaves at module level: heavy libraries (TensorFlow, OpenCV, MLflow, FastAPI) load
inside the command that needs them, after its arguments are checked, so `--help` and a mistyped
argument answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable

from signlens.cli import console
from signlens.errors import SignlensError

#: Command-group modules of signlens.cli, in the order `signlens --help` lists their commands.
COMMAND_GROUPS = ("data", "train", "evaluate", "calibrate", "predict", "spell", "export", "runs", "audit", "monitor",
                  "serve", "photos", "worker", "sweep")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="signlens", description="ASL fingerspelling recognition, end to end.")
    sub = p.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        importlib.import_module(f"signlens.cli.{group}").register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    console.quiet_environment()
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if getattr(args, "takes_overrides", False):  # `train key=value ...`
        args.overrides = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if getattr(args, "model", "") == "default":
        args.model = None
    func: Callable[[argparse.Namespace], None] = args.func
    try:
        func(args)
    except SignlensError as exc:
        print(f"signlens: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("signlens: interrupted (train: continue with --resume)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
