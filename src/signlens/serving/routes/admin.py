"""Admin endpoints: hot reload of a served model and live A/B weights, behind a bearer token.

With no token configured they do not exist (404): an operator must opt in. Model refs from a
request are untrusted: registry refs go to MLflow, paths must stay inside settings.model_root.
"""

from __future__ import annotations

import asyncio
import hmac
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request

from signlens.errors import SignlensError
from signlens.production.ab import parse_weights
from signlens.serving.deps import Settings, State
from signlens.serving.inputs import BadInput
from signlens.serving.schemas import COMMON_ERRORS, ReloadRequest, ReloadResponse, TrafficRequest, TrafficResponse, error_docs
from signlens.serving.settings import check_traffic

REGISTRY_PREFIXES = ("models:/", "runs:/")


def require_admin(request: Request, settings: Settings) -> None:
    token = settings.admin_token
    if not token:
        raise BadInput(404, "admin_disabled", "admin endpoints are disabled (no admin token configured)")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise BadInput(401, "unauthorized", "send 'Authorization: Bearer <admin token>'",
                       headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise BadInput(403, "forbidden", "wrong admin token")


router = APIRouter(prefix="/v1/admin", dependencies=[Depends(require_admin)], tags=["admin"],
                   responses={**COMMON_ERRORS, **error_docs({401: "no bearer token", 403: "wrong admin token",
                                                             404: "admin endpoints disabled (no token configured)"})})


def safe_ref(ref: str, root: Path) -> str:
    """A registry ref as is, or a path resolved (symlinks too) that must stay inside the model store."""
    if ref.startswith(REGISTRY_PREFIXES):
        return ref
    root = root.resolve()
    try:
        path = (root / ref).resolve()  # an absolute ref replaces root here, and is checked the same way
    except (ValueError, OSError) as exc:  # e.g. a NUL byte, or a name too long for the file system
        raise BadInput(400, "bad_ref", f"{ref!r} is not a usable path: {exc}") from None
    if not path.is_relative_to(root):
        raise BadInput(400, "ref_outside_model_store", f"{ref!r} is outside the model store {root}")
    return str(path)


@router.post("/reload", response_model=ReloadResponse,
             summary="Load a model version in the background and swap it in atomically",
             responses=error_docs({400: "path outside the model store", 401: "no bearer token",
                                   403: "wrong admin token", 404: "admin disabled, or unknown model",
                                   409: "another reload is running",
                                   422: "model failed to load or the smoke check"}))
async def reload(body: ReloadRequest, state: State, settings: Settings) -> dict[str, Any]:
    if body.model not in state.models:
        raise BadInput(404, "unknown_model", f"no model named {body.model!r}; loaded: {', '.join(state.models)}")
    ref = safe_ref(body.ref, settings.model_root)
    if state.reload_lock.locked():
        raise BadInput(409, "reload_in_progress", "another reload is running; try again when it is done")
    async with state.reload_lock:
        try:
            predictor = await asyncio.to_thread(state.load, ref, state.models[body.model].predictor)
        except Exception as exc:  # anything unservable is refused; the old model keeps serving
            state.metrics.swaps.labels(body.model, "refused").inc()
            raise BadInput(422, "model_refused", f"{body.ref}: {type(exc).__name__}: {exc}") from None
        old = state.models[body.model]
        state.models = {**state.models, body.model: state.start(body.model, predictor)}
        await old.batcher.drain()
        state.metrics.swaps.labels(body.model, "swapped").inc()
    return {"model": body.model, "version": predictor.version, "previous_version": old.predictor.version}


@router.put("/traffic", response_model=TrafficResponse, summary="Replace the A/B traffic weights",
            responses=error_docs({401: "no bearer token", 403: "wrong admin token", 404: "admin disabled",
                                  422: "malformed weights or unknown model names"}))
async def traffic(body: TrafficRequest, state: State) -> dict[str, Any]:
    try:
        weights = tuple((v.name, v.weight) for v in parse_weights(body.weights))
        check_traffic(weights, list(state.models))
    except (SignlensError, ValueError) as exc:
        raise BadInput(422, "bad_weights", str(exc)) from None
    state.traffic.set(weights)
    return {"weights": state.traffic.weights()}
