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


@pytest.mark.slow  # subsumed by tests/test_fuzz_server.py (every check, default tier); ~30 s
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


@pytest.fixture(scope="module")
def openapi() -> dict:
    from signlens.serving.app import create_app

    return create_app(ServeSettings(prediction_log=None)).openapi()  # the document needs no model loaded


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_ref_in_the_openapi_document_resolves(openapi: dict) -> None:
    """The batch body once pointed at #/components/schemas/ImageJSON, which did not exist."""
    for ref in set(_refs(openapi)):
        node: object = openapi
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(node, dict) and part in node, f"broken $ref {ref}"
            node = node[part]


def _valid(schema: dict, instance: object) -> bool:
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema).is_valid(instance)


def test_request_schemas_are_no_wider_than_the_server(openapi: dict) -> None:
    """What the documented schemas accept, the server accepts; what it refuses, they refuse."""
    paths, components = openapi["paths"], openapi["components"]["schemas"]
    one = paths["/v1/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    batch = paths["/v1/predict/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    for good in ({"pixels": [0] * 784}, {"pixels": [[255] * 28] * 28}, {"image": "iVBORw0KGgo="}):
        assert _valid(one, good) and _valid(batch, {"items": [good]}), good
    for bad in ({"pixels": [True] * 784}, {"pixels": ["1"] * 784}, {"pixels": True}, {"pixels": [0] * 783},
                {"pixels": [256] * 784}, {"pixels": [[0] * 29] * 27}, {}, {"image": "AA==", "pixels": [0] * 784},
                {"img": "AA=="}):
        assert not _valid(one, bad) and not _valid(batch, {"items": [bad]}), bad
    assert not _valid(batch, {"items": []})
    feedback = components["FeedbackRequest"]
    assert _valid(feedback, {"prediction_id": "0" * 32, "true_letter": "a"})
    for letter in ("Z", "J", "j", "AB", ""):
        assert not _valid(feedback, {"prediction_id": "0" * 32, "true_letter": letter}), letter
    [letter] = [p for p in paths["/v1/teach/sessions/{session}/samples/{letter}"]["post"]["parameters"]
                if p["name"] == "letter"]
    assert _valid(letter["schema"], "Y") and not _valid(letter["schema"], "Z") and not _valid(letter["schema"], "J")
    reload = components["ReloadRequest"]
    assert not _valid(reload, {"model": "m", "ref": "a\x00b"}) and _valid(reload, {"model": "m", "ref": "v2"})


def test_every_error_answer_is_documented_as_the_error_body(openapi: dict) -> None:
    """Errors answer {error, detail}; the document once promised FastAPI's list-of-errors 422 body."""
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            codes = {code for code in operation["responses"] if code.startswith(("4", "5"))}
            assert "422" in codes, (method, path)
            for code in codes:
                content = operation["responses"][code].get("content", {}).get("application/json", {})
                if path != "/readyz":
                    assert content.get("schema") == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
    assert {"401", "403", "404"} <= set(openapi["paths"]["/v1/admin/reload"]["post"]["responses"])
