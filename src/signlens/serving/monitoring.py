"""Prometheus metrics, in a registry owned by one app (so tests and several apps never collide)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter("signlens_http_requests", "HTTP requests by route and status",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("signlens_http_request_seconds", "HTTP request latency by route",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.predictions = Counter("signlens_predictions", "Predictions by model and top letter",
                                   ["model", "letter"], registry=r)
        self.errors = Counter("signlens_request_errors", "Rejected requests by reason", ["reason"], registry=r)
        self.variant_requests = Counter("signlens_variant_requests", "Prediction requests by A/B variant",
                                        ["variant"], registry=r)
        self.variant_latency = Histogram("signlens_variant_request_seconds", "Prediction latency by A/B variant",
                                         ["variant"], buckets=LATENCY_BUCKETS, registry=r)
        self.swaps = Counter("signlens_model_swaps", "Hot reloads by model and outcome", ["model", "outcome"],
                             registry=r)
        self.batch_size = Histogram("signlens_batch_size", "Images per model call (micro-batching)",
                                    ["model"], buckets=(1, 2, 4, 8, 16, 32, 64, 128), registry=r)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every request under its route template (never the raw path: bounded label values)."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            # routing records the matched route in the scope; unmatched paths share one label
            route = getattr(scope.get("route"), "path", None) or "other"
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)
