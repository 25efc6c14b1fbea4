"""Schemathesis fuzzes every documented operation from /openapi.json: no input may cause a 5xx."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from signlens.serving.settings import ServeSettings
from tests.live_server import live_server


@pytest.fixture(scope="module")
def server_url(tiny_artifact: Path) -> Iterator[str]:
    with live_server(ServeSettings(models=(("tiny", str(tiny_artifact)),), max_upload_bytes=200_000)) as url:
        yield url


def test_no_server_errors(server_url: str) -> None:
    """Every operation, ~20 generated requests each (schemathesis's pytest plugin does not load
    lazily under this pytest, so the loop over operations is explicit)."""
    schema = schemathesis.openapi.from_url(f"{server_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/predict", "/v1/predict/batch", "/v1/models"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            response = case.call(timeout=30)
            where = f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}"
            assert response.status_code < 500, where
            if response.status_code >= 400:
                assert response.json()["detail"], where

        check()
