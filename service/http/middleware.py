"""Cross-cutting request handling: request ids (`X-Request-ID`), per-stage timings (logged once per request and
sent as `Server-Timing`), a JSON 500 for anything unhandled, and bounded request bodies (→ 413)."""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.errors import (
    error_response,
)

log = logging.getLogger("citewise.api")
T = TypeVar("T")


_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("citewise_request_id", default="-")
_stages: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar("citewise_stages", default=None)
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id() -> str:
    """The current request's id (for log lines and error messages)."""
    return _request_id.get()


def stage_timings() -> dict[str, float]:
    """The current request's per-stage timings (ms), filled by routes and logged when the response ends."""
    stages = _stages.get()
    return stages if stages is not None else {}


async def timed(stage: str, func: Callable[..., T], *args: Any) -> T:
    """Run a blocking call in the default thread pool, recording how long it took."""
    t0 = time.perf_counter()
    try:
        return await run_in_threadpool(func, *args)
    finally:
        stage_timings()[f"{stage}_ms"] = round((time.perf_counter() - t0) * 1000, 1)


def record_answer_timings(timings_ms: dict[str, float]) -> None:
    """Add the engine's own breakdown (retrieval, evidence, generation, verify…) to the request's stages."""
    stages = stage_timings()
    for name, ms in timings_ms.items():
        stages[f"answer.{name}"] = ms


def _server_timing(stages: dict[str, float]) -> str:
    parts = []
    for name, ms in stages.items():
        token = re.sub(r"[^A-Za-z0-9_.-]", "_", name.removesuffix("_ms"))
        parts.append(f"{token};dur={ms}")
    return ", ".join(parts)


class RequestContextMiddleware:
    """Request id in and out, one log line per request with timings, and a JSON 500 for anything unhandled."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        rid = given if _SANE_REQUEST_ID.match(given) else uuid.uuid4().hex
        stages: dict[str, float] = {}
        rid_token, stages_token = _request_id.set(rid), _stages.set(stages)
        scope.setdefault("state", {})["request_id"] = rid
        status = 0
        t0 = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                if stages:
                    headers["Server-Timing"] = _server_timing(stages)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request_id=%s unhandled error", rid)
            if status:
                raise  # the response already started: let the server close the connection
            status = 500
            response = error_response(500, "internal", f"internal error (request id {rid})")
            response.headers["X-Request-ID"] = rid
            await response(scope, receive, send)
        finally:
            total = round((time.perf_counter() - t0) * 1000, 1)
            stage_text = " ".join(f"{k}={v}" for k, v in stages.items())
            log.info("request_id=%s %s %s %s %.1fms %s", rid, scope["method"], scope["path"], status, total, stage_text)
            _request_id.reset(rid_token)
            _stages.reset(stages_token)


class _BodyTooLarge(StarletteHTTPException):
    """Raised from `receive` when a body without a usable Content-Length grows past the limit (FastAPI re-raises
    HTTPExceptions from body reading, so this reaches the JSON error handler as a 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body larger than {limit} bytes")


class BodyLimitMiddleware:
    """Bound every request body: uploads get `upload_limit`, everything else `default_limit` (→ 413 JSON).

    A declared Content-Length over the limit is refused before reading anything; otherwise bytes are counted.
    """

    def __init__(self, app: ASGIApp, *, default_limit: int, upload_limit: int, upload_path: str) -> None:
        self.app = app
        self.default_limit = default_limit
        self.upload_limit = upload_limit
        self.upload_path = upload_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_upload = scope["method"] == "POST" and scope["path"].rstrip("/") == self.upload_path
        limit = self.upload_limit if is_upload else self.default_limit
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = error_response(413, "too_large", f"request body has {int(declared)} bytes; the limit is {limit}")
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)

