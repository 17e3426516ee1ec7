"""`POST /v1/ask`: a grounded answer with verified citations (JSON, or SSE with `stream: true`)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from service.http.deps import EngineDep, QueueDep, SettingsDep, check_question_limits
from service.http.errors import ERROR_RESPONSES
from service.http.middleware import record_answer_timings, stage_timings
from service.http.models import AskRequest
from service.http.streaming import answer_sse
from service.schemas import Answer

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

@router.post(
    "/ask",
    response_model=Answer,
    tags=["answers"],
    responses={200: {"content": {"text/event-stream": {}}, "description": "The answer JSON, or SSE when stream"}},
)
async def ask(body: AskRequest, engine: EngineDep, queue: QueueDep, settings: SettingsDep) -> Any:
    """A grounded answer with verified citations. `stream: true` → SSE `token`…, `answer`, `done` (or `error`)."""
    check_question_limits(settings, body.question, body.history)
    stages = stage_timings()
    started = time.perf_counter()
    if body.stream:
        events = await queue.stream(lambda: engine.ask_stream(body.question, body.history, body.k), stages)
        return EventSourceResponse(answer_sse(events, time.perf_counter()), ping=10)
    answer = await queue.run(lambda: engine.ask(body.question, body.history, body.k), stages)
    stages["engine_ms"] = round((time.perf_counter() - started) * 1000 - stages.get("queue_wait_ms", 0), 1)
    record_answer_timings(answer.timings_ms)
    return answer
