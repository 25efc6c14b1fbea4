"""`signlens serve [MODEL...]`: the REST API and the browser page on one port.

Models are named `name=path` (or a bare path, named after its directory; `default` alone is the
shipped default model). The first one listed is the default choice on the page and in the API.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from signlens.errors import SignlensError


def parse_models(specs: list[str]) -> tuple[tuple[str, str | None], ...]:
    """['default', 'cnn=models/seed-cnn', 'runs/x'] -> (('default', None), ('cnn', 'models/seed-cnn'), ('x', 'runs/x'))."""
    pairs: list[tuple[str, str | None]] = []
    for spec in specs or ["default"]:
        name, sep, ref = spec.partition("=")
        if not sep:
            name, ref = (spec, "") if spec == "default" else (Path(spec).name, spec)
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise SignlensError(f"{spec!r}: model names may use letters, digits, '-', '_' and '.' only")
        if ref and ref != "default" and not Path(ref).is_dir():
            raise SignlensError(f"{ref}: no such model directory")
        pairs.append((name, ref if ref and ref != "default" else None))
    names = [n for n, _ in pairs]
    if len(set(names)) != len(names):
        raise SignlensError(f"model names must be unique, got {', '.join(names)}")
    return tuple(pairs)


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from signlens.serving.app import create_app
    from signlens.serving.settings import ServeSettings

    settings = ServeSettings(models=parse_models(args.models), max_upload_bytes=args.max_upload_mb * 1024 * 1024,
                             hold_ms=args.hold_ms)
    print(f"signlens: serving {', '.join(n for n, _ in settings.models)} at http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="REST API + web page (webcam, upload, live fingerspelling)")
    s.add_argument("models", nargs="*", metavar="MODEL",
                   help="name=path pairs or paths (artifact or TF.js dirs); default: the shipped default model")
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--max-upload-mb", type=int, default=8, help="largest request body accepted")
    s.add_argument("--hold-ms", type=int, default=800, help="page default: how long a letter must hold to be typed")
    s.set_defaults(func=_serve)
