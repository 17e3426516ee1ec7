"""Copy documents of one index into another — chunks with their stored vectors, texts, line maps and manifest
rows — without extracting or embedding again: how the benchmarks get a 15k-chunk index into a Chroma server, or
indexes of several sizes, in seconds instead of an ingest each. The target must be empty of these documents;
nothing here takes the write lock (a benchmark's fresh index has no other writer)."""

from __future__ import annotations

from collections.abc import Sequence

from index.corpus import Corpus
from index.manifest import ManifestRow

_BATCH = 500


def copy_documents(source: Corpus, target: Corpus, rows: Sequence[ManifestRow]) -> int:
    """Copy `rows` (documents of `source`) into `target`; returns the number of chunks copied. The manifest rows
    go last, in batches, so a batch's documents become visible only once their chunks and texts are there."""
    copied = 0
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        ids = [cid for row in batch for cid in row.chunk_ids]
        for at in range(0, len(ids), _BATCH):
            found = source.store.collection.get(ids=ids[at : at + _BATCH], include=["embeddings", "documents", "metadatas"])
            target.store.collection.upsert(
                ids=found["ids"], embeddings=found["embeddings"], documents=found["documents"], metadatas=found["metadatas"]
            )
            copied += len(found["ids"])
        for sha in dict.fromkeys(row.sha256 for row in batch):
            if not target.texts.exists(sha):
                target.texts.write(sha, source.texts.read(sha), source.texts.read_line_map(sha))
        target.manifest.replace(batch)
    return copied
