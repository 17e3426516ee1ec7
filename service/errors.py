"""Errors a user can cause or fix; the CLI prints them as one line, the API maps them to 4xx/5xx JSON."""

from __future__ import annotations


from index.errors import Busy, CitewiseError, InvalidInput, UnknownSource

__all__ = ["Busy", "CitewiseError", "InvalidInput", "LLMUnavailable", "UnknownSource", "error_data", "error_from_event"]


class LLMUnavailable(CitewiseError):
    """The model server cannot be reached or rejected the request (wrong model name, 5xx after retries)."""

    code = "llm_unavailable"
    http_status = 503


def error_data(exc: BaseException) -> dict[str, str]:
    """The `{"code", "message"}` a stream's `error` event carries: our errors keep their code (so an SSE client
    sees `llm_unavailable`, not a bare string); anything else is `internal`."""
    if isinstance(exc, CitewiseError):
        return {"code": exc.code, "message": str(exc)}
    return {"code": "internal", "message": f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__}


def error_from_event(data: object) -> dict[str, str]:
    """An `error` event's data as `{"code", "message"}`, whatever shape the producer gave it."""
    if isinstance(data, dict) and "message" in data:
        return {"code": str(data.get("code") or "error"), "message": str(data["message"])}
    return {"code": "error", "message": str(data)}
