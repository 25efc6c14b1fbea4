"""Teach mode: a user's own webcam samples become a personal model served beside the others.

Samples are kept as an ordinary image folder, `<teach_dir>/<session>/samples/<LETTER>/<n>.png`,
the layout `signlens finetune --images` reads, so what the page collected can be fine-tuned again
from the CLI. A fine-tune takes a CPU for a minute or so: one runs at a time, on its own thread so
predictions keep being answered, and the page polls the job for progress. The result is saved in
`<session>/model`, logged and registered in MLflow (best effort: a store failure leaves it
unregistered but served) and served as `personal-<session[:8]>`; personal models already on disk
are served again when the server restarts. A job is written to `<session>/job.json` until it
ends, so one a crash or kill interrupted runs again, under the same id, when the server restarts.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Path as PathParam, Request
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from signlens import labels
from signlens.models.artifact import META_FILE
from signlens.errors import SignlensError
from signlens.vision.preprocess import decode_image, preprocess
from signlens.serving.inputs import IMAGE_TYPES, BadInput, media_type
from signlens.serving.routes import InputInfo, preview_png
from signlens.serving.swap import ServedModel, load_checked, start_in

#: Samples are stored at most this many pixels on a side: enough for the hand finder, bounded on disk.
STORED_SIDE = 640
#: Personal models served at once (newest first); older ones stay on disk, unserved.
MAX_PERSONAL_SERVED = 5
PREFIX = "personal-"
#: In a session's folder while its fine-tune is unfinished.
JOB_FILE = "job.json"

teach_router = APIRouter(prefix="/v1/teach", tags=["teach"])
Session = PathParam(pattern="^[0-9a-f]{32}$", description="a session id from POST /v1/teach/sessions")
Letter = PathParam(pattern="^[A-Za-z]$", description="one of the 24 static letters")


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


def _root(request: Request) -> Path:
    root = request.app.state.settings.teach_dir
    if root is None:
        raise BadInput(404, "teach_disabled", "teach mode is off on this server (signlens serve --teach)")
    return root


def _session_dir(request: Request, session: str) -> Path:
    path = _root(request) / session
    if not path.is_dir():
        raise BadInput(404, "unknown_session", f"no teach session {session}; start one with POST /v1/teach/sessions")
    return path


def _letter(letter: str) -> str:
    try:
        return labels.LETTERS[labels.index_of_letter(letter)]
    except ValueError as exc:
        raise BadInput(422, "bad_letter", str(exc)) from None


def personal_name(session: str) -> str:
    return PREFIX + session[:8]


def _info(request: Request, session: str, path: Path) -> dict[str, Any]:
    samples = path / "samples"
    counts = {d.name: sum(1 for _ in d.glob("*.png")) for d in sorted(samples.iterdir())} if samples.is_dir() else {}
    counts = {k: v for k, v in counts.items() if v}
    name = personal_name(session)
    return {"session": session, "counts": counts, "total": sum(counts.values()),
            "model": name if name in request.app.state.models else None}


def _store(data: bytes, max_pixels: int, folder: Path, max_per_letter: int) -> tuple[int, Any]:
    """Decode (safely), shrink and save one sample as PNG; returns (its number, the preprocessing)."""
    image = decode_image(data, max_pixels)
    # Shown back to the user: the crop the fine-tune will train on (`data.load` reads a sample
    # folder with landmarks, and they check the box): the user sees what it will learn from.
    done = preprocess(image)
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob("*.png"))
    if len(existing) >= max_per_letter:
        raise BadInput(409, "letter_full", f"{folder.name} already has {len(existing)} samples (the limit); "
                                           "delete them to capture again")
    n = max((int(p.stem) for p in existing if p.stem.isdigit()), default=0) + 1
    pil = Image.fromarray(image)
    pil.thumbnail((STORED_SIDE, STORED_SIDE))  # re-encoded: the bytes the user sent are never stored
    pil.save(folder / f"{n:03d}.png")
    return len(existing) + 1, done


@teach_router.post("/sessions", response_model=SessionInfo, status_code=201, summary="Start a teach session")
async def new_session(request: Request) -> dict[str, Any]:
    session = uuid.uuid4().hex
    path = _root(request) / session
    path.mkdir(parents=True)
    return _info(request, session, path)


@teach_router.get("/sessions/{session}", response_model=SessionInfo, summary="Samples per letter so far",
                  responses={404: {"description": "unknown session"}})
async def get_session(request: Request, session: str = Session) -> dict[str, Any]:
    return _info(request, session, _session_dir(request, session))


@teach_router.post(
    "/sessions/{session}/samples/{letter}", response_model=SampleResponse, summary="Add one sample of a letter",
    openapi_extra={"requestBody": {"required": True, "content": {
        kind: {"schema": {"type": "string", "format": "binary"}} for kind in IMAGE_TYPES}}},
    responses={404: {"description": "unknown session"}, 409: {"description": "the letter has the most samples allowed"},
               415: {"description": "not a png/jpeg/webp body"}, 422: {"description": "undecodable image or bad letter"}})
async def add_sample(request: Request, session: str = Session, letter: str = Letter) -> dict[str, Any]:
    path = _session_dir(request, session)
    letter = _letter(letter)
    kind = media_type(request)
    if kind not in IMAGE_TYPES:
        raise BadInput(415, "unsupported_media_type", f"send the sample as one of {', '.join(IMAGE_TYPES)}")
    body = await request.body()
    if not body:
        raise BadInput(400, "empty_body", "the request body is empty")
    settings = request.app.state.settings
    try:
        count, done = await asyncio.to_thread(_store, body, settings.max_image_pixels, path / "samples" / letter,
                                              settings.teach_max_per_letter)
    except SignlensError as exc:
        raise BadInput(422, "bad_image", str(exc)) from None
    return {**_info(request, session, path), "letter": letter,
            "input": {"preview_png": preview_png(done.pixels), "box": list(done.box), "hand_found": done.hand_found}}


@teach_router.delete("/sessions/{session}/samples/{letter}", response_model=SessionInfo,
                     summary="Delete every sample of a letter", responses={404: {"description": "unknown session"}})
async def delete_samples(request: Request, session: str = Session, letter: str = Letter) -> dict[str, Any]:
    path = _session_dir(request, session)
    shutil.rmtree(path / "samples" / _letter(letter), ignore_errors=True)
    return _info(request, session, path)


def _finetune_blocking(base: Any, samples: Path, out: Path, epochs: int, anchor: str | None, job: Job) -> Any:
    """The worker-thread part: fine-tune, register (best effort), load and smoke-check the result."""
    from signlens.tracking import runs as tracking
    from signlens.data import load
    from signlens.training.finetune import finetune

    user = load(samples, skip_invalid=True)
    staging = out.with_name(f".{out.name}-{job.id}")
    result = finetune(base, user, staging, anchor=load(anchor) if anchor else None, epochs=epochs,
                      progress=lambda done, _total: setattr(job, "epoch", done))
    shutil.rmtree(out, ignore_errors=True)
    staging.replace(out)  # the previous personal model is replaced only by a complete one
    try:
        _run_id, mv = tracking.log_finetune(out, result.meta, result.history)
        job.registered = f"models:/{mv.name}/{mv.version}"
    except tracking.TrackingError as exc:
        job.warning = f"not registered in MLflow: {exc}"
    return load_checked(str(out))


async def _run(app: Any, job: Job, base: ServedModel, session_dir: Path) -> None:
    settings = app.state.settings
    try:
        predictor = await asyncio.get_running_loop().run_in_executor(
            app.state.teach_executor, _finetune_blocking, base.predictor.artifact, session_dir / "samples",
            session_dir / "model", job.epochs, settings.teach_anchor, job)
        serve(app, personal_name(job.session), predictor)
        job.model, job.version, job.status = personal_name(job.session), predictor.version, "done"
    except Exception as exc:  # the job reports why; the server and its other models carry on
        job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
    # Only an ended job leaves its file; a cancelled one (the server stopping) keeps it to run again.
    job.finished = time.time()
    (session_dir / JOB_FILE).unlink(missing_ok=True)


def _launch(app: Any, job: Job, base: ServedModel, session_dir: Path) -> None:
    (session_dir / JOB_FILE).write_text(job.model_dump_json())
    app.state.teach_jobs[job.id] = job
    app.state.teach_tasks.add(task := asyncio.create_task(_run(app, job, base, session_dir)))
    task.add_done_callback(app.state.teach_tasks.discard)


def resume_interrupted(app: Any) -> None:
    """Run again the fine-tunes a crashed or killed server left unfinished (their samples are on disk)."""
    root = app.state.settings.teach_dir
    for path in sorted(root.glob(f"*/{JOB_FILE}")) if root is not None and root.is_dir() else []:
        try:
            job = Job.model_validate_json(path.read_text())
        except ValueError as exc:
            print(f"signlens: warning: unreadable fine-tune job {path} dropped: {exc}", flush=True)
            path.unlink()
            continue
        job = job.model_copy(update={"status": "running", "epoch": 0, "started": time.time()})
        base = app.state.models.get(job.base)
        if base is None:
            job.status, job.error, job.finished = "failed", f"base model {job.base!r} is no longer served", time.time()
            app.state.teach_jobs[job.id] = job
            path.unlink()
            continue
        _launch(app, job, base, path.parent)


def serve(app: Any, name: str, predictor: Any) -> None:
    """Serve (or replace) a personal model; keep at most MAX_PERSONAL_SERVED of them (on the event loop)."""
    current = app.state.models
    others = [k for k in current if k.startswith(PREFIX) and k != name]
    leaving = others[: max(0, len(others) + 1 - MAX_PERSONAL_SERVED)] + [name] * (name in current)
    app.state.models = {**{k: v for k, v in current.items() if k not in leaving}, name: start_in(app, name, predictor)}
    for served in (current[k] for k in leaving):  # replaced or retired: finish what they hold, then stop
        task = asyncio.get_running_loop().create_task(served.batcher.drain())
        app.state.teach_tasks.add(task)
        task.add_done_callback(app.state.teach_tasks.discard)


@teach_router.post("/sessions/{session}/finetune", response_model=Job, status_code=202,
                   summary="Fine-tune a personal model on this session's samples (poll the job for progress)",
                   responses={404: {"description": "unknown session or base model"},
                              409: {"description": "a fine-tune is already running"},
                              422: {"description": "no samples yet"}})
async def start_finetune(request: Request, body: FinetuneRequest, session: str = Session) -> Job:
    app = request.app
    path = _session_dir(request, session)
    base_name = body.base or app.state.settings.models[0][0]
    base = app.state.models.get(base_name)
    if base is None:
        raise BadInput(404, "unknown_model", f"no model named {base_name!r}; loaded: {', '.join(app.state.models)}")
    if not _info(request, session, path)["total"]:
        raise BadInput(422, "no_samples", "capture some samples first")
    if any(j.status == "running" for j in app.state.teach_jobs.values()):
        raise BadInput(409, "finetune_running", "another fine-tune is running; try again when it is done")
    job = Job(id=uuid.uuid4().hex, session=session, base=base_name, epochs=body.epochs)
    _launch(app, job, base, path)
    return job


@teach_router.get("/jobs/{job}", response_model=Job, summary="A fine-tune job's progress and result",
                  responses={404: {"description": "unknown job"}})
async def get_job(request: Request, job: str = PathParam(pattern="^[0-9a-f]{32}$")) -> Job:
    found = request.app.state.teach_jobs.get(job)
    if found is None:
        raise BadInput(404, "unknown_job", f"no fine-tune job {job}")
    return found


def saved_models(root: Path | None) -> list[tuple[str, Path]]:
    """(serving name, artifact dir) of the personal models on disk, newest first, at most MAX_PERSONAL_SERVED."""
    if root is None or not root.is_dir():
        return []
    found = sorted((p / "model" for p in root.iterdir() if (p / "model" / META_FILE).is_file()),
                   key=lambda p: p.stat().st_mtime, reverse=True)
    return [(personal_name(p.parent.name), p) for p in found[:MAX_PERSONAL_SERVED]][::-1]

