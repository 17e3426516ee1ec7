"""The generation queue's admission control, with plain blocking jobs (no model needed: this is scheduling logic)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from service.errors import Busy
from service.http.queue import GenerationQueue


def _blocking_job(release: threading.Event, started: list[str], name: str):
    def job() -> str:
        started.append(name)
        assert release.wait(10)
        return name

    return job


def test_runs_one_at_a_time_and_rejects_beyond_capacity() -> None:
    async def scenario() -> None:
        queue = GenerationQueue(concurrency=1, capacity=1, timeout_s=30)
        release, started = threading.Event(), []
        first = asyncio.create_task(queue.run(_blocking_job(release, started, "a")))
        second = asyncio.create_task(queue.run(_blocking_job(release, started, "b")))
        await asyncio.sleep(0.2)
        assert started == ["a"]  # b waits for the model
        assert queue.in_flight == 2
        with pytest.raises(Busy):
            await queue.run(_blocking_job(release, started, "c"))
        release.set()
        assert await first == "a" and await second == "b"
        assert queue.in_flight == 0
        assert await queue.run(lambda: "again") == "again"  # capacity is given back
        queue.shutdown()

    asyncio.run(scenario())


def test_waiting_longer_than_the_timeout_is_busy_and_the_job_never_runs() -> None:
    async def scenario() -> None:
        queue = GenerationQueue(concurrency=1, capacity=4, timeout_s=0.3)
        release, started = threading.Event(), []
        first = asyncio.create_task(queue.run(_blocking_job(release, started, "a")))
        await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        with pytest.raises(Busy):
            await queue.run(_blocking_job(release, started, "late"))
        assert time.perf_counter() - t0 < 5
        release.set()
        assert await first == "a"
        await asyncio.sleep(0.1)
        assert started == ["a"] and queue.in_flight == 0
        queue.shutdown()

    asyncio.run(scenario())


def test_stream_yields_items_and_reraises_errors_from_the_worker_thread() -> None:
    async def scenario() -> None:
        queue = GenerationQueue(concurrency=1, capacity=0, timeout_s=5)
        worker_threads: set[str] = set()

        def items():
            for i in range(3):
                worker_threads.add(threading.current_thread().name)
                yield i
            raise RuntimeError("model died")

        timings: dict[str, float] = {}
        stream = await queue.stream(items, timings)
        got = []
        with pytest.raises(RuntimeError, match="model died"):
            async for item in stream:
                got.append(item)
        assert got == [0, 1, 2] and "queue_wait_ms" in timings
        assert all(name.startswith("generation") for name in worker_threads)  # not the event loop's thread
        queue.shutdown()

    asyncio.run(scenario())


def test_abandoned_stream_stops_the_producer_and_frees_the_slot() -> None:
    async def scenario() -> None:
        queue = GenerationQueue(concurrency=1, capacity=0, timeout_s=5)
        produced: list[int] = []

        def endless():
            i = 0
            while True:
                produced.append(i)
                time.sleep(0.01)
                yield i
                i += 1

        stream = await queue.stream(endless)
        async for item in stream:
            if item >= 2:
                break
        await stream.aclose()  # what a disconnecting SSE client does
        for _ in range(200):
            if queue.in_flight == 0:
                break
            await asyncio.sleep(0.01)
        assert queue.in_flight == 0
        assert await queue.run(lambda: "free") == "free"
        queue.shutdown()

    asyncio.run(scenario())
