"""Teach mode's fine-tune jobs: run one at a time off the event loop, survive a restart, get served.

A fine-tune takes a CPU for a minute or so: one runs at a time, on its own thread so predictions
keep being answered, and the page polls the job for progress. The result is saved in
`<session>/model`, logged and registered in MLflow (best effort: a store failure leaves it
unregistered but served) and served as `personal-<session[:8]>`; personal models already on disk
are served again when the server restarts. A job is written to `<session>/job.json` until it
ends, so one a crash or kill interrupted runs again, under the same id, when the server restarts.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

from signlens.models.artifact import META_FILE
from signlens.serving.schemas import Job
from signlens.serving.state import ServerState
from signlens.serving.swap import ServedModel

#: Personal models served at once (newest first); older ones stay on disk, unserved.
MAX_PERSONAL_SERVED = 5
PREFIX = "personal-"
#: In a session's folder while its fine-tune is unfinished.
JOB_FILE = "job.json"
#: Ended jobs remembered for polling; older ones are forgotten (their models stay served).
KEEP_ENDED_JOBS = 50


def personal_name(session: str) -> str:
    return PREFIX + session[:8]


def _finetune_blocking(state: ServerState, base: Any, samples: Path, out: Path, job: Job) -> Any:
    """The worker-thread part: fine-tune, register (best effort), load and smoke-check the result.

    `process_wide_seed=False`: seeding would switch on TensorFlow's op determinism and reseed the
    global RNGs for the whole server process, changing the kernels every other request runs on."""
    from signlens.data import load
    from signlens.tracking import runs as tracking
    from signlens.training.finetune import finetune

    user = load(samples, skip_invalid=True)
    staging = out.with_name(f".{out.name}-{job.id}")
    anchor = state.settings.teach_anchor
    result = finetune(base.artifact, user, staging, anchor=load(anchor) if anchor else None, epochs=job.epochs,
                      progress=lambda done, _total: setattr(job, "epoch", done), process_wide_seed=False)
    shutil.rmtree(out, ignore_errors=True)
    staging.replace(out)  # the previous personal model is replaced only by a complete one
    try:
        _run_id, mv = tracking.log_finetune(out, result.meta, result.history)
        job.registered = f"models:/{mv.name}/{mv.version}"
    except tracking.TrackingError as exc:
        job.warning = f"not registered in MLflow: {exc}"
    return state.load(str(out), reference=base)


async def _run(state: ServerState, job: Job, base: ServedModel, session_dir: Path) -> None:
    try:
        predictor = await asyncio.get_running_loop().run_in_executor(
            state.teach_executor, _finetune_blocking, state, base.predictor, session_dir / "samples",
            session_dir / "model", job)
        serve_personal(state, personal_name(job.session), predictor)
        job.model, job.version, job.status = personal_name(job.session), predictor.version, "done"
    except Exception as exc:  # the job reports why; the server and its other models carry on
        job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
    # Only an ended job leaves its file; a cancelled one (the server stopping) keeps it to run again.
    job.finished = time.time()
    (session_dir / JOB_FILE).unlink(missing_ok=True)


def launch(state: ServerState, job: Job, base: ServedModel, session_dir: Path) -> None:
    """Record the job on disk (to resume after a crash) and start it."""
    (session_dir / JOB_FILE).write_text(job.model_dump_json())
    ended = [k for k, j in state.teach_jobs.items() if j.status != "running"]
    for key in ended[: max(0, len(ended) - KEEP_ENDED_JOBS)]:  # oldest first: dicts keep insertion order
        del state.teach_jobs[key]
    state.teach_jobs[job.id] = job
    state.background(_run(state, job, base, session_dir))


def resume_interrupted(state: ServerState) -> None:
    """Run again the fine-tunes a crashed or killed server left unfinished (their samples are on disk)."""
    root = state.settings.teach_dir
    for path in sorted(root.glob(f"*/{JOB_FILE}")) if root is not None and root.is_dir() else []:
        try:
            job = Job.model_validate_json(path.read_text())
        except ValueError as exc:
            print(f"signlens: warning: unreadable fine-tune job {path} dropped: {exc}", flush=True)
            path.unlink()
            continue
        job = job.model_copy(update={"status": "running", "epoch": 0, "started": time.time()})
        base = state.models.get(job.base)
        if base is None:
            job.status, job.error, job.finished = "failed", f"base model {job.base!r} is no longer served", time.time()
            state.teach_jobs[job.id] = job
            path.unlink()
            continue
        launch(state, job, base, path.parent)


def serve_personal(state: ServerState, name: str, predictor: Any) -> None:
    """Serve (or replace) a personal model; keep at most MAX_PERSONAL_SERVED of them (on the event loop)."""
    current = state.models
    others = [k for k in current if k.startswith(PREFIX) and k != name]
    leaving = others[: max(0, len(others) + 1 - MAX_PERSONAL_SERVED)] + [name] * (name in current)
    state.models = {**{k: v for k, v in current.items() if k not in leaving}, name: state.start(name, predictor)}
    for served in (current[k] for k in leaving):  # replaced or retired: finish what they hold, then stop
        state.background(served.batcher.drain())


def saved_models(root: Path | None) -> list[tuple[str, Path]]:
    """(serving name, artifact dir) of the personal models on disk, newest first, at most MAX_PERSONAL_SERVED."""
    if root is None or not root.is_dir():
        return []
    found = sorted((p / "model" for p in root.iterdir() if (p / "model" / META_FILE).is_file()),
                   key=lambda p: p.stat().st_mtime, reverse=True)
    return [(personal_name(p.parent.name), p) for p in found[:MAX_PERSONAL_SERVED]][::-1]
