"""What the server serves: models, versions, metrics, A/B weights and the page's defaults."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from signlens import labels
from signlens.serving.deps import Models, Settings, State
from signlens.serving.schemas import COMMON_ERRORS, ModelsResponse

router = APIRouter(tags=["models"], responses=COMMON_ERRORS)


@router.get("/v1/models", response_model=ModelsResponse, summary="Loaded models, versions and metrics")
async def list_models(state: State, models: Models, settings: Settings) -> dict[str, Any]:
    infos = [{"name": m.name, "version": m.predictor.version,
              "source": str(m.predictor.artifact.path) if m.predictor.artifact.path else None,
              "metrics": m.predictor.artifact.meta.get("metrics", {})} for m in models.values()]
    return {"default": settings.models[0][0], "models": infos, "traffic": state.traffic.weights(),
            "letters": list(labels.LETTERS),
            "fingerspelling": {"hold_ms": settings.hold_ms, "confidence": settings.hold_confidence}}
