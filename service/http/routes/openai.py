"""OpenAI-compatible routes: `GET /v1/models` and `POST /v1/chat/completions` (plain and streamed)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from service.http import openai_compat
from service.http.deps import EngineDep, QueueDep, SettingsDep, check_question_limits
from service.http.errors import ERROR_RESPONSES
from service.http.middleware import record_answer_timings, stage_timings
from service.http.streaming import error_payload

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

@router.get("/models", response_model=openai_compat.ModelList, tags=["openai"])
async def models() -> openai_compat.ModelList:
    """OpenAI-compatible model list: citewise itself is the "model" (and its aliases)."""
    return openai_compat.model_list()

@router.post(
    "/chat/completions",
    response_model=openai_compat.ChatCompletion,
    tags=["openai"],
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat_completions(
    body: openai_compat.ChatCompletionRequest, engine: EngineDep, queue: QueueDep, settings: SettingsDep
) -> Any:
    """OpenAI-compatible chat: the last user message is the question, earlier turns the history."""
    model = openai_compat.check_model(body)
    question, history = openai_compat.to_question(body)
    check_question_limits(settings, question, history)
    stages = stage_timings()
    if body.stream:
        events = await queue.stream(lambda: engine.ask_stream(question, history), stages)
        return EventSourceResponse(openai_compat.completion_chunks(events, model, error_payload), ping=10)
    started = time.perf_counter()
    answer = await queue.run(lambda: engine.ask(question, history), stages)
    stages["engine_ms"] = round((time.perf_counter() - started) * 1000 - stages.get("queue_wait_ms", 0), 1)
    record_answer_timings(answer.timings_ms)
    return openai_compat.completion(answer, model)
