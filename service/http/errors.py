"""The HTTP error shape: every error is `{"error": {"code", "message"}}` — our errors, FastAPI's validation and
HTTP errors, and crashes (the middleware's 500)."""

from __future__ import annotations

import json
import logging
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.errors import (
    Busy,
    CitewiseError,
)
from service.http.models import (
    ErrorResponse,
)
from service.schemas import (
    FileResult,
)

log = logging.getLogger("citewise.api")
T = TypeVar("T")




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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CitewiseError)
    async def _citewise_error(request: Request, exc: CitewiseError) -> JSONResponse:
        headers: dict[str, str] = {}
        extra: dict[str, Any] = {}
        if isinstance(exc, Busy):
            headers["Retry-After"] = str(request.app.state.settings.api_retry_after_s)
        if isinstance(exc, Unauthorized):
            headers["WWW-Authenticate"] = "Bearer"
        extra.update(getattr(exc, "error_fields", {}))  # e.g. OpenAI's `type` and `param` for an unknown model
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

