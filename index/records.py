"""The write path's data: what a loaded document, a chunk and an ingest run look like."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Chunk(BaseModel):
    """A piece of a document with the exact span it came from."""

    id: str
    source: str
    text: str  # verbatim: text == document_text[start_char:end_char]
    start_char: int
    end_char: int
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    chunk_index: int
    content_hash: str  # sha256 of `text`
    doc_sha256: str


class DocumentRecord(BaseModel):
    """A manifest row: one ingested document (contract shape of `docs list --json`)."""

    source: str
    chunks: int
    sha256: str
    ingested_at: datetime


FileOutcome = Literal["added", "updated", "unchanged", "removed", "skipped", "failed"]


class FileResult(BaseModel):
    source: str
    outcome: FileOutcome
    reason: str | None = None
    chunks: int = 0


class IngestReport(BaseModel):
    """What an ingest run did, file by file, with counts for the summary line."""

    files: list[FileResult] = Field(default_factory=list)
    failed_paths: list[str] = Field(default_factory=list)  # paths given on the command line that failed entirely

    def count(self, outcome: FileOutcome) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    def changed(self) -> bool:
        """Did this run add, update or remove any document?"""
        return any(f.outcome in ("added", "updated", "removed") for f in self.files)

    def summary_line(self) -> str:
        parts = [f"{self.count(o)} {o}" for o in ("added", "updated", "unchanged", "removed", "skipped", "failed")]
        return ", ".join(parts)
