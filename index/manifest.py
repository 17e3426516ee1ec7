"""The manifest (SQLite): which documents are ingested, from which file, with which chunks.

The manifest is what readers trust: a chunk is visible only while a manifest row references it. Every change
bumps a generation counter in the same transaction, so readers (BM25 cache, valid-id set) know when to refresh,
and records which chunk ids it added and removed (the `changes` journal, the last JOURNAL_KEEP generations), so a
reader one or a few generations behind catches up by the change alone instead of re-reading every row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from index.records import DocumentRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    source      TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL,
    chunk_ids   TEXT NOT NULL,          -- JSON array, in chunk order
    chunks      INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,          -- ISO 8601, UTC
    path        TEXT,                   -- absolute file path it was read from (NULL for uploads)
    root        TEXT                    -- absolute command-line path it was found under (scope of --prune)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS documents_by_sha256 ON documents (sha256);
CREATE TABLE IF NOT EXISTS changes (
    generation INTEGER PRIMARY KEY,     -- the generation this change produced
    added      TEXT NOT NULL,           -- JSON array of chunk ids
    removed    TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', '0');
"""


JOURNAL_KEEP = 256  # generations of changes kept; a reader further behind re-reads the referenced ids


@dataclass(frozen=True)
class ManifestChange:
    """What changed from a reader's generation to `generation`: chunk ids now referenced and no longer referenced."""

    generation: int
    added: frozenset[str] = field(default_factory=frozenset)
    removed: frozenset[str] = field(default_factory=frozenset)

    def applied_to(self, ids: frozenset[str]) -> frozenset[str]:
        return (ids - self.removed) | self.added


def compose(generation: int, steps: Iterable[tuple[Iterable[str], Iterable[str]]]) -> ManifestChange:
    """One change for consecutive (added, removed) steps, oldest first."""
    added: set[str] = set()
    removed: set[str] = set()
    for step_added, step_removed in steps:
        for cid in step_removed:
            if cid in added:
                added.discard(cid)
            else:
                removed.add(cid)
        for cid in step_added:
            if cid in removed:
                removed.discard(cid)
            else:
                added.add(cid)
    return ManifestChange(generation, frozenset(added), frozenset(removed))


def row_changes(old: dict[str, list[str]], new: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """(added, removed) chunk ids when documents switch from `old` chunk lists to `new` ones (a source absent
    from `new` is removed; chunk ids are per document, so documents never share one)."""
    added = [cid for source, ids in new.items() for cid in set(ids) - set(old.get(source, ()))]
    removed = [cid for source, ids in old.items() for cid in set(ids) - set(new.get(source, ()))]
    return added, removed


@dataclass(frozen=True)
class ManifestRow:
    source: str
    sha256: str
    chunk_ids: list[str]
    ingested_at: datetime
    path: str | None = None
    root: str | None = None

    def record(self) -> DocumentRecord:
        return DocumentRecord(
            source=self.source, chunks=len(self.chunk_ids), sha256=self.sha256, ingested_at=self.ingested_at
        )


def _row(values: tuple) -> ManifestRow:
    source, sha, chunk_ids, ingested_at, path, root = values
    return ManifestRow(source, sha, json.loads(chunk_ids), datetime.fromisoformat(ingested_at), path, root)


class Manifest:
    """A small SQLite table of documents; each write is one transaction that also bumps the generation."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        if self._db.execute("SELECT 1 FROM meta WHERE key='chunks'").fetchone() is None:
            # A manifest from before the count was kept: summed once (OR IGNORE: another process may race us).
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) SELECT 'chunks', COALESCE(SUM(chunks), 0) FROM documents"
            )

    def close(self) -> None:
        self._db.close()

    # --- reads -------------------------------------------------------------------------------------
    def generation(self) -> int:
        return int(self._db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])

    def get(self, source: str) -> ManifestRow | None:
        values = self._db.execute(
            "SELECT source, sha256, chunk_ids, ingested_at, path, root FROM documents WHERE source=?", (source,)
        ).fetchone()
        return _row(values) if values else None

    def rows(self) -> list[ManifestRow]:
        cursor = self._db.execute(
            "SELECT source, sha256, chunk_ids, ingested_at, path, root FROM documents ORDER BY source"
        )
        return [_row(v) for v in cursor.fetchall()]

    def referenced_ids(self) -> set[str]:
        ids: set[str] = set()
        for (chunk_ids,) in self._db.execute("SELECT chunk_ids FROM documents"):
            ids.update(json.loads(chunk_ids))
        return ids

    def chunk_count(self) -> int:
        """Chunks referenced by all documents (a document's chunk ids are distinct; ids are per document): kept
        in `meta` by every write, so reading it does not sum every row."""
        return int(self._db.execute("SELECT value FROM meta WHERE key='chunks'").fetchone()[0])

    def in_use(self, shas: set[str]) -> set[str]:
        """Which of these sha256 some document still has (its text is in use): an indexed lookup per sha."""
        query = "SELECT 1 FROM documents WHERE sha256 = ? LIMIT 1"
        return {sha for sha in shas if self._db.execute(query, (sha,)).fetchone() is not None}

    def writing(self) -> bool:
        """Whether a write is marked in progress (left set by a write that was killed)."""
        row = self._db.execute("SELECT value FROM meta WHERE key='writing'").fetchone()
        return bool(row and row[0] == "1")

    def set_writing(self, on: bool) -> None:
        """Mark or clear a write in progress (no generation bump: readers see no change)."""
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('writing', ?)", ("1" if on else "0",))

    def snapshot(self) -> tuple[int, set[str]]:
        """Generation and referenced chunk ids, read consistently in one transaction."""
        self._db.execute("BEGIN")
        try:
            return self.generation(), self.referenced_ids()
        finally:
            self._db.execute("COMMIT")

    def changes_since(self, generation: int) -> ManifestChange | None:
        """The change from `generation` to now, from the journal; None when it does not reach back that far."""
        self._db.execute("BEGIN")
        try:
            current = self.generation()
            rows = self._db.execute(
                "SELECT generation, added, removed FROM changes WHERE generation > ? AND generation <= ?"
                " ORDER BY generation", (generation, current),
            ).fetchall()  # fmt: skip
        finally:
            self._db.execute("COMMIT")
        if generation > current or [g for g, _, _ in rows] != list(range(generation + 1, current + 1)):
            return None
        return compose(current, ((json.loads(a), json.loads(r)) for _, a, r in rows))

    def recount(self) -> None:
        """The chunk count changes in the same transaction as the rows: it cannot go stale, nothing to repair."""

    def _chunk_lists(self, sources: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for start in range(0, len(sources), 500):
            part = sources[start : start + 500]
            marks = ",".join("?" * len(part))
            query = f"SELECT source, chunk_ids FROM documents WHERE source IN ({marks})"
            found.update((source, json.loads(ids)) for source, ids in self._db.execute(query, part))
        return found

    def _record(self, old: dict[str, list[str]], new: dict[str, list[str]]) -> None:
        """Journal the change the open transaction makes (documents switching from `old` chunk lists to `new`),
        under the generation it is about to become, and move the kept chunk count by it."""
        added, removed = row_changes(old, new)
        self._db.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key='chunks'", (len(added) - len(removed),)
        )
        self._db.execute(
            "INSERT OR REPLACE INTO changes (generation, added, removed)"
            " SELECT CAST(value AS INTEGER) + 1, ?, ? FROM meta WHERE key='generation'",
            (json.dumps(added), json.dumps(removed)),
        )
        self._db.execute(
            "DELETE FROM changes WHERE generation <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key='generation') - ?",
            (JOURNAL_KEEP - 1,),
        )

    # --- writes (each one transaction, bumping the generation) -------------------------------------
    def replace(self, rows: Iterable[ManifestRow]) -> None:
        """Insert or switch documents to new chunk lists, atomically for all `rows`."""
        rows = list(rows)
        if not rows:
            return
        with self._transaction():
            self._record(self._chunk_lists([r.source for r in rows]), {r.source: r.chunk_ids for r in rows})
            self._db.executemany(
                "INSERT OR REPLACE INTO documents (source, sha256, chunk_ids, chunks, ingested_at, path, root)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.source, r.sha256, json.dumps(r.chunk_ids), len(r.chunk_ids), r.ingested_at.isoformat(),
                     r.path, r.root)
                    for r in rows
                ],
            )  # fmt: skip

    def delete(self, sources: Iterable[str]) -> None:
        sources = list(sources)
        if not sources:
            return
        with self._transaction():
            self._record(self._chunk_lists(sources), {})
            self._db.executemany("DELETE FROM documents WHERE source=?", [(s,) for s in sources])

    def set_location(self, source: str, path: str, root: str) -> None:
        """Record where an unchanged document's file now lives (no generation bump: chunks did not change)."""
        self._db.execute("UPDATE documents SET path=?, root=? WHERE source=?", (path, root, source))

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … bump generation … COMMIT (or ROLLBACK on error)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is not None:
            self.db.execute("ROLLBACK")
            return
        self.db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")
        self.db.execute("COMMIT")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
