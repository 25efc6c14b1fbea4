"""The HTTP endpoints. Thin: read input (inputs.py), batch through the model (batching.py), answer.

The predict endpoints build their JSON themselves: `response_model` still documents the schema
(tests/test_serving_api.py validates answers against it), but re-validating every answer cost ~5%
of a request's CPU time.
"""

from __future__ import annotations

import asyncio
import base64
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field

from signlens import labels
from signlens.vision import landmarks
from signlens.production.predlog import add_feedback
from signlens.serving import inputs
from signlens.serving.inputs import BadInput, Input
from signlens.serving.variants import COOKIE, Choice

STATIC_DIR = Path(__file__).parent / "static"
router = APIRouter()

_IMAGE_SCHEMA = {"type": "string", "format": "binary"}
_PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["image"],
                                               "properties": {"image": _IMAGE_SCHEMA}}},
            "application/json": {"schema": inputs.ImageJSON.model_json_schema()},
            **{kind: {"schema": _IMAGE_SCHEMA} for kind in inputs.IMAGE_TYPES},
        },
    }
}
_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["images"], "properties": {
                "images": {"type": "array", "items": _IMAGE_SCHEMA}}}},
            "application/json": {"schema": inputs.BatchJSON.model_json_schema(
                ref_template="#/components/schemas/{model}")},
        },
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": why, "content": {"application/json": {"example": {"error": "…", "detail": "…"}}}}
    for code, why in [(400, "empty or malformed body"), (404, "unknown model"), (413, "body or batch too large"),
                      (415, "unsupported content type"), (422, "undecodable image or bad pixels")]
}


class ModelInfo(BaseModel):
    name: str
    version: str
    source: str | None
    metrics: dict[str, Any]


class InputInfo(BaseModel):
    preview_png: str = Field(description="the 28×28 grayscale image the model saw, base64 PNG")
    box: list[int] = Field(description="[x, y, w, h] of the crop taken from the source image")
    hand_found: bool
    hand_points: list[list[float]] | None = Field(
        None, description="the hand's 21 landmarks as [x, y] pixels of the source image (wrist first, "
        "MediaPipe order), when the served model has a hand-landmark head and the crop view saw the hand")


class PredictResponse(BaseModel):
    id: str
    variant: str = Field(description="the A/B variant that answered (a served model name)")
    letter: str
    confidence: float
    probabilities: dict[str, float]
    hand: bool = Field(description="false: no hand in the image (a photo in which the landmark model found none); "
                       "`letter` is then only the least unlikely letter and should not be shown as an answer")
    model: str
    version: str
    latency_ms: float
    input: InputInfo


class BatchResponse(BaseModel):
    predictions: list[PredictResponse]
    latency_ms: float


class ModelsResponse(BaseModel):
    default: str
    models: list[ModelInfo]
    traffic: dict[str, float] = Field(description="A/B weights for requests that name no model")
    letters: list[str]
    fingerspelling: dict[str, float]


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prediction_id: str = Field(pattern="^[0-9a-f]{32}$", description="the `id` of a prediction response")
    true_letter: str = Field(description="the letter the image really shows")


class FeedbackResponse(BaseModel):
    prediction_id: str
    true_letter: str


#: How long feedback waits for its prediction to reach the log (written every 0.2 s) before 404.
FEEDBACK_WAIT_S = 1.0


def _choose(request: Request, model: str | None) -> Choice:
    models = request.app.state.models
    if not models:
        raise BadInput(503, "not_ready", "models are still loading")
    choice = request.app.state.traffic.choose(request, model)
    if choice.variant not in models:
        raise BadInput(404, "unknown_model", f"no model named {choice.variant!r}; loaded: {', '.join(models)}")
    return choice


def _hands(request: Request, choice: Choice) -> bool:
    """Take photos' hand landmarks only for a model whose head uses them (~20 ms a photo saved)."""
    return request.app.state.models[choice.variant].predictor.has_head


async def _infer(request: Request, variant: str, subs: list[Input]) -> tuple[Any, np.ndarray]:
    """Look the model up and submit with no await in between: a hot swap never strands a request.

    The image model runs batched; photos with hand landmarks then get the model's hand-landmark
    head too (a sub-millisecond call, not worth batching)."""
    served = request.app.state.models[variant]
    probs = await served.batcher.submit(np.stack([s.pixels for s in subs]))
    return served, served.predictor.with_hands(probs, landmarks.as_array([s.hand_points for s in subs]))


def _tag(request: Request, response: Response, choice: Choice, start: float) -> None:
    metrics = request.app.state.metrics
    metrics.variant_requests.labels(choice.variant).inc()
    metrics.variant_latency.labels(choice.variant).observe(time.perf_counter() - start)
    response.headers["X-Variant"] = choice.variant
    if choice.new_client_id:
        response.set_cookie(COOKIE, choice.new_client_id, max_age=365 * 24 * 3600, httponly=True, samesite="lax")


def preview_png(pixels: np.ndarray) -> str:
    ok, png = cv2.imencode(".png", pixels)
    return base64.b64encode(png.tobytes()).decode("ascii")


def _answer(request: Request, served: Any, sub: Input, row: np.ndarray, start: float) -> dict[str, Any]:
    best = int(row.argmax())
    letter = labels.LETTERS[best]
    request.app.state.metrics.predictions.labels(served.name, letter).inc()
    answer = {
        "id": uuid.uuid4().hex,
        "variant": served.name,
        "letter": letter,
        "confidence": float(row[best]),
        "probabilities": {name: float(p) for name, p in zip(labels.LETTERS, row)},
        "hand": served.predictor.sees_hand(sub),
        "model": served.name,
        "version": served.predictor.version,
        "latency_ms": (time.perf_counter() - start) * 1000,
        "input": {"preview_png": preview_png(sub.pixels), "box": list(sub.box), "hand_found": sub.hand_found,
                  "hand_points": None if sub.hand_points is None else landmarks.in_photo(sub.hand_points, sub.box)},
    }
    request.app.state.recorder.record(answer, served.name, served.predictor.name, sub.pixels, sub.width, sub.height)
    return answer


ModelQuery = Query(None, description="serving name of the model (see /v1/models); overrides the A/B "
                                     "assignment, as does the X-Variant header")


@router.post("/v1/predict", response_model=PredictResponse, openapi_extra=_PREDICT_BODY, responses=_ERRORS,
             summary="Predict the letter in one image (upload, base64 JSON or 28×28 pixels)")
async def predict(request: Request, model: str | None = ModelQuery) -> JSONResponse:
    start = time.perf_counter()
    choice = _choose(request, model)
    sub = await inputs.read_one(request, request.app.state.settings.max_image_pixels, _hands(request, choice))
    served, probs = await _infer(request, choice.variant, [sub])
    response = JSONResponse(_answer(request, served, sub, probs[0], start))
    _tag(request, response, choice, start)
    return response


@router.post("/v1/predict/batch", response_model=BatchResponse, openapi_extra=_BATCH_BODY, responses=_ERRORS,
             summary="Predict letters for several images in one request")
async def predict_batch(request: Request, model: str | None = ModelQuery) -> JSONResponse:
    start = time.perf_counter()
    choice = _choose(request, model)
    settings = request.app.state.settings
    subs = await inputs.read_many(request, settings.max_image_pixels, settings.max_batch_images,
                                  _hands(request, choice))
    served, probs = await _infer(request, choice.variant, subs)
    preds = [_answer(request, served, s, row, start) for s, row in zip(subs, probs)]
    response = JSONResponse({"predictions": preds, "latency_ms": (time.perf_counter() - start) * 1000})
    _tag(request, response, choice, start)
    return response


@router.post("/v1/feedback", response_model=FeedbackResponse, summary="Correct a prediction: it was this letter",
             responses={404: {"description": "unknown prediction id, or no prediction log"},
                        422: {"description": "not one of the 24 letters"}})
async def feedback(request: Request, body: FeedbackRequest) -> dict[str, str]:
    try:
        letter = labels.LETTERS[labels.index_of_letter(body.true_letter)]
    except ValueError as exc:
        raise BadInput(422, "bad_letter", str(exc)) from None
    path = request.app.state.settings.prediction_log
    if path is None:
        raise BadInput(404, "no_prediction_log", "this server keeps no prediction log, so it takes no feedback")
    deadline = time.monotonic() + FEEDBACK_WAIT_S
    while True:
        try:
            found = await asyncio.to_thread(add_feedback, path, body.prediction_id, letter)
        except (sqlite3.Error, OSError) as exc:
            raise BadInput(503, "log_unavailable", f"the prediction log is unavailable: {exc}") from None
        if found:
            return {"prediction_id": body.prediction_id, "true_letter": letter}
        if time.monotonic() > deadline:
            raise BadInput(404, "unknown_prediction", f"no logged prediction with id {body.prediction_id}")
        await asyncio.sleep(0.1)


@router.get("/v1/models", response_model=ModelsResponse, summary="Loaded models, versions and metrics")
async def list_models(request: Request) -> dict[str, Any]:
    models = request.app.state.models
    settings = request.app.state.settings
    infos = [{"name": m.name, "version": m.predictor.version,
              "source": str(m.predictor.artifact.path) if m.predictor.artifact.path else None,
              "metrics": m.predictor.artifact.meta.get("metrics", {})} for m in models.values()]
    return {"default": settings.models[0][0], "models": infos, "traffic": request.app.state.traffic.weights(),
            "letters": list(labels.LETTERS),
            "fingerspelling": {"hold_ms": settings.hold_ms, "confidence": settings.hold_confidence}}


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: every configured model is loaded",
            responses={503: {"description": "models still loading"}})
async def readyz(request: Request) -> JSONResponse:
    ready = all(name in request.app.state.models for name, _ in request.app.state.settings.models)
    return JSONResponse({"status": "ready" if ready else "loading"}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html")
