"""Errors the index raises that a user can cause or fix. `service.errors` re-exports them beside its own.

`str(error)` is a readable one-line message; `code` and `http_status` tell the shells how to report it.
"""

from __future__ import annotations


class CitewiseError(Exception):
    """Base class of every error a user can cause or fix."""

    code = "error"
    http_status = 400
    exit_code = 1  # what the CLI exits with


class UnknownSource(CitewiseError):
    code = "unknown_source"
    http_status = 404


class InvalidInput(CitewiseError):
    code = "invalid_input"
    http_status = 422


class Busy(CitewiseError):
    """Another writer holds the index, or the generation queue is full; retry later."""

    code = "busy"
    http_status = 503
