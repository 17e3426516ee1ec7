"""Errors a user can cause or fix; the CLI prints them as one line, the API maps them to 4xx/5xx JSON."""

from __future__ import annotations

import logging

from index.errors import Busy, CitewiseError, InvalidInput, UnknownSource

log = logging.getLogger("citewise")

__all__ = [
    "Busy",
    "CitewiseError",
    "InvalidInput",
    "LLMUnavailable",
    "UnknownSource",
    "UsageProblem",
    "error_data",
    "error_from_event",
]


class UsageProblem(InvalidInput):
    """Command-line options that do not fit together (`--limit` without `--dataset`): the CLI exits 2."""

    exit_code = 2


class LLMUnavailable(CitewiseError):
    """The model server cannot be reached or rejected the request (wrong model name, 5xx after retries)."""

    code = "llm_unavailable"
    http_status = 503


INTERNAL_MESSAGE = "internal error (details are in the server log)"


def error_data(exc: BaseException, context: str = "") -> dict[str, str]:
    """The one stream-error policy: the `{"code", "message"}` an `error` event carries. Our errors keep their code
    and message (an SSE client sees `llm_unavailable`); anything else is logged here with its traceback and sent
    as `internal` with a plain message: exception text never reaches a client. `context` (a request id) goes
    into both."""
    if isinstance(exc, CitewiseError):
        return {"code": exc.code, "message": str(exc)}
    log.error("internal error%s: %s: %s", f" ({context})" if context else "", type(exc).__name__, exc, exc_info=exc)
    return {"code": "internal", "message": f"{INTERNAL_MESSAGE[:-1]}; {context})" if context else INTERNAL_MESSAGE}


def error_from_event(data: object) -> dict[str, str]:
    """An `error` event's data as `{"code", "message"}`, whatever shape the producer gave it."""
    if isinstance(data, dict) and "message" in data:
        return {"code": str(data.get("code") or "error"), "message": str(data["message"])}
    return {"code": "error", "message": str(data)}
