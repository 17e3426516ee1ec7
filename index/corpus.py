"""The index as one object: ingest and remove documents, read their texts and chunks, and the search view.

`Corpus` owns the Chroma store, the manifest, the extracted texts and the lexical index (index.lexical). Writes go through
`index.ingest.Ingester` (one writer, file-locked); reads see only chunks the manifest currently references.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np
from cachetools import LRUCache

from index.config import IndexConfig
from index.embeddings import MiniLMEmbedder
from index.errors import InvalidInput, UnknownSource
from index.ingest import Ingester, source_name
from index.lexical import LexicalIndex, LexicalView
from index.locations import LineMap, Location
from index.manifest import Manifest
from index.records import Chunk, DocumentRecord, IngestReport
from index.store import ChunkStore
from index.texts import TextStore

ProgressCallback = Callable[[str, int, int], None]

_CHUNK_CACHE_SIZE = 4096
_LINE_MAP_CACHE_SIZE = 256


# Server mode: a replica compares every referenced id at least this often, not only the journal's changes. The
# write lease is best effort (index/chroma_manifest.py): two writers whose claims overlapped could write the same
# journal position, and one change would then reach other replicas' views only by this comparison.
RECONCILE_S = 600.0
FOREIGN_MAX_CHUNKS = 1000  # chunks written by other processes that a reader embeds itself (beyond: BM25 only)
log = logging.getLogger("citewise.index")


@dataclass(frozen=True)
class SearchView:
    """What readers may see at one manifest generation: the referenced chunk ids and the lexical index over them,
    plus the vectors of chunks this process's Chroma cannot see (`ForeignVectors`)."""

    generation: int
    valid_ids: frozenset[str]
    bm25: LexicalView
    foreign_ids: tuple[str, ...] = ()
    foreign_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))


class ForeignVectors:
    """Vectors of chunks another process wrote into an embedded index while this one had it open.

    Embedded Chroma keeps its vector index in memory per process: a `citewise serve` does not see the vectors a
    `citewise ingest` in another process adds (their texts and metadata it does see). Such chunks are embedded
    here once (the same model gives the same vectors) and scored by brute force beside the Chroma query, so a
    document ingested from the command line is found by meaning too, without a restart. With a Chroma server
    (CITEWISE_CHROMA_URL) the server is the one index and nothing is needed.
    """

    def __init__(self, store: ChunkStore, embedder: MiniLMEmbedder) -> None:
        self.store, self.embedder = store, embedder
        self._vectors: dict[str, np.ndarray] = {}

    def for_view(self, valid: frozenset[str]) -> tuple[tuple[str, ...], np.ndarray]:
        queryable = self.store.queryable_ids(valid)
        self._vectors = {cid: v for cid, v in self._vectors.items() if cid in valid}
        new = sorted(valid - queryable - self._vectors.keys()) if queryable is not None else []
        if len(self._vectors) + len(new) > FOREIGN_MAX_CHUNKS:
            log.warning("%d chunks were written by another process: beyond %d, BM25 alone finds them until this "
                        "process restarts (or use CITEWISE_CHROMA_URL)", len(new), FOREIGN_MAX_CHUNKS)
            new = new[: max(0, FOREIGN_MAX_CHUNKS - len(self._vectors))]
        if new:
            chunks = self.store.get(new)
            fetched = [cid for cid in new if cid in chunks]
            for cid, vector in zip(fetched, self.embedder.encode([chunks[cid].text for cid in fetched])):
                self._vectors[cid] = vector
        if not self._vectors:
            return (), np.zeros((0, 0), dtype=np.float32)
        ids = tuple(self._vectors)
        return ids, np.stack([self._vectors[cid] for cid in ids])


class Corpus:
    def __init__(self, settings: IndexConfig, embedder: MiniLMEmbedder | None = None) -> None:
        settings.home.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.embedder = embedder or MiniLMEmbedder(batch_size=settings.embed_batch_size)
        self.store = ChunkStore(settings, self.embedder)
        if settings.chroma_url:  # server mode: every replica shares the manifest and texts kept in the server
            from index.chroma_manifest import ChromaManifest, ChromaTextStore

            self.manifest: Manifest | ChromaManifest = ChromaManifest(self.store.client, settings.collection)
            self.texts: TextStore | ChromaTextStore = ChromaTextStore(self.store.client, settings.collection)
        else:
            self.manifest = Manifest(settings.manifest_path)
            self.texts = TextStore(settings.texts_path)
        self.lexical = LexicalIndex(settings.lexical_path)
        self._ingester = Ingester(settings, self.store, self.manifest, self.texts, self.embedder, self.lexical)
        if settings.chroma_url:  # writers on other machines take turns with this one through a lease in the server
            from index.chroma_manifest import SharedWriteLock

            self._ingester.lock = SharedWriteLock(self._ingester.lock, self.store.client, settings.collection)  # type: ignore[assignment]
        self._foreign = ForeignVectors(self.store, self.embedder)
        self._view: SearchView | None = None
        self._compared_at = 0.0  # when this process last compared every referenced id (monotonic seconds)
        self._view_lock = threading.Lock()
        self._chunk_cache: LRUCache[str, Chunk] = LRUCache(maxsize=_CHUNK_CACHE_SIZE)
        self._cache_lock = threading.Lock()
        self._line_maps: LRUCache[str, LineMap | None] = LRUCache(maxsize=_LINE_MAP_CACHE_SIZE)  # by text sha256

    @classmethod
    def open(cls, settings: IndexConfig) -> Corpus:
        return cls(settings)

    def close(self) -> None:
        self.manifest.close()
        self.lexical.close()

    # --- writes ------------------------------------------------------------------------------------
    def ingest(self, paths: list[Path], prune: bool = False, progress: ProgressCallback | None = None) -> IngestReport:
        """Ingest files and folders; unchanged files are not re-read beyond hashing, nor re-embedded."""
        return self._ingester.ingest_paths(paths, prune, progress)

    def ingest_streams(self, files: Sequence[tuple[str | None, BinaryIO]], prefix: str | None = None) -> IngestReport:
        """Ingest uploaded files (file name, readable binary stream) as `prefix/name` sources; bad or duplicate
        names raise InvalidInput before anything is written."""
        sources = [source_name(prefix, name) for name, _ in files]
        if len(set(sources)) != len(sources):
            raise InvalidInput("two uploaded files have the same source name")
        with tempfile.TemporaryDirectory(prefix="citewise-upload-") as tmp:
            saved = []
            for i, ((_, stream), source) in enumerate(zip(files, sources)):
                target = Path(tmp) / str(i) / PurePosixPath(source).name  # its own folder; loaders go by extension
                target.parent.mkdir(parents=True)
                stream.seek(0)
                with target.open("wb") as out:
                    shutil.copyfileobj(stream, out, length=1024 * 1024)
                saved.append((source, target))
            return self.ingest_named(saved)

    def ingest_named(self, items: list[tuple[str, Path]], progress: ProgressCallback | None = None) -> IngestReport:
        """Ingest files under explicit source names (HTTP uploads); the loader is chosen by the name's suffix."""
        return self._ingester.ingest_named(items, progress)

    def remove(self, sources: list[str]) -> list[str]:
        """Remove documents and all their chunks; `UnknownSource` (nothing removed) if any source is unknown."""
        return self._ingester.remove(sources)

    # --- reads -------------------------------------------------------------------------------------
    def list_documents(self) -> list[DocumentRecord]:
        return [r.record() for r in self.manifest.rows()]

    def text(self, source: str) -> str:
        """The full extracted text of a document (what its line numbers refer to)."""
        row = self.manifest.get(source)
        if row is None:
            raise UnknownSource(f"not an ingested document: {source} (see `citewise docs list`)")
        try:
            return self.texts.read(row.sha256)
        except OSError as e:
            raise UnknownSource(f"the text of {source} is missing; re-run `citewise ingest` to repair") from e

    def line_map(self, source: str) -> LineMap | None:
        """Where each line of the document's extracted text is in its file; None for a document ingested
        before line maps existed (or unknown to the index)."""
        row = self.manifest.get(source)
        if row is None:
            return None
        with self._cache_lock:
            if row.sha256 in self._line_maps:
                return self._line_maps[row.sha256]
        try:
            found = self.texts.read_line_map(row.sha256)
        except (OSError, ValueError) as e:  # a damaged map: the location is unknown, the text is still right
            log.warning("line map of %s unreadable (%s): citations carry no file location", source, e)
            found = None
        with self._cache_lock:
            self._line_maps[row.sha256] = found
        return found

    def locate(self, source: str, start_line: int, end_line: int) -> Location:
        """Where extracted lines start_line..end_line of `source` are in its original file: PDF page, file
        lines (txt, md, html), DOCX paragraph or table row. Fields are None when unknown (no line map)."""
        line_map = self.line_map(source)
        return line_map.locate(start_line, end_line) if line_map is not None else Location()

    def chunks_for(self, source: str) -> list[Chunk]:
        row = self.manifest.get(source)
        if row is None:
            raise UnknownSource(f"not an ingested document: {source} (see `citewise docs list`)")
        found = self.store.get(row.chunk_ids)
        return [found[cid] for cid in row.chunk_ids if cid in found]

    def all_chunk_ids(self) -> set[str]:
        """Ids of every chunk the manifest currently references."""
        return set(self.search_view().valid_ids)

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by id, through a small LRU cache (chunk ids are content-derived, so entries never go stale)."""
        with self._cache_lock:
            missing = [cid for cid in ids if cid not in self._chunk_cache]
        fetched = self.store.get(missing) if missing else {}
        found: dict[str, Chunk] = {}
        with self._cache_lock:
            self._chunk_cache.update(fetched)
            for cid in ids:
                chunk = self._chunk_cache.get(cid, fetched.get(cid))
                if chunk is not None:
                    found[cid] = chunk
        return found

    def search_view(self) -> SearchView:
        """The current reader's view, refreshed only when the manifest generation changed."""
        generation = self.manifest.generation()
        view = self._view
        if view is not None and view.generation == generation:
            return view
        with self._view_lock:
            if self._view is not None and self._view.generation == self.manifest.generation():
                return self._view
            generation, view_ids = self._follow(self._view)
            foreign_ids, foreign_vectors = self._foreign.for_view(view_ids)
            self._view = SearchView(generation, view_ids, LexicalView(self.lexical, view_ids), foreign_ids, foreign_vectors)
            return self._view

    def _follow(self, view: SearchView | None) -> tuple[int, frozenset[str]]:
        """The manifest's generation and referenced ids now, with the lexical index brought up to them. From an
        earlier view, by the manifest's change journal: only the changed ids and the added chunks' texts are
        read (usually the writer has applied the change to the lexical index already). Otherwise — the first
        view, or a view older than the journal — every referenced id is read and compared with the index's."""
        fetch = lambda ids: {cid: c.text for cid, c in self.store.get(ids).items()}  # noqa: E731
        due = self.settings.chroma_url is not None and time.monotonic() - self._compared_at > RECONCILE_S
        if view is not None and not due:
            change = self.manifest.changes_since(view.generation)
            if change is not None and self.lexical.follow(view.generation, change, fetch):
                return change.generation, change.applied_to(view.valid_ids)
        generation, valid = self.lexical.sync(self.manifest.snapshot, self.manifest.generation, fetch)
        self._compared_at = time.monotonic()
        return generation, frozenset(valid)
