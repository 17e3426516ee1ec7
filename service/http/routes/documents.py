"""`/v1/documents`: list, upload (multipart, ingested synchronously) and remove documents."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from service.errors import InvalidInput
from service.http.deps import EngineDep, SettingsDep
from service.http.errors import ERROR_RESPONSES, PayloadTooLarge, UploadRejected
from service.http.middleware import timed
from service.http.models import RemoveResponse, UploadResponse
from service.schemas import DocumentRecord

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

def upload_source(prefix: str | None, filename: str | None) -> str:
    """The source name for an uploaded file: `prefix/filename`, relative, without traversal (else InvalidInput)."""
    if not filename:
        raise InvalidInput("an uploaded file has no file name")
    parts: list[str] = []
    for label, value in (("path", prefix or ""), ("file name", filename)):
        text = value.replace("\\", "/")
        if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
            raise InvalidInput(f"{label} {value!r} is absolute; give a relative name")
        for part in PurePosixPath(text).parts if text else ():
            if part in ("..", ".") or any(ord(c) < 32 for c in part) or len(part) > 255:
                raise InvalidInput(f"{label} {value!r} is not a safe relative name")
            parts.append(part)
    source = "/".join(parts)
    if not source or len(source) > 1024:
        raise InvalidInput(f"file name {filename!r} is not usable")
    return source


def _save_uploads(files: list[UploadFile], sources: list[str], folder: Path) -> list[tuple[str, Path]]:
    """Copy each upload to its own folder under `folder`, keeping its base name (loaders go by extension)."""
    saved = []
    for i, (upload, source) in enumerate(zip(files, sources)):
        target = folder / str(i) / PurePosixPath(source).name
        target.parent.mkdir(parents=True)
        upload.file.seek(0)
        with target.open("wb") as out:
            shutil.copyfileobj(upload.file, out, length=1024 * 1024)
        saved.append((source, target))
    return saved


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
    sources = [upload_source(path, upload.filename) for upload in files]
    if len(set(sources)) != len(sources):
        raise InvalidInput("two uploaded files have the same source name")
    with tempfile.TemporaryDirectory(prefix="citewise-upload-") as tmp:
        saved = await timed("save", _save_uploads, files, sources, Path(tmp))
        report = await timed("ingest", engine.ingest_named, saved)
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
