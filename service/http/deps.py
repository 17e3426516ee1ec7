"""FastAPI dependencies every route shares: the API key, the engine, the generation queue, the settings and the
configurable question limits."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.config import Settings
from service.engine import Engine
from service.http.errors import (
    LimitExceeded,
    Unauthorized,
)
from service.http.queue import GenerationQueue
from service.schemas import (
    ChatMessage,
)

log = logging.getLogger("citewise.api")
T = TypeVar("T")


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

