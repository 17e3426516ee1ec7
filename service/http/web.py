"""The web page: serves the single page at `/`, its static files, and the numbered text of a document.

Only translates HTTP to engine calls; the page itself (service/static/) talks to the /v1 API like any client.
Auth and the error shape come from the app (service/api.py): its API-key dependency covers every /v1/* route,
this router's text route included, and its handlers turn `CitewiseError`/`HTTPException` into
`{"error": {"code", "message"}}`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel

from service.http.deps import EngineDep
from service.http.errors import ERROR_RESPONSES
from service.schemas import LineMap

STATIC_DIR = Path(__file__).parent / "static"
# The page's files, by URL name. A fixed list: nothing else under service/ can be fetched through this router.
STATIC_FILES: dict[str, str] = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}


class DocumentLine(BaseModel):
    n: int  # 1-based, the numbering citations use
    text: str
    # Where the line is in the original file (absent when unknown): see service.schemas.Citation.
    page: int | None = None
    file_start_line: int | None = None
    file_end_line: int | None = None
    docx_paragraph: int | None = None
    docx_table: int | None = None
    docx_row: int | None = None


class DocumentText(BaseModel):
    """`GET /v1/documents/{source}/text`: a document's extracted text, line by line."""

    source: str
    lines: list[DocumentLine]


def numbered_lines(text: str, line_map: LineMap | None = None) -> list[DocumentLine]:
    """Split extracted text the way the chunker counts lines (on "\\n", 1-based), each with its file location."""
    if not text:
        return []
    lines = text.split("\n")
    where = line_map.per_line(len(lines)) if line_map is not None else [None] * len(lines)
    return [
        DocumentLine(n=i, text=line, **(w.fields() if w is not None else {}))
        for i, (line, w) in enumerate(zip(lines, where), start=1)
    ]


router = APIRouter()


@router.get("/", include_in_schema=False)
def index_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")


@router.get("/static/{name}", include_in_schema=False)
def static_file(name: str) -> FileResponse:
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail=f"no static file {name!r}")
    return FileResponse(STATIC_DIR / name, media_type=media_type, headers={"Cache-Control": "no-cache"})


@router.get(
    "/v1/documents/{source:path}/text", response_model=DocumentText, tags=["documents"], responses=ERROR_RESPONSES,
    response_model_exclude_none=True,  # a line's file location is absent when unknown
)
def document_text(source: str, engine: EngineDep) -> DocumentText:
    """The document's extracted text with line numbers, so a citation's start_line..end_line can be shown.

    Unknown source → 404 `{"error": {"code": "unknown_source", ...}}` (UnknownSource from the engine).
    """
    text = engine.document_text(source)
    return DocumentText(source=source, lines=numbered_lines(text, engine.line_map(source)))
