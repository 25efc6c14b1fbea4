"""The standing fuzz tier for the server: schemathesis (every check, valid and invalid requests) and
hypothesis over request bodies. The server never answers 5xx, every answer matches its documented
schema, and /healthz stays under 100 ms while a hostile request is being handled.

Small in the default tier (a few seconds); `-m slow` runs over 1,000 cases.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from signlens.serving.settings import ServeSettings
from tests.serving_support import assert_responsive, synthetic_examples
from tests.live_server import live_server

MAX_SESSIONS = 20
#: Statuses a schema-valid request may get besides 2xx: no schema can say "bytes that decode as a
#: png, jpeg or webp image" (415 for another format, 422 for none), "at most N images for this
#: server" (413), or which sessions and models exist (404).
VALID_BUT_REFUSED = ["2xx", "401", "403", "404", "409", "413", "415", "422", "429"]
#: Refusals of a schema-violating request: schemathesis's list lacks 413, the answer to a body with
#: more numbers than an image holds (refused before parsing).
INVALID_REFUSED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
CONFIG = SchemathesisConfig.from_dict({"checks": {
    "positive_data_acceptance": {"expected-statuses": VALID_BUT_REFUSED},
    "negative_data_rejection": {"expected-statuses": INVALID_REFUSED}}})


@pytest.fixture(scope="module")
def server(tiny_artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("fuzz")
    settings_ = ServeSettings(models=(("tiny", str(tiny_artifact)),), max_upload_bytes=200_000, prediction_log=None,
                              admin_token="fuzz-admin-token-0123456789", model_root=root, teach_dir=root / "teach",
                              teach_max_sessions=MAX_SESSIONS, known_examples=synthetic_examples(root / "known"))
    with live_server(settings_) as url:
        yield url, root / "teach"


def schemathesis_failures(url: str, per_operation: int) -> list[str]:
    """Every documented operation, valid and invalid requests, all of schemathesis's checks."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=CONFIG)
    failures: list[str] = []
    for operation in (result.ok() for result in schema.get_all_operations()):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=per_operation, deadline=None, suppress_health_check=list(HealthCheck),
                      database=None)
            def check(case: schemathesis.Case) -> None:
                case.call_and_validate(timeout=30)

            try:
                check()
            except Unsatisfiable:  # nothing to make invalid: an operation without parameters or body
                assert mode is GenerationMode.NEGATIVE and not operation.body and not list(operation.iter_parameters())
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups its failures; all are reported
                failures.append(f"{operation.label} ({mode.value}): {exc}"[:2000])
    return failures


def _healthz_ms(client: httpx.Client) -> float:
    start = time.perf_counter()
    assert client.get("/healthz").status_code == 200
    return (time.perf_counter() - start) * 1000


#: JSON the predict endpoints may be sent: any nesting of numbers, strings, bools and objects.
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=30) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=5),
                           max_leaves=200)
bodies = st.one_of(
    st.fixed_dictionaries({"pixels": json_values}),
    st.fixed_dictionaries({"image": st.text(max_size=200)}),
    st.fixed_dictionaries({"items": st.lists(st.fixed_dictionaries({"pixels": json_values}), max_size=4)}),
    json_values,
)
HOSTILE = [  # each once cost the server seconds, gigabytes or a 500
    ("/v1/predict", b'{"pixels": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
    ("/v1/predict", b'{"pixels": [' + b"0," * 90_000 + b"0]}"),
    ("/v1/predict/batch", b'{"items": [' + b'{"pixels": [' + b"1," * 783 + b'1]},' * 60 + b'{"pixels": []}]}'),
]


def hypothesis_check(url: str, examples: int) -> list[float]:
    """Generated JSON bodies at the predict endpoints while hostile ones run alongside: no 5xx, and
    /healthz latencies (ms) measured while the hostile requests were in flight."""
    stop = threading.Event()

    def hostile() -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            while not stop.is_set():
                for path, body in HOSTILE:
                    r = c.post(path, content=body, headers={"content-type": "application/json"})
                    assert r.status_code < 500, r.text

    latencies: list[float] = []
    attacker = threading.Thread(target=hostile, daemon=True)
    with httpx.Client(base_url=url, timeout=30) as client:
        attacker.start()

        @given(body=bodies, path=st.sampled_from(["/v1/predict", "/v1/predict/batch", "/v1/feedback"]))
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(body: Any, path: str) -> None:
            r = client.post(path, content=json.dumps(body, allow_nan=True), headers={"content-type": "application/json"})
            assert r.status_code < 500 and (r.status_code < 400 or r.json()["detail"]), (path, body, r.text)
            latencies.append(_healthz_ms(client))

        try:
            check()
        finally:
            stop.set()
            attacker.join(timeout=60)
    return latencies


def _assert_bounded(teach_dir: Path) -> None:
    sessions = list(teach_dir.iterdir()) if teach_dir.is_dir() else []
    assert len(sessions) <= MAX_SESSIONS, f"{len(sessions)} teach sessions left behind"


def test_schemathesis_all_checks_pass(server: tuple[str, Path]) -> None:
    url, teach_dir = server
    failures = schemathesis_failures(url, per_operation=2)
    assert not failures, "\n\n".join(failures)
    _assert_bounded(teach_dir)


def test_no_5xx_and_healthz_fast_under_generated_and_hostile_bodies(server: tuple[str, Path]) -> None:
    assert_responsive(hypothesis_check(server[0], examples=40))


@pytest.mark.slow
def test_schemathesis_all_checks_pass_at_scale(server: tuple[str, Path]) -> None:
    url, teach_dir = server
    failures = schemathesis_failures(url, per_operation=50)  # 14 operations × 2 modes × 50 = 1,400 cases
    assert not failures, "\n\n".join(failures)
    _assert_bounded(teach_dir)


@pytest.mark.slow
def test_no_5xx_and_healthz_fast_at_scale(server: tuple[str, Path]) -> None:
    assert_responsive(hypothesis_check(server[0], examples=1000))
