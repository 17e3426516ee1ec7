"""The MCP server: citewise as a tool for agents (desktop assistants, IDEs), on the official `mcp` SDK (2.x).

A shell like the HTTP routes and the CLI: it holds an `Engine` and nothing below it. The same server runs over
stdio (`citewise mcp`) and, mounted in `citewise serve`, over streamable HTTP at `/mcp` (behind the API key).

Tools (contract names): `ask(question)` → the verified answer JSON (answer, refused, citations with quotes and
lines, suggestions), `search(query, k)`, `summarize(source?, focus?, length?)`, `list_documents()`; every document
is also a resource, `citewise://documents/{source}` → its extracted text (the text citations' lines count in).

Engine calls block: answers and summaries go through the `GenerationQueue` (the HTTP API's own when mounted, so
MCP and HTTP share the model's turns); retrieval-only calls run in a worker thread.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import Resource as MCPResource
from starlette.types import ASGIApp, Receive, Scope, Send

from service.config import Settings
from service.engine import Engine
from service.errors import CitewiseError, UnknownSource
from service.http.errors import error_response
from service.http.queue import GenerationQueue
from service.schemas import Answer, DocumentRecord, SearchResponse, Summary

log = logging.getLogger("citewise.mcp")

DOCUMENT_URI = "citewise://documents/{+source}"  # `+`: sources may hold "/" (uploads/notes.txt)
INSTRUCTIONS = (
    "citewise answers questions from the user's indexed documents. Use `ask` for a verified answer: every "
    "sentence carries [n] markers resolved by `citations` (file, lines, verbatim quote); when `refused` is true "
    "the documents do not say, and `suggestions` name where to look. `search` returns ranked passages only."
)


def document_uri(source: str) -> str:
    return "citewise://documents/" + quote(source, safe="/")


class CitewiseMCP(MCPServer):
    """MCPServer whose resource list is the index's documents at the time of asking (they change as files are
    ingested), next to the `citewise://documents/{source}` template that reads them."""

    def __init__(self, *, engine: Callable[[], Engine], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._engine = engine

    async def list_resources(self) -> list[MCPResource]:
        records = await anyio.to_thread.run_sync(self._engine().list_documents)
        return [
            MCPResource(uri=document_uri(r.source), name=r.source, mime_type="text/plain",
                        description=f"extracted text of {r.source}")
            for r in records
        ] + await super().list_resources()


async def _call(job: Callable[[], Any], queue: GenerationQueue | None) -> Any:
    """Run a blocking engine call (in the generation queue when given); our errors become tool errors with their
    readable message, anything else a generic one (logged, never sent)."""
    try:
        if queue is not None:
            return await queue.run(job)
        return await anyio.to_thread.run_sync(job)
    except CitewiseError as exc:
        raise ToolError(str(exc)) from exc
    except Exception as exc:
        log.exception("MCP tool call failed")
        raise ToolError("internal error (see the server log)") from exc


def build_server(*, engine: Callable[[], Engine], queue: GenerationQueue, settings: Settings) -> CitewiseMCP:
    """The MCP server over `engine()` (a callable: the HTTP app creates its engine in its lifespan)."""
    server = CitewiseMCP(engine=engine, name="citewise", instructions=INSTRUCTIONS, version="0.1.0")

    @server.tool(structured_output=True)
    async def ask(question: str) -> Answer:
        """A verified, cited answer from the indexed documents (or a refusal when they do not say it)."""
        if not question.strip():
            raise ToolError("the question is empty")
        if len(question) > settings.api_max_question_chars:
            raise ToolError(f"the question has {len(question)} characters; the limit is {settings.api_max_question_chars}")
        return await _call(lambda: engine().ask(question), queue)

    @server.tool(structured_output=True)
    async def search(query: str, k: int = 5) -> SearchResponse:
        """Retrieval only: the k best passages with source, lines and score (no model, no verification)."""
        if not 1 <= k <= 50:
            raise ToolError("k must be between 1 and 50")
        return await _call(lambda: engine().search(query, k), None)

    @server.tool(structured_output=True)
    async def summarize(
        source: str | None = None, focus: str | None = None, length: Literal["short", "medium", "long"] = "medium"
    ) -> Summary:
        """A cited summary of one document (`source`) or of the whole index, optionally about `focus`."""
        return await _call(lambda: engine().summarize(source=source, focus=focus, length=length), queue)

    @server.tool(structured_output=True)
    async def list_documents() -> list[DocumentRecord]:
        """The indexed documents (source, type, size, chunks, sha256, …)."""
        return await _call(engine().list_documents, None)

    @server.resource(DOCUMENT_URI, name="document", mime_type="text/plain")
    async def document(source: str) -> str:
        """The extracted text of an indexed document (citations' line numbers count lines of this text)."""
        try:
            return await anyio.to_thread.run_sync(engine().document_text, source)
        except UnknownSource as exc:
            raise ResourceNotFoundError(str(exc)) from exc

    return server


# --- stdio: `citewise mcp` ----------------------------------------------------------------------------------------


def run_stdio(settings: Settings) -> None:
    """Serve MCP over stdin/stdout until the client closes them (the SDK points fd 1 at stderr meanwhile, so
    nothing the model server prints can corrupt the protocol)."""
    queue = GenerationQueue(
        concurrency=settings.generation_concurrency,
        capacity=settings.generation_queue_size,
        timeout_s=settings.generation_queue_timeout_s,
    )
    with Engine(settings) as engine:
        server = build_server(engine=lambda: engine, queue=queue, settings=settings)
        try:
            anyio.run(server.run_stdio_async)
        finally:
            queue.shutdown()


# --- streamable HTTP: mounted in `citewise serve` at /mcp -----------------------------------------------------------


class RequireKey:
    """`Authorization: Bearer <CITEWISE_API_KEY>` in front of the MCP endpoint when a key is set (the /v1/* rule;
    FastAPI's dependencies do not reach a mounted ASGI app)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self.settings.api_key
        if scope["type"] == "http" and key is not None:
            header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "")
            scheme, _, given = header.partition(" ")
            expected = key.get_secret_value().encode("utf-8")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("utf-8"), expected):
                response = error_response(401, "unauthorized", "missing or invalid API key: send `Authorization: Bearer <key>`")
                response.headers["WWW-Authenticate"] = "Bearer"
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def http_endpoint(server: CitewiseMCP, settings: Settings) -> ASGIApp:
    """The streamable-HTTP endpoint (an ASGI app to route at /mcp); run `server.session_manager.run()` in the
    app's lifespan. Without an API key, DNS-rebinding protection admits only clients addressing localhost."""
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=settings.api_key is None,
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
    )
    server.streamable_http_app(transport_security=security)  # creates the session manager
    return RequireKey(StreamableHTTPASGIApp(server.session_manager), settings)
