"""`POST /v1/search`: retrieval only (never waits for the model)."""

from __future__ import annotations

from fastapi import APIRouter

from service.http.deps import EngineDep, SettingsDep
from service.http.errors import ERROR_RESPONSES, LimitExceeded
from service.http.middleware import timed
from service.http.models import SearchRequest
from service.schemas import SearchResponse

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

@router.post("/search", response_model=SearchResponse, tags=["answers"])
async def search(body: SearchRequest, engine: EngineDep, settings: SettingsDep) -> SearchResponse:
    """Retrieval only: ranked chunks with source, lines and score (never waits for the model)."""
    if len(body.query) > settings.api_max_question_chars:
        raise LimitExceeded(f"the query has {len(body.query)} characters; the limit is {settings.api_max_question_chars}")
    return await timed("search", engine.search, body.query, body.k)
