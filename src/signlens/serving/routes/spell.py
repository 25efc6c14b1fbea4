"""POST /v1/spell: the letters of one fingerspelled word, in order -> the word (signlens.spelling).

The letters come as multipart `images` files, as JSON `{"images": [base64...]}`, or as JSON
`{"probabilities": [[24 numbers]...]}` (what the page sends: it has each held letter's
probabilities already). JSON may bring `"words"`: the user's own words (names) for this request.
Images pass the same checks as /v1/predict (inputs.py) and go through the served model; more letters
than `ServeSettings.max_spell_letters` is 413. The lexicon is read once, on the first request.
One request is one word: a client spelling several words sends each on its own (the page does).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from signlens import labels
from signlens.errors import SignlensError
from signlens.serving import inputs
from signlens.serving.deps import Settings, State
from signlens.serving.inputs import BadInput
from signlens.serving.routes.predict import ModelQuery, choose, infer, wants_hands
from signlens.serving.schemas import COMMON_ERRORS, error_docs
from signlens.spelling import english
from signlens.spelling.decoder import check_probabilities
from signlens.spelling.result import spell

router = APIRouter(tags=["spell"], responses=COMMON_ERRORS)
_ERRORS = error_docs({400: "empty or malformed body", 404: "unknown model", 413: "too many letters or too large",
                      415: "unsupported content type or image format",
                      422: "undecodable image, bad probabilities or a bad word", 503: "models still loading"})
#: Most user words in one request (each costs the decoder a little; a page sends a user's short list).
MAX_WORDS = 1000


class SpellJSON(BaseModel):
    """Exactly one of `images` or `probabilities`, one entry per signed letter, in order."""

    model_config = ConfigDict(extra="forbid")
    images: list[str] | None = Field(None, description="base64 png/jpeg/webp (data: URLs allowed), one per letter")
    probabilities: list[list[float]] | None = Field(
        None, description=f"one vector of {labels.N_CLASSES} letter probabilities per letter ({''.join(labels.LETTERS)})")
    words: list[str] = Field([], max_length=MAX_WORDS,
                             description="your own words (names) to add to the lexicon for this request")


class LetterReading(BaseModel):
    letter: str
    confidence: float


class SpellCandidate(BaseModel):
    text: str
    score: float = Field(description="posterior probability among every hypothesis scored")
    source: str = Field(description="lexicon, user (one of `words`) or letters (the per-letter reading, not a word)")
    edit: str = Field(description="'' or the segmenter slip assumed, e.g. 'dropped L', 'doubled E'")


class SpellResponse(BaseModel):
    text: str = Field(description="the best candidate")
    letters: list[LetterReading] = Field(description="the per-letter reading: each letter's most probable letter")
    candidates: list[SpellCandidate]
    model: str | None = Field(description="the served model that read the images (None for probabilities)")
    latency_ms: float


_SPELL_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["images"], "properties": {
                "images": {"type": "array", "items": {"type": "string", "format": "binary"}}}}},
            "application/json": {"schema": SpellJSON.model_json_schema(ref_template="#/components/schemas/{model}")},
        },
    }
}


def _probabilities(rows: list[list[float]]) -> np.ndarray:
    wrong = [i for i, row in enumerate(rows) if len(row) != labels.N_CLASSES]
    if wrong:
        raise BadInput(422, "bad_probabilities", f"letter {wrong[0] + 1} has {len(rows[wrong[0]])} probabilities; "
                       f"each letter needs {labels.N_CLASSES} ({''.join(labels.LETTERS)})")
    probs = np.asarray(rows, dtype=np.float64)
    try:
        return check_probabilities(probs)
    except SignlensError as exc:
        raise BadInput(422, "bad_probabilities", str(exc)) from None


async def _read(request: Request, max_letters: int) -> tuple[list[Any], SpellJSON | None]:
    """The letters (image bytes, or a SpellJSON with probabilities) in the order sent."""
    kind = inputs.media_type(request)
    if kind not in (inputs.JSON_TYPE, inputs.MULTIPART_TYPE):
        raise BadInput(415, "unsupported_media_type",
                       f"content type {kind or '(none)'!r} not accepted; use {inputs.JSON_TYPE} or {inputs.MULTIPART_TYPE}")
    body = await request.body()
    if not body:
        raise BadInput(400, "empty_body", "the request body is empty")
    if kind == inputs.MULTIPART_TYPE:
        files = await inputs.read_files(request, "images")
        letters: list[Any] = files
        parsed = None
    else:
        parsed = await inputs.parse_json(body, SpellJSON, max_letters)
        if (parsed.images is None) == (parsed.probabilities is None):
            raise BadInput(422, "bad_json", "give exactly one of 'images' (base64) or 'probabilities'")
        letters = parsed.images if parsed.images is not None else parsed.probabilities
    if not letters:
        raise BadInput(422, "no_letters", "no letters to spell: send at least one image or probability vector")
    if len(letters) > max_letters:
        raise BadInput(413, "too_many_letters", f"{len(letters)} letters; the limit is {max_letters}")
    return letters, parsed


def _decode(probs: np.ndarray, words: list[str], top: int) -> dict[str, Any]:
    lexicon = english()  # read once per process, on the first request
    try:
        lexicon = lexicon.with_words(words) if words else lexicon
    except SignlensError as exc:
        raise BadInput(422, "bad_word", str(exc)) from None
    return spell(probs, lexicon, top=top)


@router.post("/v1/spell", response_model=SpellResponse, openapi_extra=_SPELL_BODY, responses=_ERRORS,
             summary="Spell a word: one image (or probability vector) per signed letter, in order")
async def spell_word(request: Request, state: State, settings: Settings, model: str | None = ModelQuery,
                     top: int = Query(5, ge=1, le=20, description="candidates to return")) -> JSONResponse:
    start = time.perf_counter()
    letters, parsed = await _read(request, settings.max_spell_letters)
    name = None
    if parsed is not None and parsed.probabilities is not None:
        probs = _probabilities(parsed.probabilities)
    else:
        choice = choose(request, state, model)
        hands = wants_hands(state, choice)
        if parsed is not None:  # base64 strings
            letters = [inputs.b64decode(text) for text in letters]
        subs = [await inputs.decode(data, state.limits, hands) for data in letters]
        served, probs = await infer(state, choice.variant, subs)
        name = served.name
    words = parsed.words if parsed is not None else []
    answer = await asyncio.to_thread(_decode, probs, words, top)  # milliseconds of numpy: off the event loop
    return JSONResponse({**answer, "model": name, "latency_ms": (time.perf_counter() - start) * 1000})
