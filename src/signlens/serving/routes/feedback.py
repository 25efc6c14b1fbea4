"""Feedback: a user says which letter a logged prediction really showed."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from fastapi import APIRouter

from signlens.production.predlog import add_feedback
from signlens.serving.deps import Settings
from signlens.serving.inputs import BadInput, letter_of
from signlens.serving.schemas import COMMON_ERRORS, FeedbackRequest, FeedbackResponse, error_docs

router = APIRouter(tags=["feedback"], responses=COMMON_ERRORS)

#: How long feedback waits for its prediction to reach the log (written every 0.2 s) before 404.
FEEDBACK_WAIT_S = 1.0


@router.post("/v1/feedback", response_model=FeedbackResponse, summary="Correct a prediction: it was this letter",
             responses=error_docs({404: "unknown prediction id, or no prediction log",
                                   422: "not one of the 24 letters", 503: "the prediction log is unavailable"}))
async def feedback(body: FeedbackRequest, settings: Settings) -> dict[str, str]:
    letter = letter_of(body.true_letter)
    path = settings.prediction_log
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
