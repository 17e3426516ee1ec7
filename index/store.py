"""The Chroma collection holding chunk texts, spans and embeddings — the source of truth for chunk text.

Embedded `PersistentClient` under CITEWISE_HOME by default; a Chroma server (`HttpClient`) when
`settings.chroma_url` is set. Embeddings are computed by the caller (batched) and passed in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api.collection_configuration import UpdateHNSWConfiguration
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from index.config import IndexConfig
from index.embeddings import MiniLMEmbedder, get_embedder
from index.records import Chunk


def _metadata(chunk: Chunk) -> dict[str, str | int]:
    return {
        "source": chunk.source,
        "start_line": chunk.start_line,
        "end_line": chunk.end_line,
        "start_char": chunk.start_char,
        "end_char": chunk.end_char,
        "chunk_index": chunk.chunk_index,
        "content_hash": chunk.content_hash,
        "doc_sha256": chunk.doc_sha256,
    }


def _chunk(chunk_id: str, text: str, meta: dict) -> Chunk:
    return Chunk(
        id=chunk_id,
        source=str(meta["source"]),
        text=text,
        start_char=int(meta["start_char"]),
        end_char=int(meta["end_char"]),
        start_line=int(meta["start_line"]),
        end_line=int(meta["end_line"]),
        chunk_index=int(meta["chunk_index"]),
        content_hash=str(meta["content_hash"]),
        doc_sha256=str(meta["doc_sha256"]),
    )


def make_client(settings: IndexConfig) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


log = logging.getLogger("citewise.index")

# Chroma moves written vectors into its HNSW files only every `sync_threshold` log records (default 1000); until
# then each write also pays for the records still pending, so a one-vector upsert cost 5 ms after a sync and 17 ms
# just before the next one — on an empty collection and on SciFact's 15k chunks alike. Syncing every 100 records
# keeps a write near the low end (mean 11.6 → 5.3 ms at 15k chunks, 12.7 → 6.8 ms at 150k); a sync rewrites the
# vector files (~15 ms at 15k chunks, ~80 ms at 150k), paid once per 100 records.
# Measured with `python -m evals.bench_update` (its "Chroma alone" rows, 300 writes each: 8.3 → 4.4 ms on the 15k).
HNSW_SYNC_RECORDS = 100

# Chroma's default ef_search (100) loses whole groups of chunks when most of the index is near-identical: over the
# news articles plus a 50k-line CSV (~1,760 near-duplicate chunks), a depth-58 query missed every news chunk in 12 of
# 280 builds (HNSW construction is multi-threaded, so each build differs) — the flaky
# tests/hardening/test_degenerate_content.py. At 200: 0 of 260 builds; a depth-58 query 0.8 → 1.1 ms there.
# Only ef_search can change on an existing collection (set at open below); a process that has the vector index
# loaded keeps the value it loaded with, so an older index gets it from the next start on.
HNSW_EF_SEARCH = 200

# Embedded Chroma keeps one in-memory vector index per path and process (chromadb caches its "system" per path),
# so what a query can find is per path: the chunks present when this process first read the index, plus those it
# wrote itself since. Chunks other processes write later are invisible to its queries (see index.corpus).
_VISIBLE: dict[str, set[str]] = {}


class ChunkStore:
    """One Chroma collection (cosine space) of chunks."""

    def __init__(self, settings: IndexConfig, embedder: MiniLMEmbedder | None = None) -> None:
        self.client = make_client(settings)
        self.embedder = embedder or get_embedder()
        self.collection = self.client.get_or_create_collection(
            name=settings.collection,
            # MiniLMEmbedder implements Chroma's protocol for texts; Chroma's type also admits images, never sent here
            embedding_function=self.embedder,  # type: ignore[arg-type]
            configuration={"hnsw": {"space": "cosine", "sync_threshold": HNSW_SYNC_RECORDS, "ef_search": HNSW_EF_SEARCH}},
        )
        self._tune_hnsw()
        self._max_batch = max(1, min(self.client.get_max_batch_size(), 5000))
        self._path = None if settings.chroma_url else str(settings.chroma_path)

    def _tune_hnsw(self) -> None:
        """A collection an older version created with Chroma's defaults gets our sync threshold and search breadth,
        stored at open; the process that has its vector index loaded keeps the values it loaded with, so they
        apply from the next start. When Chroma's database is busy (another process writing), the index works as
        it is and the next open tries again."""
        hnsw = self.collection.configuration.get("hnsw") or {}
        wanted = UpdateHNSWConfiguration(sync_threshold=HNSW_SYNC_RECORDS, ef_search=HNSW_EF_SEARCH)
        if all(hnsw.get(key) == value for key, value in wanted.items()):
            return
        try:
            self.collection.modify(configuration={"hnsw": wanted})
        except ChromaError as error:
            log.info("Chroma HNSW settings left at %s for now: %s", {k: hnsw.get(k) for k in wanted}, error)

    def _batches(self, items: Sequence) -> Iterator[Sequence]:
        for start in range(0, len(items), self._max_batch):
            yield items[start : start + self._max_batch]

    # --- writes --------------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
        """Write chunks with precomputed embeddings (upsert: a repaired crash may have left the same ids)."""
        for start in range(0, len(chunks), self._max_batch):
            part = chunks[start : start + self._max_batch]
            self.collection.upsert(
                ids=[c.id for c in part],
                embeddings=embeddings[start : start + len(part)],
                documents=[c.text for c in part],
                metadatas=[_metadata(c) for c in part],
            )
            if self._path in _VISIBLE:
                _VISIBLE[self._path].update(c.id for c in part)

    def delete(self, ids: Sequence[str]) -> None:
        for part in self._batches(list(ids)):
            self.collection.delete(ids=list(part))

    # --- reads ---------------------------------------------------------------------------------
    def count(self) -> int:
        return self.collection.count()

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        total = self.collection.count()
        for offset in range(0, total, self._max_batch):
            ids.update(self.collection.get(include=[], limit=self._max_batch, offset=offset)["ids"])
        return ids

    def get(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by id (missing ids are simply absent from the result)."""
        found: dict[str, Chunk] = {}
        for part in self._batches(list(ids)):
            result = self.collection.get(ids=list(part), include=["documents", "metadatas"])
            for chunk_id, text, meta in zip(result["ids"], result["documents"] or [], result["metadatas"] or []):
                found[chunk_id] = _chunk(chunk_id, text, dict(meta))
        return found

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored embeddings by chunk id (missing ids absent)."""
        found: dict[str, np.ndarray] = {}
        for part in self._batches(list(ids)):
            result = self.collection.get(ids=list(part), include=["embeddings"])
            embeddings = result["embeddings"]
            if embeddings is None:
                continue
            for chunk_id, vector in zip(result["ids"], embeddings):
                found[chunk_id] = np.asarray(vector, dtype=np.float32)
        return found

    def queryable_ids(self, present: frozenset[str]) -> set[str] | None:
        """Chunk ids this process's queries can find (None: all of them — a Chroma server). `present` is what
        the index holds now; on the first call for this path in this process, all of it is queryable."""
        if self._path is None:
            return None
        return _VISIBLE.setdefault(self._path, set(present))

    def query(self, embedding: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Nearest chunks to a query embedding: (id, cosine similarity), best first."""
        # No count() first: it costs as much as the query itself, and Chroma caps n_results at the collection size.
        result = self.collection.query(query_embeddings=[embedding], n_results=max(1, n), include=["distances"])
        if not result["ids"]:
            return []
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], (result["distances"] or [[]])[0])]
