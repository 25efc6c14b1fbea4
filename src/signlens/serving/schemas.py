"""Request and response bodies of the HTTP API (pydantic models: the OpenAPI schema comes from here)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict


#: The 24 static letters (no J, Z), either case: what the API documents a letter field as.
LETTER_PATTERN = "^[A-IK-Ya-ik-y]$"


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: a machine-readable reason and a sentence for people."""

    error: str
    detail: str


def error_docs(reasons: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error statuses, each answered with an ErrorBody."""
    return {code: {"model": ErrorBody, "description": why} for code, why in reasons.items()}


#: What any route may answer: a body FastAPI cannot parse, one over the size limit, a bad field.
COMMON_ERRORS = error_docs({400: "malformed body", 413: "body over the size limit",
                            422: "invalid request (the detail names the field)"})


#: A JSON number, never a bool or a numeric string (pydantic's lax mode would turn true and "1" into 1.0).
Pixel = Annotated[float, Strict()]


class ImageJSON(BaseModel):
    """One image: exactly one of `image` (base64 png/jpeg/webp, data: URL allowed) or `pixels`."""

    model_config = ConfigDict(extra="forbid")
    image: str | None = Field(None, description="base64-encoded png/jpeg/webp, or a data: URL")
    pixels: list[Pixel] | list[list[Pixel]] | None = Field(
        None, description="784 grayscale values 0..255, flat or as 28 rows of 28")


class BatchJSON(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[ImageJSON] = Field(..., min_length=1)


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
    # Validated by the route (J and Z hear "bad_letter"), documented as exactly the 24 letters.
    true_letter: str = Field(description="the letter the image really shows",
                             json_schema_extra={"pattern": LETTER_PATTERN})


class FeedbackResponse(BaseModel):
    prediction_id: str
    true_letter: str


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = Field(description="serving name of the model to replace")
    ref: str = Field(pattern=r"^[^\x00-\x1f\x7f]+$",
                     description="models:/…, runs:/… or a path inside the server's model store (no control characters)")


class ReloadResponse(BaseModel):
    model: str
    version: str
    previous_version: str


class TrafficRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weights: str = Field(description="e.g. 'champion=80,challenger=20'")


class TrafficResponse(BaseModel):
    weights: dict[str, float]


class SessionInfo(BaseModel):
    session: str
    counts: dict[str, int] = Field(description="samples stored per letter")
    total: int
    model: str | None = Field(description="serving name of this session's personal model, once trained")


class SampleResponse(SessionInfo):
    letter: str
    input: InputInfo


class FinetuneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base: str | None = Field(None, description="serving name of the model to start from (default: the default)")
    epochs: int = Field(8, ge=1, le=30)


class Job(BaseModel):
    """A fine-tune job; its worker thread updates `epoch` and the result fields in place."""

    id: str
    session: str
    base: str
    epochs: int
    status: str = Field("running", description="running, done or failed")
    epoch: int = Field(0, description="epochs finished so far")
    model: str | None = None
    version: str | None = None
    registered: str | None = Field(None, description="models:/NAME/VERSION; None when the store failed")
    warning: str | None = None
    error: str | None = None
    started: float = Field(default_factory=time.time)
    finished: float | None = None
