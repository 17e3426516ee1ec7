"""Errors a user can cause or fix; the CLI prints them as one line, the API maps them to 4xx/5xx JSON."""

from __future__ import annotations


class CitewiseError(Exception):
    """Base class: `str(error)` is a readable one-line message."""

    code = "error"
    http_status = 400


class UnknownSource(CitewiseError):
    code = "unknown_source"
    http_status = 404


class InvalidInput(CitewiseError):
    code = "invalid_input"
    http_status = 422


class LLMUnavailable(CitewiseError):
    """The model server cannot be reached or rejected the request (wrong model name, 5xx after retries)."""

    code = "llm_unavailable"
    http_status = 503


class Busy(CitewiseError):
    """The generation queue is full; retry later."""

    code = "busy"
    http_status = 503
