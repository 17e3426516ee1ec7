"""The lexical index: SQLite FTS5 with its bm25() ranking over the stemmed chunk texts, updated by deltas.

Derived data, kept in step with the manifest: `follow` applies one change of the manifest's journal (the
writer's own delta, or a reader's catching up); `sync` compares the chunk ids the manifest references with the
ids the index holds and applies only the difference (texts of added chunks only are read, from the writer's
hands or from Chroma), in one SQLite transaction that also records the manifest generation it reflects. A
crashed sync rolls back and the next one redoes it; re-running one is a no-op. The cost of an update is the
changed chunks' texts plus a scan of ids, not a re-read and re-tokenisation of every chunk.

Chroma's own sparse / BM25 index is not an option here: chromadb 1.5 refuses sparse vector indexes outside
Chroma Cloud ("Sparse vector indexing is not enabled in local", both PersistentClient and `chroma run`).
In server mode (CITEWISE_CHROMA_URL) each replica keeps this index under its own CITEWISE_HOME and follows
the shared manifest's journal: it reads the changed chunk ids and the added chunks' texts only.

Tokenisation is what the bm25s index used before: lower-case words of two or more characters, English
stopwords removed, PyStemmer English stems; the stems are stored space-separated, and FTS5 only splits them.
bm25() uses k1 = 1.2, b = 0.75.

Pseudo-relevance feedback (`expansion_terms`, `LexicalView.search_expanded`): the stems that weigh most in a few
top chunks (RM3's relevance model: Σ term frequency / chunk length) are added to the query, each of the query's
own stems repeated so it counts several times (FTS5's bm25() sums over the query's phrases, a repeated phrase
included). Retrieval uses it for its deep tail only (service.pipeline.retrieval).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import bm25s

from index.manifest import ManifestChange

Snapshot = Callable[[], tuple[int, set[str]]]  # the manifest's (generation, referenced chunk ids)
Generation = Callable[[], int]
Fetch = Callable[[Sequence[str]], dict[str, str]]  # chunk texts by id (missing ids absent)

_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts5(stems, tokenize="unicode61 remove_diacritics 0 tokenchars '_'");
CREATE TABLE IF NOT EXISTS chunks (rowid INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_BATCH = 500
_RETRIES = 5


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202 - PyStemmer has no type stubs
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )


class LexicalIndex:
    """One FTS5 table of stems keyed by chunk id, plus the manifest generation it reflects."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), timeout=60.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    # --- reads -------------------------------------------------------------------------------------
    def generation(self) -> int | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else None

    def ids(self) -> set[str]:
        with self._lock:
            return {cid for (cid,) in self._db.execute("SELECT chunk_id FROM chunks")}

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top chunks for `query`: (id, BM25 score > 0), best first; chunks sharing no stem are left out."""
        return self.search_stems(dict.fromkeys(query_stems(query), 1), k)

    def search_stems(self, stems: dict[str, int], k: int) -> list[tuple[str, float]]:
        """Top chunks for weighted stems (stem → how many times it counts, ≥ 1), as `search`."""
        if not stems or k <= 0:
            return []
        match = " OR ".join(" OR ".join([f'"{s}"'] * max(1, weight)) for s, weight in stems.items())
        with self._lock:
            rows = self._db.execute(
                "SELECT c.chunk_id, -bm25(terms) AS score FROM terms JOIN chunks c ON c.rowid = terms.rowid"
                " WHERE terms MATCH ? ORDER BY bm25(terms) LIMIT ?",
                (match, k),
            ).fetchall()
        return [(cid, float(score)) for cid, score in rows if score > 0]

    # --- the delta ---------------------------------------------------------------------------------
    def sync(self, snapshot: Snapshot, generation: Generation, fetch: Fetch) -> tuple[int, set[str]]:
        """Bring the index to the manifest's current state; returns that (generation, referenced ids).

        Texts are fetched outside the write transaction; inside it the manifest generation is checked again,
        so a sync never writes a state older than the manifest's (another writer then syncs after this one).
        """
        for _ in range(_RETRIES):
            current, valid = snapshot()
            if self.generation() == current:
                return current, valid
            held = self.ids()
            added = sorted(valid - held)
            texts = fetch(added) if added else {}
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    if generation() != current:
                        self._db.execute("ROLLBACK")
                        continue
                    held = {cid for (cid,) in self._db.execute("SELECT chunk_id FROM chunks")}
                    self._delete(held - valid)
                    self._insert((cid, texts[cid]) for cid in added if cid in texts and cid not in held)
                    self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('generation', ?)", (str(current),))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            return current, valid
        return current, valid  # the manifest kept moving: the next read syncs again

    def apply(self, base: int, added: dict[str, str], removed: set[str], generation: int) -> bool:
        """The writer's own delta: from generation `base` (which the index must reflect) to `generation`, adding
        and removing these chunks. False (nothing written) when the index is not at `base`: then `sync`."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
                if row is None or int(row[0]) != base:
                    self._db.execute("ROLLBACK")
                    return False
                self._delete(removed - added.keys())
                marks_ok = [cid for cid in added if cid not in removed]
                held: set[str] = set()
                for start in range(0, len(marks_ok), _BATCH):
                    part = marks_ok[start : start + _BATCH]
                    marks = ",".join("?" * len(part))
                    held.update(c for (c,) in self._db.execute(f"SELECT chunk_id FROM chunks WHERE chunk_id IN ({marks})", part))
                self._insert((cid, added[cid]) for cid in marks_ok if cid not in held)
                self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('generation', ?)", (str(generation),))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return True

    def follow(self, base: int, change: ManifestChange, fetch: Fetch) -> bool:
        """Bring the index from generation `base` by the manifest's `change` (its added chunks' texts fetched);
        True when the index now reflects `change.generation` (or did already), False when it is at neither."""
        at = self.generation()
        if at == change.generation:
            return True
        if at != base:
            return False
        texts = fetch(sorted(change.added)) if change.added else {}
        return self.apply(base, texts, set(change.removed), change.generation)

    def _delete(self, ids: set[str]) -> None:
        ordered = sorted(ids)
        for start in range(0, len(ordered), _BATCH):
            part = ordered[start : start + _BATCH]
            marks = ",".join("?" * len(part))
            rowids = [r for (r,) in self._db.execute(f"SELECT rowid FROM chunks WHERE chunk_id IN ({marks})", part)]
            self._db.executemany("DELETE FROM terms WHERE rowid=?", [(r,) for r in rowids])
            self._db.executemany("DELETE FROM chunks WHERE rowid=?", [(r,) for r in rowids])

    def _insert(self, items: Iterable[tuple[str, str]]) -> None:
        pending = list(items)
        for start in range(0, len(pending), _BATCH):
            part = pending[start : start + _BATCH]
            stems = tokenize([text for _, text in part])
            for (cid, _), tokens in zip(part, stems):
                rowid = self._db.execute("INSERT INTO chunks (chunk_id) VALUES (?)", (cid,)).lastrowid
                self._db.execute("INSERT INTO terms (rowid, stems) VALUES (?, ?)", (rowid, " ".join(tokens)))


def query_stems(query: str) -> list[str]:
    """The distinct stems of a query, in order."""
    return list(dict.fromkeys(tokenize([query])[0]))


def expansion_terms(query: str, texts: Sequence[str], n: int) -> list[str]:
    """The `n` stems that weigh most in `texts` (feedback chunks) and are not in `query`: Σ over the texts of
    term frequency / text length (RM3's relevance model with equal chunk weights); ties by stem."""
    exclude = set(query_stems(query))
    weights: dict[str, float] = {}
    for stems in tokenize(texts):
        for stem, count in Counter(stems).items():
            if stem not in exclude:
                weights[stem] = weights.get(stem, 0.0) + count / len(stems)
    return sorted(weights, key=lambda s: (-weights[s], s))[: max(n, 0)]


class LexicalView:
    """The lexical index as one search view sees it: results restricted to the view's chunk ids (the shared
    index may already be a generation ahead)."""

    def __init__(self, index: LexicalIndex, valid: frozenset[str]) -> None:
        self.index, self.valid = index, valid

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        hits = [(cid, s) for cid, s in self.index.search(query, k + 8) if cid in self.valid]
        return hits[:k]

    def search_expanded(self, query: str, feedback: Sequence[str], terms: int, query_weight: int, k: int) -> list[tuple[str, float]]:
        """`search` for the query's stems (each counted `query_weight` times) plus the `terms` expansion stems of
        the `feedback` texts (counted once)."""
        stems = dict.fromkeys(query_stems(query), query_weight)
        stems.update((s, 1) for s in expansion_terms(query, feedback, terms))
        hits = [(cid, s) for cid, s in self.index.search_stems(stems, k + 8) if cid in self.valid]
        return hits[:k]
