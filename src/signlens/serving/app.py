"""create_app(settings): the FastAPI app. Models load in the lifespan, never at import."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from signlens.serving.inputs import BadInput
from signlens.serving.limits import BodyLimit
from signlens.serving.monitoring import Metrics, MetricsMiddleware
from signlens.serving.recorder import Recorder, RecorderCollector
from signlens.serving.routes import ROUTERS
from signlens.serving.routes.pages import STATIC_DIR
from signlens.serving.settings import ServeSettings
from signlens.serving.state import ServerState
from signlens.serving.swap import KnownExamples
from signlens.serving.teach_jobs import resume_interrupted, saved_models, serve_personal
from signlens.serving.variants import Traffic
from signlens.vision import preprocess


def error_response(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _load_models(state: ServerState) -> None:
    """The configured models (any failure stops the start), then the personal ones (best effort)."""
    state.known = KnownExamples.load(state.settings.known_examples)
    state.models = {name: state.start(name, state.load(ref)) for name, ref in state.settings.models}
    for name, path in saved_models(state.settings.teach_dir):
        try:
            serve_personal(state, name, state.load(str(path)))
        except Exception as exc:  # a broken personal model must not keep the server down
            print(f"signlens: warning: personal model {path} not served: {exc}", flush=True)


def _lifespan(state: ServerState) -> Callable[[FastAPI], AsyncIterator[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = state.settings
        state.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="signlens-infer")
        preprocess.warm_up()  # once per process: the first photo need not pay OpenCV's and PIL's start-up
        _load_models(state)
        state.recorder = Recorder(settings.prediction_log, settings.log_images, settings.recent_window)
        state.teach_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="signlens-teach")
        resume_interrupted(state)
        try:
            yield
        finally:
            # A running fine-tune finishes and is served before the models stop; queued ones are
            # cancelled and keep their job file, so the next start runs them.
            state.teach_executor.shutdown(wait=True, cancel_futures=True)
            await asyncio.gather(*state.tasks, return_exceptions=True)
            for served in state.models.values():
                await served.batcher.stop()
            state.executor.shutdown(wait=True)
            state.recorder.close()
            state.models = {}

    return lifespan  # type: ignore[return-value]


def _install_handlers(app: FastAPI, metrics: Metrics) -> None:
    """Every error answers {error, detail} JSON, and is counted by reason."""

    @app.exception_handler(BadInput)
    async def _bad_input(request: Request, exc: BadInput) -> JSONResponse:
        metrics.errors.labels(exc.error).inc()
        return error_response(exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        metrics.errors.labels("invalid_request").inc()
        return error_response(422, "invalid_request", f"{where}: {first['msg']}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, "http_error", str(exc.detail), exc.headers)  # e.g. 405's Allow


def create_app(settings: ServeSettings) -> FastAPI:
    metrics = Metrics()
    state = ServerState(settings, metrics, Traffic(settings.traffic, settings.models[0][0]))
    metrics.registry.register(RecorderCollector(state))
    app = FastAPI(title="signlens", version="1", lifespan=_lifespan(state),
                  description="ASL fingerspelling letter recognition: REST API and browser page.")
    app.state.server = state
    _install_handlers(app, metrics)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes, metrics=metrics)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
