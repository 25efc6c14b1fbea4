"""Teach mode's HTTP side: sessions, samples per letter, and starting/polling fine-tune jobs.

Samples are kept as an ordinary image folder, `<teach_dir>/<session>/samples/<LETTER>/<n>.png`,
the layout `signlens finetune --images` reads, so what the page collected can be fine-tuned again
from the CLI. The jobs themselves run in teach_jobs.py.
"""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Path as PathParam, Request
from PIL import Image

from signlens.errors import SignlensError
from signlens.serving.deps import Settings, State
from signlens.serving.inputs import IMAGE_TYPES, BadInput, check_image_format, letter_of, media_type
from signlens.serving.routes.predict import preview_png
from signlens.serving.schemas import COMMON_ERRORS, LETTER_PATTERN, FinetuneRequest, Job, SampleResponse, SessionInfo, error_docs
from signlens.serving.state import ServerState
from signlens.serving.teach_jobs import JOB_FILE, launch, personal_name
from signlens.vision.preprocess import decode_image, preprocess

#: Samples are stored at most this many pixels on a side: enough for the hand finder, bounded on disk.
STORED_SIDE = 640
SESSION_NAME = re.compile("[0-9a-f]{32}")
_SAMPLE_LOCK = threading.Lock()

router = APIRouter(prefix="/v1/teach", tags=["teach"],
                   responses={**COMMON_ERRORS, **error_docs({404: "teach mode is off, or unknown session"})})
Session = PathParam(pattern="^[0-9a-f]{32}$", description="a session id from POST /v1/teach/sessions")
#: Validated loosely (any letter, so J and Z hear "bad_letter" from letter_of); documented exactly.
Letter = PathParam(pattern="^[A-Za-z]$", description="one of the 24 static letters",
                   json_schema_extra={"pattern": LETTER_PATTERN})


def _root(state: ServerState) -> Path:
    root = state.settings.teach_dir
    if root is None:
        raise BadInput(404, "teach_disabled", "teach mode is off on this server (signlens serve --teach)")
    return root


def _session_dir(state: ServerState, session: str) -> Path:
    path = _root(state) / session
    if not path.is_dir():
        raise BadInput(404, "unknown_session", f"no teach session {session}; start one with POST /v1/teach/sessions")
    return path


def _info(state: ServerState, session: str, path: Path) -> dict[str, Any]:
    samples = path / "samples"
    counts = {d.name: sum(1 for _ in d.glob("*.png")) for d in sorted(samples.iterdir())} if samples.is_dir() else {}
    counts = {k: v for k, v in counts.items() if v}
    name = personal_name(session)
    return {"session": session, "counts": counts, "total": sum(counts.values()),
            "model": name if name in state.models else None}


def _store(data: bytes, max_pixels: int, folder: Path, max_per_letter: int) -> tuple[int, Any]:
    """Decode (safely), shrink and save one sample as PNG; returns (its number, the preprocessing).

    Numbering and writing happen under one lock with an exclusive create, so parallel uploads to
    one letter never share a file name (each acknowledged sample is on disk) nor pass the limit."""
    image = decode_image(data, max_pixels)
    # Shown back to the user: the crop the fine-tune will train on (`data.load` reads a sample
    # folder with landmarks, and they check the box): the user sees what it will learn from.
    done = preprocess(image)
    pil = Image.fromarray(image)
    pil.thumbnail((STORED_SIDE, STORED_SIDE))  # re-encoded: the bytes the user sent are never stored
    png = io.BytesIO()
    pil.save(png, "PNG")
    folder.mkdir(parents=True, exist_ok=True)
    with _SAMPLE_LOCK:
        existing = sorted(folder.glob("*.png"))
        if len(existing) >= max_per_letter:
            raise BadInput(409, "letter_full", f"{folder.name} already has {len(existing)} samples (the limit); "
                                               "delete them to capture again")
        n = max((int(p.stem) for p in existing if p.stem.isdigit()), default=0) + 1
        with open(folder / f"{n:03d}.png", "xb") as f:
            f.write(png.getvalue())
    return len(existing) + 1, done


def _is_unused(path: Path) -> bool:
    """A session with no samples, no model and no job: nothing of the user's would be lost."""
    samples = path / "samples"
    has_samples = samples.is_dir() and any(samples.glob("*/*.png"))
    return not (has_samples or (path / "model").exists() or (path / JOB_FILE).exists())


def _make_room(root: Path, limit: int) -> None:
    """Keep at most `limit` sessions: the oldest unused ones go first; if all are in use, 429."""
    sessions = [p for p in root.iterdir() if p.is_dir() and SESSION_NAME.fullmatch(p.name)] if root.is_dir() else []
    excess = len(sessions) + 1 - limit
    if excess <= 0:
        return
    unused = sorted((p for p in sessions if _is_unused(p)), key=lambda p: p.stat().st_mtime)
    for path in unused[:excess]:
        shutil.rmtree(path, ignore_errors=True)
    if len(unused) < excess:
        raise BadInput(429, "too_many_sessions", f"this server keeps at most {limit} teach sessions, all in use")


@router.post("/sessions", response_model=SessionInfo, status_code=201, summary="Start a teach session",
             responses=error_docs({404: "teach mode is off", 429: "every session the server keeps is in use"}))
async def new_session(state: State) -> dict[str, Any]:
    session = uuid.uuid4().hex
    root = _root(state)
    await asyncio.to_thread(_make_room, root, state.settings.teach_max_sessions)
    path = root / session
    path.mkdir(parents=True)
    return _info(state, session, path)


@router.get("/sessions/{session}", response_model=SessionInfo, summary="Samples per letter so far",
            responses=error_docs({404: "teach mode is off, or unknown session"}))
async def get_session(state: State, session: str = Session) -> dict[str, Any]:
    return _info(state, session, _session_dir(state, session))


@router.post(
    "/sessions/{session}/samples/{letter}", response_model=SampleResponse, summary="Add one sample of a letter",
    openapi_extra={"requestBody": {"required": True, "content": {
        kind: {"schema": {"type": "string", "format": "binary", "minLength": 1}} for kind in IMAGE_TYPES}}},
    responses=error_docs({400: "empty body", 404: "teach mode is off, or unknown session",
                          409: "the letter has the most samples allowed", 415: "not a png/jpeg/webp body",
                          422: "undecodable image or bad letter"}))
async def add_sample(request: Request, state: State, settings: Settings, session: str = Session,
                     letter: str = Letter) -> dict[str, Any]:
    path = _session_dir(state, session)
    letter = letter_of(letter)
    kind = media_type(request)
    if kind not in IMAGE_TYPES:
        raise BadInput(415, "unsupported_media_type", f"send the sample as one of {', '.join(IMAGE_TYPES)}")
    body = await request.body()
    if not body:
        raise BadInput(400, "empty_body", "the request body is empty")
    check_image_format(body)
    try:
        async with state.limits.gate:
            count, done = await asyncio.to_thread(_store, body, settings.max_image_pixels, path / "samples" / letter,
                                                  settings.teach_max_per_letter)
    except SignlensError as exc:
        raise BadInput(422, "bad_image", str(exc)) from None
    return {**_info(state, session, path), "letter": letter,
            "input": {"preview_png": preview_png(done.pixels), "box": list(done.box), "hand_found": done.hand_found}}


@router.delete("/sessions/{session}/samples/{letter}", response_model=SessionInfo,
               summary="Delete every sample of a letter",
               responses=error_docs({404: "teach mode is off, or unknown session", 422: "not one of the 24 letters"}))
async def delete_samples(state: State, session: str = Session, letter: str = Letter) -> dict[str, Any]:
    path = _session_dir(state, session)
    shutil.rmtree(path / "samples" / letter_of(letter), ignore_errors=True)
    return _info(state, session, path)


@router.post("/sessions/{session}/finetune", response_model=Job, status_code=202,
             summary="Fine-tune a personal model on this session's samples (poll the job for progress)",
             responses=error_docs({404: "teach mode is off, unknown session or base model",
                                   409: "a fine-tune is already running", 422: "no samples yet"}))
async def start_finetune(body: FinetuneRequest, state: State, session: str = Session) -> Job:
    path = _session_dir(state, session)
    base_name = body.base or state.settings.models[0][0]
    base = state.models.get(base_name)
    if base is None:
        raise BadInput(404, "unknown_model", f"no model named {base_name!r}; loaded: {', '.join(state.models)}")
    if not _info(state, session, path)["total"]:
        raise BadInput(422, "no_samples", "capture some samples first")
    if any(j.status == "running" for j in state.teach_jobs.values()):
        raise BadInput(409, "finetune_running", "another fine-tune is running; try again when it is done")
    job = Job(id=uuid.uuid4().hex, session=session, base=base_name, epochs=body.epochs)
    launch(state, job, base, path)
    return job


@router.get("/jobs/{job}", response_model=Job, summary="A fine-tune job's progress and result",
            responses=error_docs({404: "unknown job"}))
async def get_job(state: State, job: str = PathParam(pattern="^[0-9a-f]{32}$")) -> Job:
    found = state.teach_jobs.get(job)
    if found is None:
        raise BadInput(404, "unknown_job", f"no fine-tune job {job}")
    return found
