"""The server's live state: one object per app, reached by the routes through `deps.py`.

Everything a request may need lives here instead of in loose `app.state` attributes, so the
type checker and a reader both see what the server holds. `models` is replaced whole on a swap
(never mutated in place), so a request that read it keeps a consistent view.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Coroutine

from signlens.serving.inputs import Limits
from signlens.serving.monitoring import Metrics
from signlens.serving.recorder import Recorder
from signlens.serving.settings import ServeSettings
from signlens.serving.swap import KnownExamples, ServedModel, load_checked, start_served
from signlens.serving.variants import Traffic

if TYPE_CHECKING:
    from signlens.inference.predictor import Predictor
    from signlens.serving.schemas import Job


@dataclass
class ServerState:
    settings: ServeSettings
    metrics: Metrics
    traffic: Traffic
    limits: Limits = field(init=False)
    known: KnownExamples | None = None  # loaded in the lifespan: the smoke check's images
    models: dict[str, ServedModel] = field(default_factory=dict)
    recorder: Recorder | None = None
    executor: ThreadPoolExecutor | None = None  # model calls (one thread: TF uses the cores itself)
    teach_executor: ThreadPoolExecutor | None = None  # fine-tunes, one at a time
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    teach_jobs: dict[str, Job] = field(default_factory=dict)
    #: strong references to background tasks: the event loop keeps only weak ones
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.limits = Limits(self.settings.max_image_pixels, asyncio.Semaphore(self.settings.max_heavy_decodes))

    def load(self, ref: str | None, reference: Predictor | None = None) -> Predictor:
        """load_checked against this server's known examples (blocking: call on a worker thread)."""
        assert self.known is not None, "the known examples load in the lifespan, before any model"
        return load_checked(ref, self.known, reference)

    def start(self, name: str, predictor: Predictor) -> ServedModel:
        """A checked predictor wrapped in a running batcher with this server's settings (on the loop)."""
        assert self.executor is not None, "models start in the lifespan, after the executor"
        s = self.settings
        return start_served(name, predictor, self.executor, s.batch_max_size, s.batch_wait_ms / 1000,
                            self.metrics.batch_size.labels(name).observe)

    def background(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a coroutine as a task the lifespan waits for on shutdown."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task
