"""Micro-batching: concurrent requests share one model call, run off the event loop.

A single image through the model costs about as much as thirty, so under load the server gathers
whatever requests arrive within a couple of milliseconds (up to a cap) into one
`Predictor.probabilities` call on a worker thread. While that call runs, the next batch gathers.
The wait only happens when the previous batch had company: a lone client never pays it.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor
from typing import Callable

import numpy as np

Infer = Callable[[np.ndarray], np.ndarray]


class MicroBatcher:
    def __init__(self, infer: Infer, executor: Executor, max_size: int, max_wait_s: float,
                 on_batch: Callable[[int], None] | None = None):
        self._infer = infer
        self._executor = executor
        self._max_size = max_size
        self._max_wait_s = max_wait_s
        self._on_batch = on_batch
        self._queue: asyncio.Queue[tuple[np.ndarray, asyncio.Future[np.ndarray]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._last_size = 1

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def drain(self) -> None:
        """Answer everything already submitted, then stop: how a swapped-out model retires."""
        await self._queue.join()
        await self.stop()

    async def submit(self, grids: np.ndarray) -> np.ndarray:
        """(K, 28, 28) uint8 grids -> (K, 24) probabilities, batched with other callers."""
        loop = asyncio.get_running_loop()
        futures = []
        for grid in grids:
            fut: asyncio.Future[np.ndarray] = loop.create_future()
            self._queue.put_nowait((grid, fut))
            futures.append(fut)
        return np.stack(await asyncio.gather(*futures))

    async def _gather(self) -> list[tuple[np.ndarray, asyncio.Future[np.ndarray]]]:
        batch = [await self._queue.get()]
        deadline = time.monotonic() + (self._max_wait_s if self._last_size > 1 else 0.0)
        while len(batch) < self._max_size:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            gathered = await self._gather()
            try:
                await self._answer([item for item in gathered if not item[1].done()], loop)
            finally:
                for _ in gathered:
                    self._queue.task_done()

    async def _answer(self, batch: list[tuple[np.ndarray, asyncio.Future[np.ndarray]]],
                      loop: asyncio.AbstractEventLoop) -> None:
        if not batch:
            return
        self._last_size = len(batch)
        grids = np.stack([grid for grid, _ in batch])
        try:
            probs = await loop.run_in_executor(self._executor, self._infer, grids)
        except Exception as exc:  # a model failure fails these requests, not the batcher
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        if self._on_batch is not None:
            self._on_batch(len(batch))
        for (_, fut), row in zip(batch, probs):
            if not fut.done():
                fut.set_result(row)
