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
from pydantic import BaseModel, ConfigDict, Field

from signlens.errors import SignlensError
from signlens.production.ab import parse_weights
from signlens.serving.inputs import BadInput
from signlens.serving.settings import check_traffic
from signlens.serving.swap import load_checked, start_in

REGISTRY_PREFIXES = ("models:/", "runs:/")


def require_admin(request: Request) -> None:
    token = request.app.state.settings.admin_token
    if not token:
        raise BadInput(404, "admin_disabled", "admin endpoints are disabled (no admin token configured)")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise BadInput(401, "unauthorized", "send 'Authorization: Bearer <admin token>'",
                       headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise BadInput(403, "forbidden", "wrong admin token")


admin_router = APIRouter(prefix="/v1/admin", dependencies=[Depends(require_admin)], tags=["admin"])


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = Field(description="serving name of the model to replace")
    ref: str = Field(description="models:/…, runs:/… or a path inside the server's model store")


class TrafficRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weights: str = Field(description="e.g. 'champion=80,challenger=20'")


def safe_ref(ref: str, root: Path) -> str:
    """A registry ref as is, or a path resolved (symlinks too) that must stay inside the model store."""
    if ref.startswith(REGISTRY_PREFIXES):
        return ref
    root = root.resolve()
    path = (root / ref).resolve()  # an absolute ref replaces root here, and is checked the same way
    if not path.is_relative_to(root):
        raise BadInput(400, "ref_outside_model_store", f"{ref!r} is outside the model store {root}")
    return str(path)


@admin_router.post("/reload", summary="Load a model version in the background and swap it in atomically",
                   responses={400: {"description": "path outside the model store"}, 404: {"description": "unknown model"},
                              409: {"description": "another reload is running"},
                              422: {"description": "model failed to load or the smoke prediction"}})
async def reload(request: Request, body: ReloadRequest) -> dict[str, Any]:
    app, settings, metrics = request.app, request.app.state.settings, request.app.state.metrics
    if body.model not in app.state.models:
        raise BadInput(404, "unknown_model", f"no model named {body.model!r}; loaded: {', '.join(app.state.models)}")
    ref = safe_ref(body.ref, settings.model_root)
    lock: asyncio.Lock = app.state.reload_lock
    if lock.locked():
        raise BadInput(409, "reload_in_progress", "another reload is running; try again when it is done")
    async with lock:
        try:
            predictor = await asyncio.to_thread(load_checked, ref)
        except Exception as exc:  # anything unservable is refused; the old model keeps serving
            metrics.swaps.labels(body.model, "refused").inc()
            raise BadInput(422, "model_refused", f"{body.ref}: {type(exc).__name__}: {exc}") from None
        old = app.state.models[body.model]
        new = start_in(app, body.model, predictor)
        app.state.models = {**app.state.models, body.model: new}
        await old.batcher.drain()
        metrics.swaps.labels(body.model, "swapped").inc()
    return {"model": body.model, "version": predictor.version, "previous_version": old.predictor.version}


@admin_router.put("/traffic", summary="Replace the A/B traffic weights",
                  responses={422: {"description": "malformed weights or unknown model names"}})
async def traffic(request: Request, body: TrafficRequest) -> dict[str, Any]:
    try:
        weights = tuple((v.name, v.weight) for v in parse_weights(body.weights))
        check_traffic(weights, list(request.app.state.models))
    except (SignlensError, ValueError) as exc:
        raise BadInput(422, "bad_weights", str(exc)) from None
    request.app.state.traffic.set(weights)
    return {"weights": request.app.state.traffic.weights()}
