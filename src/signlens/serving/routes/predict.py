"""Predictions: read input (inputs.py), batch through the model (batching.py), answer.

The predict endpoints build their JSON themselves: `response_model` still documents the schema
(tests/test_serving_api.py validates answers against it), but re-validating every answer cost ~5%
of a request's CPU time.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import cv2
import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from signlens.inference.predictor import build_prediction
from signlens.serving import inputs
from signlens.serving.deps import RecorderDep, Settings, State
from signlens.serving.inputs import BadInput, Input
from signlens.serving.recorder import Recorder
from signlens.serving.schemas import COMMON_ERRORS, BatchResponse, PredictResponse, error_docs
from signlens.serving.state import ServerState
from signlens.serving.swap import ServedModel
from signlens.serving.variants import COOKIE, Choice
from signlens.vision import landmarks

router = APIRouter(tags=["predict"], responses=COMMON_ERRORS)

_IMAGE_SCHEMA = {"type": "string", "format": "binary", "minLength": 1}
_PIXEL = {"type": "number", "minimum": 0, "maximum": 255}
_GRID = {"type": "array", "items": _PIXEL, "minItems": 28, "maxItems": 28}
#: ImageJSON as the server accepts it, written out: no wider than the checks in inputs.py.
IMAGE_JSON_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "oneOf": [{"required": ["image"]}, {"required": ["pixels"]}],
    "properties": {
        "image": {"type": "string", "minLength": 1, "description": "base64-encoded png/jpeg/webp, or a data: URL"},
        "pixels": {"description": "784 grayscale values 0..255, flat or as 28 rows of 28", "anyOf": [
            {"type": "array", "items": _PIXEL, "minItems": 784, "maxItems": 784},
            {"type": "array", "items": _GRID, "minItems": 28, "maxItems": 28}]},
    },
}
_PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["image"],
                                               "properties": {"image": _IMAGE_SCHEMA}}},
            "application/json": {"schema": IMAGE_JSON_SCHEMA},
            **{kind: {"schema": _IMAGE_SCHEMA} for kind in inputs.IMAGE_TYPES},
        },
    }
}
_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["images"], "properties": {
                "images": {"type": "array", "minItems": 1, "items": _IMAGE_SCHEMA}}}},
            "application/json": {"schema": {
                "type": "object", "additionalProperties": False, "required": ["items"],
                "properties": {"items": {"type": "array", "minItems": 1, "items": IMAGE_JSON_SCHEMA}}}},
        },
    }
}
_ERRORS = error_docs({400: "empty or malformed body", 404: "unknown model", 413: "body or batch too large",
                      415: "unsupported content type or image format", 422: "undecodable image or bad pixels",
                      503: "models still loading"})

ModelQuery = Query(None, description="serving name of the model (see /v1/models); overrides the A/B "
                                     "assignment, as does the X-Variant header")


def choose(request: Request, state: ServerState, model: str | None) -> Choice:
    if not state.models:
        raise BadInput(503, "not_ready", "models are still loading")
    choice = state.traffic.choose(request, model)
    if choice.variant not in state.models:
        raise BadInput(404, "unknown_model", f"no model named {choice.variant!r}; loaded: {', '.join(state.models)}")
    return choice


async def infer(state: ServerState, variant: str, subs: list[Input]) -> tuple[ServedModel, np.ndarray]:
    """Look the model up and submit with no await in between: a hot swap never strands a request.

    The image model runs batched; photos with hand landmarks then get the model's hand-landmark
    head too (a sub-millisecond call, not worth batching)."""
    served = state.models[variant]
    probs = await served.batcher.submit(np.stack([s.pixels for s in subs]))
    return served, served.predictor.with_hands(probs, landmarks.as_array([s.hand_points for s in subs]))


def _tag(request: Request, state: ServerState, response: Response, choice: Choice, start: float) -> None:
    state.metrics.variant_requests.labels(choice.variant).inc()
    state.metrics.variant_latency.labels(choice.variant).observe(time.perf_counter() - start)
    response.headers["X-Variant"] = choice.variant
    if choice.new_client_id:
        response.set_cookie(COOKIE, choice.new_client_id, max_age=365 * 24 * 3600, httponly=True, samesite="lax")


def preview_png(pixels: np.ndarray) -> str:
    ok, png = cv2.imencode(".png", pixels)
    return base64.b64encode(png.tobytes()).decode("ascii")


def input_info(sub: Input) -> dict[str, Any]:
    """What the model saw (InputInfo): the grid, the crop box and, with a head, the hand's points."""
    points = sub.hand_points
    return {"preview_png": preview_png(sub.pixels), "box": list(sub.box), "hand_found": sub.hand_found,
            "hand_points": None if points is None else landmarks.in_photo(points, sub.box)}


def _answer(state: ServerState, recorder: Recorder, served: ServedModel, sub: Input, row: np.ndarray,
            start: float) -> dict[str, Any]:
    pred = build_prediction(row, served.name, served.predictor.version, sub, served.predictor.sees_hand(sub))
    state.metrics.predictions.labels(served.name, pred.letter).inc()
    answer = {
        "id": uuid.uuid4().hex,
        "variant": served.name,
        "letter": pred.letter,
        "confidence": pred.confidence,
        "probabilities": pred.probabilities,
        "hand": pred.hand,
        "model": pred.model,
        "version": pred.version,
        "latency_ms": (time.perf_counter() - start) * 1000,
        "input": input_info(sub),
    }
    recorder.record(answer, served.name, served.predictor.name, sub.pixels, sub.width, sub.height)
    return answer


def wants_hands(state: ServerState, choice: Choice) -> bool:
    """Take photos' hand landmarks only for a model whose head uses them (~20 ms a photo saved)."""
    return state.models[choice.variant].predictor.has_head


@router.post("/v1/predict", response_model=PredictResponse, openapi_extra=_PREDICT_BODY, responses=_ERRORS,
             summary="Predict the letter in one image (upload, base64 JSON or 28×28 pixels)")
async def predict(request: Request, state: State, settings: Settings, recorder: RecorderDep,
                  model: str | None = ModelQuery) -> JSONResponse:
    start = time.perf_counter()
    choice = choose(request, state, model)
    sub = await inputs.read_one(request, state.limits, wants_hands(state, choice))
    served, probs = await infer(state, choice.variant, [sub])
    response = JSONResponse(_answer(state, recorder, served, sub, probs[0], start))
    _tag(request, state, response, choice, start)
    return response


@router.post("/v1/predict/batch", response_model=BatchResponse, openapi_extra=_BATCH_BODY, responses=_ERRORS,
             summary="Predict letters for several images in one request")
async def predict_batch(request: Request, state: State, settings: Settings, recorder: RecorderDep,
                        model: str | None = ModelQuery) -> JSONResponse:
    start = time.perf_counter()
    choice = choose(request, state, model)
    subs = await inputs.read_many(request, state.limits, settings.max_batch_images,
                                  wants_hands(state, choice))
    served, probs = await infer(state, choice.variant, subs)
    preds = [_answer(state, recorder, served, s, row, start) for s, row in zip(subs, probs)]
    response = JSONResponse({"predictions": preds, "latency_ms": (time.perf_counter() - start) * 1000})
    _tag(request, state, response, choice, start)
    return response
