"""The HTTP API: a thin shell over `Engine`. Routes translate HTTP to engine calls and back; nothing else lives here
but the cross-cutting parts every route shares (auth, limits, the error shape, request ids and timings).

- Every error is `{"error": {"code", "message"}}` (our errors, FastAPI's validation and HTTP errors, crashes).
- Generation (ask, summarize, chat completions) goes through a bounded `GenerationQueue` with its own threads, so
  retrieval-only routes (search, documents) stay responsive while the model works; a full queue → 503.
- Each request gets an id (`X-Request-ID`, taken from the client when sane) and one log line with per-stage
  timings (also sent as a `Server-Timing` header when known before the response starts).
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import json
import logging
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.records import DocumentRecord, FileResult
from service.http import openai_compat
from service.http.models import (
    AskRequest,
    ErrorResponse,
    Health,
    Readiness,
    RemoveResponse,
    SearchRequest,
    SummarizeRequest,
    UploadResponse,
)
from service.config import Settings
from service.engine import Engine
from service.errors import Busy, CitewiseError, InvalidInput, UnknownSource, error_from_event
from service.http.queue import GenerationQueue
from service.schemas import Answer, ChatMessage, SearchResponse, StreamEvent, Summary

log = logging.getLogger("citewise.api")
T = TypeVar("T")

# --- errors ------------------------------------------------------------------------------------------------------


class Unauthorized(CitewiseError):
    code = "unauthorized"
    http_status = 401


class LimitExceeded(CitewiseError):
    """A configurable request limit (question length, history size) was exceeded."""

    code = "limit_exceeded"
    http_status = 422


class PayloadTooLarge(CitewiseError):
    code = "too_large"
    http_status = 413


class UploadRejected(CitewiseError):
    """No uploaded file could be ingested; the per-file reasons travel with the error."""

    code = "upload_rejected"
    http_status = 422

    def __init__(self, message: str, files: list[FileResult]) -> None:
        super().__init__(message)
        self.files = files


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal",
    501: "not_implemented",
    503: "unavailable",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (401, 404, 413, 422, 503)
}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    """(code, one readable line) for FastAPI's validation errors; never echoes the (maybe huge) input."""
    errors = exc.errors()
    if not errors:
        return "validation_error", "invalid request"
    first = errors[0]
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "invalid JSON")
        return "malformed_json", f"request body is not valid JSON: {detail}"
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return "validation_error", f"{where}: {first.get('msg', 'invalid')}{more}"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CitewiseError)
    async def _citewise_error(request: Request, exc: CitewiseError) -> JSONResponse:
        headers: dict[str, str] = {}
        extra: dict[str, Any] = {}
        if isinstance(exc, Busy):
            headers["Retry-After"] = str(request.app.state.settings.api_retry_after_s)
        if isinstance(exc, Unauthorized):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, UploadRejected):
            extra["files"] = [f.model_dump(mode="json") for f in exc.files]
        return error_response(exc.http_status, exc.code, str(exc), headers, **extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        headers = dict(exc.headers or {})
        return error_response(exc.status_code, code, message, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message = _validation_message(exc)
        return error_response(422, code, message)


# --- request ids, timings and logging ------------------------------------------------------------------------------

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


# --- dependencies ----------------------------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <CITEWISE_API_KEY>` when a key is set")


async def require_api_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """When `CITEWISE_API_KEY` is set, every /v1/* route needs the key (compared in constant time)."""
    key = request.app.state.settings.api_key
    if key is None or not request.url.path.startswith("/v1/"):
        return
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode("utf-8"), key.get_secret_value().encode("utf-8")):
        raise Unauthorized("missing or invalid API key: send `Authorization: Bearer <key>`")


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_queue(request: Request) -> GenerationQueue:
    return request.app.state.generation_queue


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


EngineDep = Annotated[Engine, Depends(get_engine)]
QueueDep = Annotated[GenerationQueue, Depends(get_queue)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def check_question_limits(settings: Settings, question: str, history: list[ChatMessage]) -> None:
    """The configurable limits on what goes to the model (→ 422 JSON)."""
    if not question.strip():
        raise LimitExceeded("the question is empty")
    if len(question) > settings.api_max_question_chars:
        raise LimitExceeded(
            f"the question has {len(question)} characters; the limit is {settings.api_max_question_chars}"
        )
    if len(history) > settings.api_max_history_messages:
        raise LimitExceeded(
            f"the history has {len(history)} messages; the limit is {settings.api_max_history_messages}"
        )


# --- uploads --------------------------------------------------------------------------------------------------------


def upload_source(prefix: str | None, filename: str | None) -> str:
    """The source name for an uploaded file: `prefix/filename`, relative, without traversal (else InvalidInput)."""
    if not filename:
        raise InvalidInput("an uploaded file has no file name")
    parts: list[str] = []
    for label, value in (("path", prefix or ""), ("file name", filename)):
        text = value.replace("\\", "/")
        if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
            raise InvalidInput(f"{label} {value!r} is absolute; give a relative name")
        for part in PurePosixPath(text).parts if text else ():
            if part in ("..", ".") or any(ord(c) < 32 for c in part) or len(part) > 255:
                raise InvalidInput(f"{label} {value!r} is not a safe relative name")
            parts.append(part)
    source = "/".join(parts)
    if not source or len(source) > 1024:
        raise InvalidInput(f"file name {filename!r} is not usable")
    return source


def _save_uploads(files: list[UploadFile], sources: list[str], folder: Path) -> list[tuple[str, Path]]:
    """Copy each upload to its own folder under `folder`, keeping its base name (loaders go by extension)."""
    saved = []
    for i, (upload, source) in enumerate(zip(files, sources)):
        target = folder / str(i) / PurePosixPath(source).name
        target.parent.mkdir(parents=True)
        upload.file.seek(0)
        with target.open("wb") as out:
            shutil.copyfileobj(upload.file, out, length=1024 * 1024)
        saved.append((source, target))
    return saved


# --- streaming --------------------------------------------------------------------------------------------------


def _error_payload(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, CitewiseError):
        return {"code": exc.code, "message": str(exc)}
    log.error("request_id=%s stream failed: %s: %s", request_id(), type(exc).__name__, exc, exc_info=exc)
    return {"code": "internal", "message": f"internal error (request id {request_id()})"}


async def answer_sse(events: AsyncIterator[StreamEvent], started: float) -> AsyncIterator[ServerSentEvent]:
    """Engine stream events → SSE: token…, answer (verified JSON), done; failures as an `error` event, then done."""
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
        yield ServerSentEvent(data=json.dumps(_error_payload(exc)), event="error")
    yield ServerSentEvent(data="", event="done")


# --- routes ----------------------------------------------------------------------------------------------------


def _api_router(settings: Settings) -> APIRouter:
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

    @router.post("/search", response_model=SearchResponse, tags=["answers"])
    async def search(body: SearchRequest, engine: EngineDep, settings: SettingsDep) -> SearchResponse:
        """Retrieval only: ranked chunks with source, lines and score (never waits for the model)."""
        if len(body.query) > settings.api_max_question_chars:
            raise LimitExceeded(f"the query has {len(body.query)} characters; the limit is {settings.api_max_question_chars}")
        return await timed("search", engine.search, body.query, body.k)

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
                lambda: engine.summarize_stream(source=body.source, focus=body.focus, length=body.length), stage_timings()
            )
            return EventSourceResponse(answer_sse(events, time.perf_counter()), ping=10)

        def job() -> Summary:
            return engine.summarize(source=body.source, focus=body.focus, length=body.length)

        summary = await queue.run(job, stage_timings())
        record_answer_timings(summary.timings_ms)
        return summary

    @router.get("/documents", response_model=list[DocumentRecord], tags=["documents"])
    async def list_documents(engine: EngineDep) -> list[DocumentRecord]:
        """Ingested documents: source, chunks, sha256, ingested_at."""
        return await timed("list", engine.list_documents)

    @router.post("/documents", response_model=UploadResponse, tags=["documents"])
    async def upload_documents(
        engine: EngineDep,
        settings: SettingsDep,
        files: Annotated[list[UploadFile], File(description="One or more files (repeat the field).")],
        path: Annotated[str | None, Form(description="Folder prefix for the files' source names.")] = None,
    ) -> UploadResponse:
        """Upload and ingest files synchronously; returns each file's outcome (added/updated/unchanged/skipped/failed)."""
        per_file_limit = int(settings.api_max_upload_mb * 1024 * 1024)
        for upload in files:
            size = upload.size if upload.size is not None else upload.file.seek(0, 2)
            if size > per_file_limit:
                raise PayloadTooLarge(
                    f"{upload.filename!r} has {size} bytes; the limit is {settings.api_max_upload_mb:g} MB per file"
                )
        sources = [upload_source(path, upload.filename) for upload in files]
        if len(set(sources)) != len(sources):
            raise InvalidInput("two uploaded files have the same source name")
        with tempfile.TemporaryDirectory(prefix="citewise-upload-") as tmp:
            saved = await timed("save", _save_uploads, files, sources, Path(tmp))
            report = await timed("ingest", engine.corpus.ingest_named, saved)
        results = report.files
        if results and all(r.outcome in ("failed", "skipped") for r in results):
            reasons = "; ".join(f"{r.source}: {r.reason or r.outcome}" for r in results)
            raise UploadRejected(f"no uploaded file could be ingested: {reasons}", results)
        return UploadResponse(files=results)

    @router.delete("/documents/{source:path}", response_model=RemoveResponse, tags=["documents"])
    async def remove_document(source: str, engine: EngineDep) -> RemoveResponse:
        """Remove a document and all its chunks (`source` may contain slashes)."""
        removed = await timed("remove", engine.remove_documents, [source])
        if not removed:
            raise UnknownSource(f"no document {source!r}")
        return RemoveResponse(removed=removed)

    @router.get("/models", response_model=openai_compat.ModelList, tags=["openai"])
    async def models() -> openai_compat.ModelList:
        """OpenAI-compatible model list: citewise itself is the "model"."""
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
        question, history = openai_compat.to_question(body)
        check_question_limits(settings, question, history)
        stages = stage_timings()
        if body.stream:
            events = await queue.stream(lambda: engine.ask_stream(question, history), stages)
            return EventSourceResponse(openai_compat.completion_chunks(events, body.model, _error_payload), ping=10)
        started = time.perf_counter()
        answer = await queue.run(lambda: engine.ask(question, history), stages)
        stages["engine_ms"] = round((time.perf_counter() - started) * 1000 - stages.get("queue_wait_ms", 0), 1)
        record_answer_timings(answer.timings_ms)
        return openai_compat.completion(answer, body.model)

    return router


def _probe(app: FastAPI) -> Readiness:
    """Is the index open and the model reachable? (Blocking: run in a thread.)"""
    engine: Engine = app.state.engine
    problems: list[str] = []
    documents: int | None = None
    model: str | None = None
    try:
        documents = len(engine.list_documents())
    except Exception as exc:
        problems.append(f"index: {exc}")
    llm_ok = False
    try:
        llm = engine.llm
        model = llm.model_name
        llm.check()
        llm_ok = True
    except Exception as exc:
        problems.append(f"llm: {exc}")
    return Readiness(
        ready=documents is not None and llm_ok,
        index=documents is not None,
        llm=llm_ok,
        documents=documents,
        model=model,
        problems=problems,
    )


def _start_engine(engine: Engine) -> None:
    """Open the index and start the model now, so the first request does not pay for it and /readyz means it."""
    t0 = time.perf_counter()
    engine.corpus  # noqa: B018 - opens it
    t1 = time.perf_counter()
    try:
        engine.llm  # noqa: B018 - starts the embedded server, or configures the external one
    except CitewiseError as exc:  # serve retrieval anyway; /readyz reports the problem
        log.error("the model could not be started: %s", exc)
    log.info("engine ready: index opened in %.0f ms, model started in %.0f ms", (t1 - t0) * 1000, (time.perf_counter() - t1) * 1000)


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The ASGI app. Without `engine`, the app creates one at startup and closes it at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.engine is None
        if owned:
            app.state.engine = Engine(settings)
        await asyncio.to_thread(_start_engine, app.state.engine)
        try:
            yield
        finally:
            app.state.generation_queue.shutdown()
            if owned:
                await asyncio.to_thread(app.state.engine.close)
                app.state.engine = None
            log.info("engine closed")

    app = FastAPI(
        title="citewise",
        summary="Answers and summaries over your documents; every claim cites the file and lines it came from.",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(require_api_key)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.generation_queue = GenerationQueue(
        concurrency=settings.generation_concurrency,
        capacity=settings.generation_queue_size,
        timeout_s=settings.generation_queue_timeout_s,
    )
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.api_max_json_kb * 1024,
        upload_limit=int(settings.api_max_upload_request_mb * 1024 * 1024),
        upload_path="/v1/documents",
    )
    app.add_middleware(RequestContextMiddleware)  # outermost: ids and logs cover every response
    _install_error_handlers(app)

    @app.get("/healthz", response_model=Health, tags=["health"])
    async def healthz() -> Health:
        """The process is up (no checks)."""
        return Health()

    @app.get("/readyz", response_model=Readiness, tags=["health"], responses={503: {"model": ErrorResponse}})
    async def readyz(request: Request) -> Any:
        """Ready when the index is open and the model server answers; 503 (with the reasons) otherwise."""
        readiness = await timed("probe", _probe, request.app)
        if readiness.ready:
            return readiness
        message = "not ready: " + "; ".join(readiness.problems)
        return error_response(503, "not_ready", message, **readiness.model_dump(exclude={"problems"}))

    from service.http import web  # the page's router imports this module's dependencies

    app.include_router(_api_router(settings))
    app.include_router(web.router)
    return app
