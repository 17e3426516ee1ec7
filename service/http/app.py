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
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from starlette.routing import Route

from service.config import Settings
from service.engine import Engine
from service.errors import (
    CitewiseError,
)
from service.http import mcp, web
from service.http.deps import (
    require_api_key,
)
from service.http.errors import (
    error_response,
    install_error_handlers,
)
from service.http.middleware import (
    BodyLimitMiddleware,
    RequestContextMiddleware,
    timed,
)
from service.http.models import (
    ErrorResponse,
    Health,
    Readiness,
)
from service.http.queue import GenerationQueue
from service.http.routes import ask, documents, openai, search, summarize
from service.watching import watching_in_background

log = logging.getLogger("citewise.api")


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
    engine.open_index()
    t1 = time.perf_counter()
    try:
        engine.llm  # noqa: B018 - starts the embedded server, or configures the external one
    except CitewiseError as exc:  # serve retrieval anyway; /readyz reports the problem
        log.error("the model could not be started: %s", exc)
    log.info("engine ready: index opened in %.0f ms, model started in %.0f ms", (t1 - t0) * 1000, (time.perf_counter() - t1) * 1000)


def create_app(settings: Settings, engine: Engine | None = None, watch: Sequence[Path] = ()) -> FastAPI:
    """The ASGI app. Without `engine`, the app creates one at startup and closes it at shutdown. `watch`: folders
    the app's engine keeps the index in sync with while it runs (`citewise serve --watch`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.engine is None
        if owned:
            app.state.engine = Engine(settings)
        serving = app.state.engine
        await asyncio.to_thread(_start_engine, serving)
        try:
            with watching_in_background(watch, ingest=serving.ingest, ignore=[settings.home]):
                async with mcp_server.session_manager.run():  # the /mcp endpoint's sessions
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
    install_error_handlers(app)
    mcp_server = mcp.build_server(engine=lambda: app.state.engine, queue=app.state.generation_queue, settings=settings)

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

    for router in (ask.router, search.router, summarize.router, documents.router, openai.router):
        app.include_router(router)
    app.include_router(web.router)
    app.router.routes.append(Route("/mcp", endpoint=mcp.http_endpoint(mcp_server, settings)))
    return app

