"""Engine stream events → Server-Sent Events, with the one stream-error policy: our errors keep their code and
message; anything else is logged with the request id and sent as `internal` with a plain message — exception
text never reaches a client."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import TypeVar

from sse_starlette import ServerSentEvent

from service.errors import error_data, error_from_event
from service.http.middleware import (
    record_answer_timings,
    request_id,
    stage_timings,
)
from service.schemas import (
    Answer,
    StreamEvent,
    Summary,
)

log = logging.getLogger("citewise.api")
T = TypeVar("T")




def error_payload(exc: BaseException) -> dict[str, str]:
    """A failure inside the stream itself (not an engine `error` event), by the one policy in service.errors."""
    return error_data(exc, context=f"request id {request_id()}")


async def answer_sse(events: AsyncIterator[StreamEvent], started: float) -> AsyncIterator[ServerSentEvent]:
    """Engine stream events → SSE: draft / sentence / token…, answer (verified JSON), done; failures as an `error`
    event, then done. `draft` data is plain text (provisional), `sentence` JSON, `token` plain text (verified)."""
    answered = False
    first_token = True
    stages = stage_timings()
    try:
        async for event in events:
            if event.event == "token":
                if first_token:
                    stages["first_token_ms"] = round((time.perf_counter() - started) * 1000, 1)
                    first_token = False
                yield ServerSentEvent(data=str(event.data or ""), event="token")
            elif event.event == "draft":
                yield ServerSentEvent(data=str(event.data or ""), event="draft")
            elif event.event == "sentence":
                yield ServerSentEvent(data=json.dumps(event.data), event="sentence")
            elif event.event in ("answer", "summary") and isinstance(event.data, (Answer, Summary)):
                answered = True
                stages["engine_ms"] = round((time.perf_counter() - started) * 1000, 1)
                record_answer_timings(event.data.timings_ms)
                yield ServerSentEvent(data=event.data.model_dump_json(), event=event.event)
            elif event.event == "error":
                yield ServerSentEvent(data=json.dumps(error_from_event(event.data)), event="error")
                answered = True  # reported; no second error below
                break
            elif event.event == "progress":
                data = event.data if isinstance(event.data, str) else json.dumps(event.data, default=str)
                yield ServerSentEvent(data=data, event="progress")
            # the engine's own "done" is replaced by ours below, sent exactly once
        if not answered:
            payload = {"code": "internal", "message": "the answer stream ended without an answer"}
            yield ServerSentEvent(data=json.dumps(payload), event="error")
    except Exception as exc:  # mid-stream: the status line is gone, so the error travels as an event
        yield ServerSentEvent(data=json.dumps(error_payload(exc)), event="error")
    yield ServerSentEvent(data="", event="done")

