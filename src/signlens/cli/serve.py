"""`signlens serve [MODEL...]`: the REST API and the browser page on one port.

Models are named `name=ref` (or a bare path, named after its directory; `default` alone is the
shipped default model), where a ref is anything `models.resolve` loads: an artifact, TFLite export
or TF.js directory, `runs:/<run id>/artifact`, or `models:/<name>@<alias>` / `models:/<name>/<version>`
(looked up in the store MLFLOW_TRACKING_URI names, default sqlite under $SIGNLENS_HOME, as admin
reloads are). The first one listed is the default choice on the page and in the API,
unless `--traffic` splits requests between the served names (A/B test).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from signlens.serving.settings import ServeSettings

from signlens import paths
from signlens.cli import console, refs
from signlens.errors import SignlensError, did_you_mean

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _default_name(ref: str) -> str:
    """A path's directory name; a registry ref's text with anything but letters, digits, '.', '_' as '-'."""
    if not refs.is_registry_ref(ref):
        return Path(ref).name
    return re.sub(r"[^A-Za-z0-9._]+", "-", ref.partition(":/")[2]).strip("-")


def parse_models(specs: list[str]) -> tuple[tuple[str, str | None], ...]:
    """['default', 'cnn=models/seed-cnn', 'runs/x'] -> (('default', None), ('cnn', 'models/seed-cnn'), ('x', 'runs/x')).

    Paths are checked here, registry references when served. An unnamed registry reference is
    named after its text: models:/signlens-asl@champion serves as signlens-asl-champion.
    """
    pairs: list[tuple[str, str | None]] = []
    for spec in specs or ["default"]:
        name, sep, ref = spec.partition("=")
        if not sep:
            name, ref = (spec, "") if spec == "default" else (_default_name(spec), spec)
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise SignlensError(f"{spec!r}: model names may use letters, digits, '-', '_' and '.' only")
        if ref and ref != "default" and not refs.is_registry_ref(ref) and not Path(ref).is_dir():
            raise SignlensError(f"{ref}: no such model directory{did_you_mean(ref.rstrip('/'), refs.shipped_models())}")
        pairs.append((name, ref if ref and ref != "default" else None))
    names = [n for n, _ in pairs]
    if len(set(names)) != len(names):
        raise SignlensError(f"model names must be unique, got {', '.join(names)}")
    return tuple(pairs)


def build_settings(args: argparse.Namespace) -> ServeSettings:
    """The settings from the command line; the admin token may come from SIGNLENS_ADMIN_TOKEN instead
    (better: a command line is visible to every user of the machine)."""
    from signlens.production.ab import parse_weights
    from signlens.serving.settings import ServeSettings

    models = parse_models(args.models)
    traffic = tuple((v.name, v.weight) for v in parse_weights(args.traffic)) if args.traffic else ()
    extra = {} if args.prediction_log is None else {"prediction_log": Path(args.prediction_log)}
    if args.no_prediction_log:
        extra["prediction_log"] = None
    if args.model_root:
        extra["model_root"] = Path(args.model_root)
    if not (args.teach if args.teach is not None else args.host in LOOPBACK):
        extra["teach_dir"] = None  # anyone who can reach the server could spend its CPU and disk
    try:
        return ServeSettings(models=models, max_upload_bytes=args.max_upload_mb * 1024 * 1024, hold_ms=args.hold_ms,
                             traffic=traffic, log_images=args.log_images,
                             admin_token=args.admin_token or paths.admin_token_from_env(), **extra)
    except ValueError as exc:
        raise SignlensError(str(exc)) from None


def _serve(args: argparse.Namespace) -> None:
    settings = build_settings(args)
    for _, ref in settings.models:
        if refs.is_registry_ref(ref):  # found (and downloaded) now: a typo is told before the server starts
            refs.fetch_registered(ref)
    console.import_tensorflow()
    import uvicorn

    from signlens.serving.app import create_app

    print(f"signlens: serving {', '.join(n for n, _ in settings.models)} at http://{args.host}:{args.port}/", flush=True)
    if settings.traffic:
        print("signlens: traffic " + ", ".join(f"{n}={w:g}" for n, w in settings.traffic), flush=True)
    print(f"signlens: prediction log {settings.prediction_log or 'off'}; admin endpoints "
          f"{'on' if settings.admin_token else 'off'}; teach mode {settings.teach_dir or 'off'}", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="REST API + web page (webcam, upload, live fingerspelling)")
    s.add_argument("models", nargs="*", metavar="MODEL",
                   help="name=ref pairs or paths: artifact, TFLite or TF.js dirs, runs:/ID/artifact, "
                        "models:/NAME@ALIAS; default: the shipped default model")
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--max-upload-mb", type=int, default=8, help="largest request body accepted")
    s.add_argument("--hold-ms", type=int, default=800, help="page default: how long a letter must hold to be typed")
    s.add_argument("--traffic", metavar="WEIGHTS",
                   help="A/B split over served names, e.g. champion=90,challenger=10 (sticky per client)")
    s.add_argument("--prediction-log", metavar="PATH",
                   help="SQLite prediction log (default: $SIGNLENS_HOME/predictions.db)")
    s.add_argument("--no-prediction-log", action="store_true", help="keep no prediction log (and take no feedback)")
    s.add_argument("--log-images", action="store_true", help="also store each 28×28 input grid in the log")
    s.add_argument("--admin-token", metavar="TOKEN",
                   help="enables /v1/admin/* (reload, traffic) for this bearer token; "
                        "prefer the SIGNLENS_ADMIN_TOKEN environment variable")
    s.add_argument("--model-root", metavar="DIR",
                   help="directory that /v1/admin/reload path refs must stay inside (default: the repo's models/)")
    s.add_argument("--teach", action=argparse.BooleanOptionalAction, default=None,
                   help="teach mode (capture samples, fine-tune a personal model from the page); "
                        "default: on when listening on loopback only, off otherwise")
    s.set_defaults(func=_serve)
