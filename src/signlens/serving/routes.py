"""The HTTP endpoints. Thin: read input (inputs.py), batch through the model (batching.py), answer."""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field

from signlens import labels
from signlens.preprocess import Preprocessed
from signlens.serving import inputs
from signlens.serving.inputs import BadInput

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


class PredictResponse(BaseModel):
    id: str
    letter: str
    confidence: float
    probabilities: dict[str, float]
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
    letters: list[str]
    fingerspelling: dict[str, float]


def _served(request: Request, name: str | None) -> Any:
    models = request.app.state.models
    if not models:
        raise BadInput(503, "not_ready", "models are still loading")
    if name is None:
        return next(iter(models.values()))
    if name not in models:
        raise BadInput(404, "unknown_model", f"no model named {name!r}; loaded: {', '.join(models)}")
    return models[name]


def _preview(pixels: np.ndarray) -> str:
    ok, png = cv2.imencode(".png", pixels)
    return base64.b64encode(png.tobytes()).decode("ascii")


def _answer(served: Any, prepped: Preprocessed, row: np.ndarray, start: float, metrics: Any) -> dict[str, Any]:
    best = int(row.argmax())
    letter = labels.LETTERS[best]
    metrics.predictions.labels(served.name, letter).inc()
    return {
        "id": uuid.uuid4().hex,
        "letter": letter,
        "confidence": float(row[best]),
        "probabilities": {name: float(p) for name, p in zip(labels.LETTERS, row)},
        "model": served.name,
        "version": served.predictor.version,
        "latency_ms": (time.perf_counter() - start) * 1000,
        "input": {"preview_png": _preview(prepped.pixels), "box": list(prepped.box), "hand_found": prepped.hand_found},
    }


ModelQuery = Query(None, description="serving name of the model (see /v1/models); default: the first loaded")


@router.post("/v1/predict", response_model=PredictResponse, openapi_extra=_PREDICT_BODY, responses=_ERRORS,
             summary="Predict the letter in one image (upload, base64 JSON or 28×28 pixels)")
async def predict(request: Request, model: str | None = ModelQuery) -> dict[str, Any]:
    start = time.perf_counter()
    served = _served(request, model)
    settings = request.app.state.settings
    prepped = await inputs.read_one(request, settings.max_image_pixels)
    row = (await served.batcher.submit(prepped.pixels[None]))[0]
    return _answer(served, prepped, row, start, request.app.state.metrics)


@router.post("/v1/predict/batch", response_model=BatchResponse, openapi_extra=_BATCH_BODY, responses=_ERRORS,
             summary="Predict letters for several images in one request")
async def predict_batch(request: Request, model: str | None = ModelQuery) -> dict[str, Any]:
    start = time.perf_counter()
    served = _served(request, model)
    settings = request.app.state.settings
    prepped = await inputs.read_many(request, settings.max_image_pixels, settings.max_batch_images)
    probs = await served.batcher.submit(np.stack([p.pixels for p in prepped]))
    metrics = request.app.state.metrics
    preds = [_answer(served, p, row, start, metrics) for p, row in zip(prepped, probs)]
    return {"predictions": preds, "latency_ms": (time.perf_counter() - start) * 1000}


@router.get("/v1/models", response_model=ModelsResponse, summary="Loaded models, versions and metrics")
async def list_models(request: Request) -> dict[str, Any]:
    models = request.app.state.models
    settings = request.app.state.settings
    infos = [{"name": m.name, "version": m.predictor.version,
              "source": str(m.predictor.artifact.path) if m.predictor.artifact.path else None,
              "metrics": m.predictor.artifact.meta.get("metrics", {})} for m in models.values()]
    return {"default": settings.models[0][0], "models": infos, "letters": list(labels.LETTERS),
            "fingerspelling": {"hold_ms": settings.hold_ms, "confidence": settings.hold_confidence}}


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: every configured model is loaded",
            responses={503: {"description": "models still loading"}})
async def readyz(request: Request) -> JSONResponse:
    ready = len(request.app.state.models) == len(request.app.state.settings.models)
    return JSONResponse({"status": "ready" if ready else "loading"}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html")
