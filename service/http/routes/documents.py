"""`/v1/documents`: list, upload (multipart, ingested synchronously) and remove documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from service.http.deps import EngineDep, SettingsDep
from service.http.errors import ERROR_RESPONSES, PayloadTooLarge, UploadRejected
from service.http.middleware import timed
from service.http.models import RemoveResponse, UploadResponse
from service.schemas import DocumentRecord

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)





@router.get("/documents", response_model=list[DocumentRecord], tags=["documents"])
async def list_documents(engine: EngineDep) -> list[DocumentRecord]:
    """Ingested documents: source, chunks, sha256, ingested_at."""
    return await timed("list", engine.list_documents)

@router.post("/documents", response_model=UploadResponse, tags=["documents"])
async def upload_documents(
    engine: EngineDep,
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File(description="One or more files (repeat the field).")],
    path: Annotated[str | None, Form(description="Folder prefix for the files' source names.")] = None,
) -> UploadResponse:
    """Upload and ingest files synchronously; returns each file's outcome (added/updated/unchanged/skipped/failed)."""
    per_file_limit = int(settings.api_max_upload_mb * 1024 * 1024)
    for upload in files:
        size = upload.size if upload.size is not None else upload.file.seek(0, 2)
        if size > per_file_limit:
            raise PayloadTooLarge(
                f"{upload.filename!r} has {size} bytes; the limit is {settings.api_max_upload_mb:g} MB per file"
            )
    report = await timed("ingest", engine.upload, [(upload.filename, upload.file) for upload in files], path)
    results = report.files
    if results and all(r.outcome in ("failed", "skipped") for r in results):
        reasons = "; ".join(f"{r.source}: {r.reason or r.outcome}" for r in results)
        raise UploadRejected(f"no uploaded file could be ingested: {reasons}", results)
    return UploadResponse(files=results)

@router.delete("/documents/{source:path}", response_model=RemoveResponse, tags=["documents"])
async def remove_document(source: str, engine: EngineDep) -> RemoveResponse:
    """Remove a document and all its chunks (`source` may contain slashes)."""
    # an unknown source raises UnknownSource (404); nothing is removed then
    return RemoveResponse(removed=await timed("remove", engine.remove_documents, [source]))
