"""A bounded queue in front of the model: it answers `concurrency` requests at once, the rest wait (up to a limit).

Generation runs in this queue's own thread pool, so it never blocks the event loop nor the default thread pool
that retrieval-only routes (search, documents) use. When too many requests are waiting, or a request has waited
longer than the timeout, the caller gets `Busy` (HTTP 503 + Retry-After) instead of piling up.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from service.errors import Busy

T = TypeVar("T")

_END = object()


class GenerationQueue:
    """Admission control plus a dedicated executor. `capacity` counts waiting requests, not running ones."""

    def __init__(self, *, concurrency: int = 1, capacity: int = 8, timeout_s: float = 120.0) -> None:
        if concurrency < 1 or capacity < 0 or timeout_s <= 0:
            raise ValueError("concurrency ≥ 1, capacity ≥ 0 and timeout_s > 0 are required")
        self.concurrency = concurrency
        self.capacity = capacity
        self.timeout_s = timeout_s
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="generation")
        self._lock = threading.Lock()
        self._in_flight = 0  # admitted and not finished: running + waiting

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _admit(self) -> None:
        with self._lock:
            if self._in_flight >= self.concurrency + self.capacity:
                raise Busy(f"the model is busy ({self._in_flight} requests in progress or queued); retry later")
            self._in_flight += 1

    def _release(self, _: object = None) -> None:
        with self._lock:
            self._in_flight -= 1

    def _submit(self, job: Callable[[], T], started: asyncio.Event) -> Future[T]:
        loop = asyncio.get_running_loop()

        def run() -> T:
            loop.call_soon_threadsafe(started.set)
            return job()

        self._admit()
        try:
            future = self._executor.submit(run)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(self._release)
        return future

    async def _wait_started(self, future: Future, started: asyncio.Event) -> float:
        """Wait until the job is running; cancel it and raise Busy if that takes longer than the timeout.

        Returns the seconds spent waiting.
        """
        t0 = time.perf_counter()
        try:
            await asyncio.wait_for(started.wait(), timeout=self.timeout_s)
        except TimeoutError:
            if future.cancel():  # it never started: its slot is given back by the done-callback
                raise Busy(f"waited {self.timeout_s:.0f} s for the model without getting a turn; retry later") from None
            # it started just as the timeout fired: carry on
        return time.perf_counter() - t0

    async def run(self, job: Callable[[], T], timings: dict[str, float] | None = None) -> T:
        """Run `job()` when the model is free and return its result (exceptions propagate)."""
        started = asyncio.Event()
        future = self._submit(job, started)
        waited = await self._wait_started(future, started)
        if timings is not None:
            timings["queue_wait_ms"] = round(waited * 1000, 1)
        return await asyncio.wrap_future(future)

    async def stream(
        self, make_iterator: Callable[[], Iterator[T]], timings: dict[str, float] | None = None
    ) -> AsyncIterator[T]:
        """Admit and wait for a turn now (so Busy happens before a response starts); then iterate in the pool.

        Returns an async iterator over the items the sync iterator yields; an exception inside it is re-raised
        from the async iterator. Closing the async iterator early (client gone) stops the producer at its next item.
        """
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()
        started = asyncio.Event()

        def produce() -> None:
            iterator = None
            try:
                iterator = make_iterator()  # may fail too (a model server that is down): reported, never a hang
                for item in iterator:
                    if stop.is_set():
                        break
                    loop.call_soon_threadsafe(items.put_nowait, item)
            except BaseException as exc:  # handed to the consumer
                loop.call_soon_threadsafe(items.put_nowait, _Failure(exc))
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
                loop.call_soon_threadsafe(items.put_nowait, _END)

        future = self._submit(produce, started)
        waited = await self._wait_started(future, started)
        if timings is not None:
            timings["queue_wait_ms"] = round(waited * 1000, 1)
        return self._consume(items, stop)

    @staticmethod
    async def _consume(items: asyncio.Queue[object], stop: threading.Event) -> AsyncIterator[T]:
        try:
            while True:
                item = await items.get()
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise item.exc
                yield item  # type: ignore[misc]
        finally:
            stop.set()

    def shutdown(self) -> None:
        """Stop accepting work; queued jobs are cancelled, running ones finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)


class _Failure:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
