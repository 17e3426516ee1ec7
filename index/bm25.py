"""A BM25 index (bm25s, English stemming and stopwords) over the same chunks as the vector store.

It is derived data: built from the chunk texts the manifest references, saved under settings.bm25_path with
the manifest generation it reflects, and rebuilt whenever that generation is stale.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s

_STATE_FILE = "citewise.json"


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202 - PyStemmer has no type stubs
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )


class BM25Index:
    """Chunk ids and a bm25s retriever over their texts, tagged with the manifest generation."""

    def __init__(self, ids: list[str], retriever: bm25s.BM25 | None, generation: int) -> None:
        self.ids = ids
        self.retriever = retriever
        self.generation = generation

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str], generation: int) -> BM25Index:
        if not ids:
            return cls([], None, generation)
        retriever = bm25s.BM25()
        retriever.index(tokenize(texts), show_progress=False)
        return cls(list(ids), retriever, generation)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top chunks for `query`: (id, BM25 score), best first; chunks sharing no term are left out."""
        if self.retriever is None or not self.ids:
            return []
        tokens = tokenize([query])
        if not tokens[0]:
            return []
        docs, scores = self.retriever.retrieve(tokens, k=min(k, len(self.ids)), show_progress=False, n_threads=0)  # 0: no thread pool
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

    # --- persistence -----------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write to a temporary folder, then swap it in, so a reader never loads a half-written index."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".bm25-", dir=folder.parent))
        if self.retriever is not None:
            self.retriever.save(str(staging))
        (staging / _STATE_FILE).write_text(json.dumps({"generation": self.generation, "ids": self.ids}))
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.replace(folder, old)
        os.replace(staging, folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> BM25Index | None:
        """The saved index, or None when there is none (or it is unreadable)."""
        try:
            state = json.loads((folder / _STATE_FILE).read_text())
            ids = list(state["ids"])
            retriever = bm25s.BM25.load(str(folder), mmap=False) if ids else None
        except (OSError, ValueError, KeyError):
            return None
        return cls(ids, retriever, int(state["generation"]))

    @staticmethod
    def saved_generation(folder: Path) -> int | None:
        try:
            return int(json.loads((folder / _STATE_FILE).read_text())["generation"])
        except (OSError, ValueError, KeyError):
            return None

