"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from signlens.serving.deps import MetricsDep, Models, Settings
from signlens.serving.schemas import COMMON_ERRORS

router = APIRouter(tags=["health"], responses=COMMON_ERRORS)


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: every configured model is loaded",
            responses={503: {"description": "models still loading",
                             "content": {"application/json": {"schema": {"type": "object", "required": ["status"],
                                                                         "properties": {"status": {"type": "string"}}}}}}})
async def readyz(models: Models, settings: Settings) -> JSONResponse:
    ready = all(name in models for name, _ in settings.models)
    return JSONResponse({"status": "ready" if ready else "loading"}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
