"""Typed dependencies for the routes (`Annotated[..., Depends(...)]`), in place of `app.state` lookups."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from signlens.serving.inputs import BadInput
from signlens.serving.monitoring import Metrics
from signlens.serving.recorder import Recorder
from signlens.serving.settings import ServeSettings
from signlens.serving.state import ServerState
from signlens.serving.swap import ServedModel


def get_state(request: Request) -> ServerState:
    return request.app.state.server


State = Annotated[ServerState, Depends(get_state)]


def get_settings(state: State) -> ServeSettings:
    return state.settings


def get_metrics(state: State) -> Metrics:
    return state.metrics


def get_recorder(state: State) -> Recorder:
    if state.recorder is None:
        raise BadInput(503, "not_ready", "the server is still starting")
    return state.recorder


def get_models(state: State) -> dict[str, ServedModel]:
    """The served models now (a snapshot: a swap replaces the dict, never changes it)."""
    return state.models


Settings = Annotated[ServeSettings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
RecorderDep = Annotated[Recorder, Depends(get_recorder)]
Models = Annotated[dict[str, ServedModel], Depends(get_models)]
