"""create_app(settings): the FastAPI app. Models load in the lifespan, never at import."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from signlens.vision import preprocess
from signlens.serving.admin import admin_router
from signlens.serving.inputs import BadInput
from signlens.serving.monitoring import Metrics, MetricsMiddleware
from signlens.serving.recorder import Recorder, RecorderCollector
from signlens.serving.routes import STATIC_DIR, router
from signlens.serving.settings import ServeSettings
from signlens.serving.swap import load_checked, start_in
from signlens.serving.teach import resume_interrupted, saved_models, serve, teach_router
from signlens.serving.variants import Traffic


def error_response(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuses bodies over the limit with 413, by Content-Length or while streaming, before parsing."""

    def __init__(self, app: ASGIApp, max_bytes: int, metrics: Metrics):
        self.app, self.max_bytes, self.metrics = app, max_bytes, metrics

    async def _refuse(self, send: Send) -> None:
        self.metrics.errors.labels("too_large").inc()
        body = json.dumps({"error": "too_large", "detail": f"request body over the {self.max_bytes:,} byte limit"})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body.encode()})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)


def create_app(settings: ServeSettings) -> FastAPI:
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="signlens-infer")
        app.state.executor = executor
        preprocess.warm_up()  # once per process: the first photo need not pay OpenCV's and PIL's start-up
        app.state.models = {name: start_in(app, name, load_checked(ref)) for name, ref in settings.models}
        for name, path in saved_models(settings.teach_dir):
            try:
                serve(app, name, load_checked(str(path)))
            except Exception as exc:  # a broken personal model must not keep the server down
                print(f"signlens: warning: personal model {path} not served: {exc}", flush=True)
        app.state.recorder = Recorder(settings.prediction_log, settings.log_images, settings.recent_window)
        app.state.teach_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="signlens-teach")
        resume_interrupted(app)
        try:
            yield
        finally:
            # A running fine-tune finishes and is served before the models stop; queued ones are
            # cancelled and keep their job file, so the next start runs them.
            app.state.teach_executor.shutdown(wait=True, cancel_futures=True)
            await asyncio.gather(*app.state.teach_tasks, return_exceptions=True)
            for served in app.state.models.values():
                await served.batcher.stop()
            executor.shutdown(wait=True)
            app.state.recorder.close()
            app.state.models = {}

    app = FastAPI(title="signlens", version="1", lifespan=lifespan,
                  description="ASL fingerspelling letter recognition: REST API and browser page.")
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.models = {}
    app.state.recorder = None
    app.state.traffic = Traffic(settings.traffic, settings.models[0][0])
    app.state.reload_lock = asyncio.Lock()
    app.state.teach_jobs = {}
    app.state.teach_tasks = set()  # strong references: the event loop keeps only weak ones
    metrics.registry.register(RecorderCollector(app.state))

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
        return error_response(exc.status_code, "http_error", str(exc.detail))

    app.include_router(router)
    app.include_router(admin_router)
    app.include_router(teach_router)
    app.include_router(__import__("signlens.serving.spell", fromlist=["spell_router"]).spell_router)  # issue 21
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes, metrics=metrics)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
