"""Every prediction goes to the durable log (off the request path) and to a small in-memory window.

The window feeds two cheap drift gauges in /metrics — recent mean confidence and low-confidence
rate per variant — so an alert can fire without running `signlens monitor report`.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from signlens.production.drift import LOW_CONFIDENCE
from signlens.production.predlog import PredictionLog, PredictionRecord, grid_stats


class Recorder:
    def __init__(self, log_path: Path | None, log_images: bool, window: int):
        self.log = PredictionLog(log_path) if log_path is not None else None
        self.log_images = log_images
        self._window = window
        self.recent: dict[str, deque[float]] = {}

    def record(self, answer: dict[str, Any], variant: str, model: str, pixels: np.ndarray,
               width: int, height: int) -> None:
        """Never raises into the request: the log counts its own failures."""
        self.recent.setdefault(variant, deque(maxlen=self._window)).append(answer["confidence"])
        if self.log is None:
            return
        brightness, contrast = grid_stats(pixels)
        self.log.record(PredictionRecord(
            id=answer["id"], ts=time.time(), variant=variant, model=model, model_version=answer["version"],
            letter=answer["letter"], confidence=answer["confidence"], latency_ms=answer["latency_ms"],
            brightness=brightness, contrast=contrast, width=width, height=height,
            hand_found=bool(answer["input"]["hand_found"]),
            image=pixels.astype(np.uint8).tobytes() if self.log_images else None))

    def close(self) -> None:
        if self.log is not None:
            self.log.close()


class RecorderCollector(Collector):
    """Reads the recorder at scrape time (the app's recorder exists only while it runs)."""

    def __init__(self, state: Any):
        self._state = state

    def collect(self) -> Iterator[Any]:
        rec: Recorder | None = getattr(self._state, "recorder", None)
        written = CounterMetricFamily("signlens_prediction_log_writes", "Predictions written to the log")
        failed = CounterMetricFamily("signlens_prediction_log_failures",
                                     "Predictions lost: log unavailable or its queue full")
        mean = GaugeMetricFamily("signlens_recent_mean_confidence", "Mean top confidence, recent predictions",
                                 labels=["variant"])
        low = GaugeMetricFamily("signlens_recent_low_confidence_rate",
                                f"Share of recent predictions with confidence < {LOW_CONFIDENCE}", labels=["variant"])
        log = rec.log if rec else None
        written.add_metric([], log.written if log else 0)
        failed.add_metric([], log.failed if log else 0)
        for variant, values in list(rec.recent.items()) if rec else []:
            conf = np.fromiter(list(values), float)
            if conf.size:
                mean.add_metric([variant], float(conf.mean()))
                low.add_metric([variant], float((conf < LOW_CONFIDENCE).mean()))
        yield from (written, failed, mean, low)
