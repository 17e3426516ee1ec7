"""What the write path needs to know: where the index lives and how documents are cut and embedded.

`IndexConfig` is plain data. It is read from the environment only as part of `service.config.Settings` (which
extends it), so `index/` never reads environment variables and never imports `service/`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel


class IndexConfig(BaseModel):
    """The index's own settings; every field is `CITEWISE_<NAME>` in the environment (see service.config)."""

    # Where the index lives (Chroma data, manifest, BM25, extracted texts).
    home: Path = Path(".citewise")

    # Chroma server; when unset, an embedded PersistentClient under `home`.
    chroma_url: str | None = None
    collection: str = "citewise"

    # Ingestion.
    chunk_size: int = 1000
    chunk_overlap: int = 150
    max_file_mb: float = 50.0
    embed_batch_size: int = 32

    # Test hook for crash-safety tests: pause (sleep) at this named ingest step, so a test can kill -9 there.
    debug_pause_at: str | None = None

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.home / "manifest.sqlite3"

    @property
    def bm25_path(self) -> Path:
        return self.home / "bm25"

    @property
    def lexical_path(self) -> Path:
        return self.home / "lexical.sqlite3"

    @property
    def texts_path(self) -> Path:
        return self.home / "texts"
