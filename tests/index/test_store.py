"""The Chroma chunk store's own settings, with the real embedded Chroma."""

from __future__ import annotations

import sqlite3

import numpy as np
from chromadb.api.models.Collection import Collection

from index.embeddings import DIMENSIONS, MiniLMEmbedder
from index.store import ChunkStore, make_client
from service.config import Settings


def _pending_log_records(settings: Settings) -> int:
    """Records Chroma's write log still holds: written, not yet synced into the vector index files."""
    with sqlite3.connect(settings.chroma_path / "chroma.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM embeddings_queue").fetchone()[0])


def _sync_threshold(collection: Collection) -> object:
    hnsw = collection.configuration.get("hnsw") or {}
    return hnsw.get("sync_threshold")


def test_an_index_made_with_chromas_default_sync_threshold_syncs_every_100_records(settings: Settings) -> None:
    """Chroma keeps up to 1,000 written records pending by default and every write pays for them (a one-vector
    write 5 → 17 ms); an index an older version created gets the store's threshold when it is opened."""
    client = make_client(settings)  # the same client settings the store uses (Chroma insists per path)
    client.create_collection(settings.collection, configuration={"hnsw": {"space": "cosine"}},
                             embedding_function=MiniLMEmbedder())  # type: ignore[arg-type]  # fmt: skip
    assert _sync_threshold(client.get_collection(settings.collection)) == 1000

    store = ChunkStore(settings, MiniLMEmbedder())
    vector = np.ones(DIMENSIONS, dtype=np.float32) / np.sqrt(DIMENSIONS)
    for i in range(120):  # one vector per write, like a one-file update
        store.collection.upsert(ids=[f"c{i}"], embeddings=[vector.tolist()], documents=[f"text {i}"])

    assert _sync_threshold(store.collection) == 100
    # 120 records written: with Chroma's default all 120 would still be pending.
    assert _pending_log_records(settings) < 100
    assert store.count() == 120
