"""`POST /v1/summarize`: a cited summary of one document, the corpus, or a topic (JSON, or SSE)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from service.http.deps import EngineDep, QueueDep
from service.http.errors import ERROR_RESPONSES
from service.http.middleware import record_answer_timings, stage_timings
from service.http.models import SummarizeRequest
from service.http.streaming import answer_sse
from service.schemas import Summary

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

@router.post(
    "/summarize",
    response_model=Summary,
    tags=["answers"],
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def summarize(body: SummarizeRequest, engine: EngineDep, queue: QueueDep) -> Any:
    """A cited summary of one document or the whole corpus (optionally about `focus`).

    `stream: true` → SSE `progress` (per map step: {label, done, total}), `summary`, `done` (or `error`)."""
    if body.stream:
        if body.source is not None:
            engine.document_text(body.source)  # an unknown source is a 404 before the stream starts
        events = await queue.stream(
            lambda: engine.summarize_stream(
                source=body.source, focus=body.focus, length=body.length, extractive=body.extractive
            ),
            stage_timings(),
        )
        return EventSourceResponse(answer_sse(events, time.perf_counter()), ping=10)

    def job() -> Summary:
        return engine.summarize(source=body.source, focus=body.focus, length=body.length, extractive=body.extractive)

    summary = await queue.run(job, stage_timings())
    record_answer_timings(summary.timings_ms)
    return summary
