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


def _hnsw(collection: Collection, key: str) -> object:
    hnsw = collection.configuration.get("hnsw") or {}
    return hnsw.get(key)


def test_an_index_made_with_chromas_defaults_gets_the_stores_sync_threshold_and_search_breadth(settings: Settings) -> None:
    """Chroma keeps up to 1,000 written records pending by default and every write pays for them (a one-vector
    write 5 → 17 ms); its default search breadth (ef_search 100) lost every news chunk beside a 50k-line CSV in
    12 of 280 builds. An index an older version created gets the store's settings when it is opened."""
    client = make_client(settings)  # the same client settings the store uses (Chroma insists per path)
    client.create_collection(settings.collection, configuration={"hnsw": {"space": "cosine"}},
                             embedding_function=MiniLMEmbedder())  # type: ignore[arg-type]  # fmt: skip
    assert _hnsw(client.get_collection(settings.collection), "sync_threshold") == 1000
    assert _hnsw(client.get_collection(settings.collection), "ef_search") == 100

    store = ChunkStore(settings, MiniLMEmbedder())
    vector = np.ones(DIMENSIONS, dtype=np.float32) / np.sqrt(DIMENSIONS)
    for i in range(120):  # one vector per write, like a one-file update
        store.collection.upsert(ids=[f"c{i}"], embeddings=[vector.tolist()], documents=[f"text {i}"])

    assert _hnsw(store.collection, "sync_threshold") == 100
    assert _hnsw(store.collection, "ef_search") == 200
    # 120 records written: with Chroma's default all 120 would still be pending.
    assert _pending_log_records(settings) < 100
    assert store.count() == 120


def test_a_new_index_searches_wider_than_chromas_default(settings: Settings) -> None:
    store = ChunkStore(settings, MiniLMEmbedder())
    assert _hnsw(store.collection, "ef_search") == 200
    assert _hnsw(store.collection, "sync_threshold") == 100
