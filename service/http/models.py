"""Request and response types of the HTTP API that are not contract types already (those live in schemas.py).

Length limits that are configurable (question, history) are checked in api.py against Settings; the bounds here
are the fixed, structural ones.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.schemas import ChatMessage, FileResult


class AskRequest(BaseModel):
    """`POST /v1/ask`."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, description="The question; at most `api_max_question_chars` characters.")
    history: list[ChatMessage] = Field(default_factory=list, description="Earlier turns, oldest first.")
    k: int | None = Field(default=None, ge=1, le=100, description="How many chunks to retrieve.")
    stream: bool = Field(default=False, description="Server-Sent Events: token…, answer, done (or error).")


class SearchRequest(BaseModel):
    """`POST /v1/search`: retrieval only, the same data as `citewise search --json`."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1)
    k: int | None = Field(default=None, ge=1, le=100)


class SummarizeRequest(BaseModel):
    """`POST /v1/summarize`: one document (`source`) or the whole corpus."""

    model_config = ConfigDict(extra="forbid")

    source: str | None = None
    focus: str | None = Field(default=None, max_length=1000)
    length: Literal["short", "medium", "long"] = "medium"
    extractive: bool = Field(
        default=False, description="Quote the documents' own sentences, no model (else a failing model is a 503)."
    )
    stream: bool = Field(default=False, description="Server-Sent Events: progress…, summary, done (or error).")


class UploadResponse(BaseModel):
    """`POST /v1/documents`: what happened to each uploaded file."""

    files: list[FileResult]


class RemoveResponse(BaseModel):
    """`DELETE /v1/documents/{source}`."""

    removed: list[str]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    """The shape of every error the API returns."""

    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """`GET /readyz`: ready when the index is open and the model server answers."""

    ready: bool
    index: bool
    llm: bool
    documents: int | None = None
    model: str | None = None
    problems: list[str] = Field(default_factory=list)
