"""The manifest and the extracted texts kept in the Chroma server itself (server mode: `CITEWISE_CHROMA_URL`).

With a Chroma server, API replicas on different machines must agree on which documents exist. So the manifest
rows and the extracted texts live next to the chunks, in a second collection (`<collection>-manifest`) of the
same server, instead of in CITEWISE_HOME: any replica reads the same rows, and its lexical index (derived data,
still under its own CITEWISE_HOME) follows the manifest version by the change journal (`log:<seq>`): a replica
reads the chunk ids the changes since its version added and removed, not every row.

Records (all with a 1-dimensional dummy embedding; this collection is never queried by vector):
  `doc:<source>`          one per document: sha256, chunk ids (JSON), ingested_at, path, root
  `text:<sha256>:<part>`  the extracted text, in parts small enough for one request
  `lines:<sha256>:<part>` its line map (`index.locations`), the same way
  `meta:generation`       the manifest version: a random stamp, re-drawn on every change; with it the change's
                          sequence number and the referenced chunk count
  `log:<seq>`             the chunk ids change <seq> added and removed, and the version it produced (the last
                          JOURNAL_KEEP changes; a replica further behind, or behind a repair, which journals
                          nothing, re-reads every row)
  `meta:writer`           the write lease (owner, expiry): one writer at a time across machines
  `meta:writing`          set while a write runs; left set by a killed writer, so the next one sweeps

The version is a random stamp, not a counter, so two writers on different machines never produce the same
value for different contents (readers only compare versions for equality). A writer changes rows first and
the version second, and readers read the version first, so a reader's cached view is never newer than its
version and is refreshed on the next read after any change.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import chromadb
import numpy as np
from filelock import FileLock, Timeout

from index.locations import LineMap
from index.manifest import JOURNAL_KEEP, ManifestChange, ManifestRow, compose, row_changes

_DUMMY = np.ones(1, dtype=np.float32)  # the manifest collection holds records, not vectors
_GENERATION_ID = "meta:generation"
_WRITER_ID = "meta:writer"
_WRITING_ID = "meta:writing"  # a write in progress (left set by a killed writer: the next one sweeps)
_TEXT_PART_CHARS = 4 * 1024 * 1024  # a Chroma server rejects request bodies over ~32 MB
_PAGE = 1000




def _put(collection: Any, ids: list[str], metadatas: list[dict[str, Any]], documents: list[str] | None = None) -> None:
    """Upsert records (the manifest collection's vectors are a placeholder). `collection` is untyped here: Chroma's
    stubs accept only their own Metadata union and ndarray embeddings, and these records are plain dicts."""
    collection.upsert(ids=ids, embeddings=[_DUMMY] * len(ids), metadatas=metadatas, documents=documents)

def _metadatas(result: Any) -> list[dict[str, Any]]:
    """A Chroma get result's metadatas as plain dicts (Chroma types them as a union of every value kind)."""
    return [dict(m or {}) for m in result["metadatas"] or []]


def _documents(result: Any) -> list[str]:
    return [str(d) for d in result["documents"] or []]

def manifest_collection_name(collection: str) -> str:
    return f"{collection}-manifest"


def _new_generation() -> int:
    return secrets.randbits(62)


def _doc_id(source: str) -> str:
    return f"doc:{source}"


_SEQS_KEPT = 64  # versions whose journal position a replica remembers (its own view's is the one it needs)


def _log_id(seq: int) -> str:
    return f"log:{seq}"


class ChromaManifest:
    """`index.manifest.Manifest`'s interface over a Chroma collection shared by all replicas."""

    def __init__(self, client: chromadb.ClientAPI, collection: str) -> None:
        self.collection = client.get_or_create_collection(manifest_collection_name(collection), embedding_function=None)
        self._seqs: dict[int, int] = {}  # journal position of versions read lately (generation → seq)
        self._seqs_lock = threading.Lock()

    def close(self) -> None:
        pass

    # --- reads -------------------------------------------------------------------------------------
    def generation(self) -> int:
        return int(self._version().get("generation", 0))

    def _version(self) -> dict[str, Any]:
        """The `meta:generation` record: generation, and (written since the journal exists) seq and chunks."""
        found = self.collection.get(ids=[_GENERATION_ID], include=["metadatas"])
        version = _metadatas(found)[0] if found["ids"] else {"generation": 0, "seq": 0, "chunks": 0}
        if version.get("seq") is not None:  # remembered, so a reader's next catch-up finds its place by id
            with self._seqs_lock:
                self._seqs[int(version["generation"])] = int(version["seq"])
                while len(self._seqs) > _SEQS_KEPT:
                    self._seqs.pop(next(iter(self._seqs)))
        return version

    def get(self, source: str) -> ManifestRow | None:
        found = self.collection.get(ids=[_doc_id(source)], include=["metadatas"])
        return _row(_metadatas(found)[0]) if found["ids"] else None

    def rows(self) -> list[ManifestRow]:
        rows = [_row(meta) for meta in self._pages({"kind": "doc"})]
        return sorted(rows, key=lambda r: r.source)

    def referenced_ids(self) -> set[str]:
        return {cid for row in self.rows() for cid in row.chunk_ids}

    def chunk_count(self) -> int:
        """Chunks referenced by all documents: kept beside the version (a manifest from before it: every row)."""
        chunks = self._version().get("chunks")
        return int(chunks) if chunks is not None else sum(len(row.chunk_ids) for row in self.rows())

    def in_use(self, shas: set[str]) -> set[str]:
        if not shas:
            return set()
        where: Any = {"$and": [{"kind": "doc"}, {"sha256": {"$in": sorted(shas)}}]}
        return {str(m["sha256"]) for m in _metadatas(self.collection.get(where=where, include=["metadatas"]))}

    def writing(self) -> bool:
        found = self.collection.get(ids=[_WRITING_ID], include=["metadatas"])
        return bool(found["ids"]) and bool(found["metadatas"][0]["writing"])  # type: ignore[index]

    def set_writing(self, on: bool) -> None:
        meta = {"kind": "meta", "writing": 1 if on else 0}
        self.collection.upsert(ids=[_WRITING_ID], embeddings=[_DUMMY], metadatas=[meta])  # type: ignore[arg-type]

    def snapshot(self) -> tuple[int, set[str]]:
        """Version first, then rows: the rows are at least as new as the version (see the module docstring)."""
        generation = self.generation()
        return generation, self.referenced_ids()

    def changes_since(self, generation: int) -> ManifestChange | None:
        """The change from `generation` to now, from the journal; None when it does not reach back that far.
        Version first, then the log entries up to it (as in `snapshot`)."""
        version = self._version()
        current = int(version["generation"])
        if generation == current:
            return ManifestChange(current)
        if version.get("seq") is None:
            return None
        seq = int(version["seq"])
        since = 0 if generation == 0 else self._seq_of(generation)
        if since is None or not 0 < seq - since <= JOURNAL_KEEP:
            return None
        wanted = list(range(since + 1, seq + 1))
        found = _metadatas(self.collection.get(ids=[_log_id(n) for n in wanted], include=["metadatas"]))
        logs = sorted(found, key=lambda m: int(m["seq"]))
        if [int(m["seq"]) for m in logs] != wanted or int(logs[-1]["generation"]) != current:
            return None
        return compose(current, ((json.loads(m["added"]), json.loads(m["removed"])) for m in logs))

    def _seq_of(self, generation: int) -> int | None:
        with self._seqs_lock:
            if generation in self._seqs:
                return self._seqs[generation]
        where: Any = {"$and": [{"kind": "log"}, {"generation": generation}]}
        found = _metadatas(self.collection.get(where=where, include=["metadatas"], limit=1))
        return int(found[0]["seq"]) if found else None

    def _counted_version(self) -> dict[str, Any]:
        """The version record before a change, with its chunk count (summed from the rows when it has none)."""
        version = self._version()
        if version.get("chunks") is not None:
            return version
        return dict(version, chunks=sum(len(row.chunk_ids) for row in self.rows()))

    def _write_version(self, before: dict[str, Any], rows: list[ManifestRow], added: list[str], removed: list[str]) -> None:
        """The rows (none for a delete), the change's log entry and the version after `before`, in one upsert
        request; then the log entry that fell out of the journal is dropped."""
        seq = int(before.get("seq") or 0) + 1
        count = int(before["chunks"]) + len(added) - len(removed)
        generation = _new_generation()
        log = {"kind": "log", "seq": seq, "generation": generation, "added": json.dumps(added), "removed": json.dumps(removed)}
        meta = {"kind": "meta", "generation": generation, "seq": seq, "chunks": count}
        ids = [_doc_id(r.source) for r in rows] + [_log_id(seq), _GENERATION_ID]
        _put(self.collection, ids, [_metadata(r) for r in rows] + [log, meta])
        self._drop_log_before(seq)

    def _drop_log_before(self, seq: int) -> None:
        """Drop the log entry that the version `seq` pushed out of the journal."""
        if seq > JOURNAL_KEEP:
            self.collection.delete(ids=[_log_id(seq - JOURNAL_KEEP)])

    def recount(self) -> None:
        """After a killed write: when the rows no longer add up to the chunk count kept beside the version (a
        delete removed rows but died before writing its version), write a new version with the true count and
        no journal entry for it, so every replica re-reads the rows once instead of trusting the journal."""
        version = self._version()
        count = sum(len(r.chunk_ids) for r in self.rows())
        if version.get("generation") and version.get("chunks") != count:
            seq = int(version.get("seq") or 0) + 1
            meta = {"kind": "meta", "generation": _new_generation(), "seq": seq, "chunks": count}
            _put(self.collection, [_GENERATION_ID], [meta])
            self._drop_log_before(seq)

    def _chunk_lists(self, sources: list[str]) -> dict[str, list[str]]:
        found = self.collection.get(ids=[_doc_id(s) for s in sources], include=["metadatas"])
        return {row.source: row.chunk_ids for row in map(_row, _metadatas(found))}

    def _pages(self, where: dict) -> Iterator[dict]:
        offset = 0
        while True:
            page = self.collection.get(where=where, include=["metadatas"], limit=_PAGE, offset=offset)
            yield from page["metadatas"]  # type: ignore[misc]
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    # --- writes (each bumps the version) -----------------------------------------------------------
    def replace(self, rows: Iterable[ManifestRow]) -> None:
        """Insert or switch documents, all rows and the new version in one upsert request."""
        rows = list(rows)
        if not rows:
            return
        # The caller holds the write lease, so the sequence numbers of the journal do not race.
        before = self._counted_version()
        added, removed = row_changes(self._chunk_lists([r.source for r in rows]), {r.source: r.chunk_ids for r in rows})
        self._write_version(before, rows, added, removed)

    def delete(self, sources: Iterable[str]) -> None:
        sources = list(sources)
        if not sources:
            return
        before = self._counted_version()
        added, removed = row_changes(self._chunk_lists(sources), {})
        self.collection.delete(ids=[_doc_id(s) for s in sources])  # rows first, version second (module docstring)
        self._write_version(before, [], added, removed)

    def set_location(self, source: str, path: str, root: str) -> None:
        row = self.get(source)
        if row is None:
            return
        meta = _metadata(ManifestRow(row.source, row.sha256, row.chunk_ids, row.ingested_at, path, root))
        _put(self.collection, [_doc_id(source)], [meta])


class ChromaTextStore:
    """`index.texts.TextStore`'s interface over the same collection: texts by sha256, split into parts."""

    def __init__(self, client: chromadb.ClientAPI, collection: str) -> None:
        self.collection = client.get_or_create_collection(manifest_collection_name(collection), embedding_function=None)

    def _write_parts(self, kind: str, sha256: str, content: str) -> None:
        parts = [content[i : i + _TEXT_PART_CHARS] for i in range(0, len(content), _TEXT_PART_CHARS)] or [""]
        # The part count goes on part 0, written last: a text counts as present only once every part is.
        for index in [*range(1, len(parts)), 0]:
            meta = {"kind": kind, "sha256": sha256, "part": index, "parts": len(parts)}
            _put(self.collection, [f"{kind}:{sha256}:{index}"], [meta], [parts[index]])

    def _read_parts(self, kind: str, sha256: str) -> str | None:
        head = self.collection.get(ids=[f"{kind}:{sha256}:0"], include=["documents", "metadatas"])
        if not head["ids"]:
            return None
        parts = int(_metadatas(head)[0]["parts"])
        texts = [_documents(head)[0]]
        for index in range(1, parts):
            part = self.collection.get(ids=[f"{kind}:{sha256}:{index}"], include=["documents"])
            if not part["ids"]:
                raise FileNotFoundError(f"part {index} of the {kind} {sha256} is missing in the Chroma server")
            texts.append(_documents(part)[0])
        return "".join(texts)

    def write(self, sha256: str, text: str, line_map: LineMap | None = None) -> None:
        """The line map (`lines:<sha256>:<part>`) before the text: a text that exists is complete."""
        if line_map is not None and not self.collection.get(ids=[f"lines:{sha256}:0"], include=[])["ids"]:
            self._write_parts("lines", sha256, line_map.to_json())
        if not self.exists(sha256):
            self._write_parts("text", sha256, text)

    def read(self, sha256: str) -> str:
        text = self._read_parts("text", sha256)
        if text is None:
            raise FileNotFoundError(f"no text for {sha256} in the Chroma server")
        return text

    def read_line_map(self, sha256: str) -> LineMap | None:
        """The text's line map; None when it has none (written before line maps existed)."""
        data = self._read_parts("lines", sha256)
        return None if data is None else LineMap.from_json(data)

    def exists(self, sha256: str) -> bool:
        return bool(self.collection.get(ids=[f"text:{sha256}:0"], include=[])["ids"])

    def stored(self) -> set[str]:
        """Shas with a text or a line map here (a map without its text: a write interrupted in between)."""
        shas: set[str] = set()
        offset = 0
        while True:
            page = self.collection.get(where={"part": 0}, include=["metadatas"], limit=_PAGE, offset=offset)
            shas.update(str(m["sha256"]) for m in page["metadatas"])  # type: ignore[union-attr]
            if len(page["ids"]) < _PAGE:
                return shas
            offset += _PAGE

    def delete(self, shas: set[str]) -> None:
        for sha in shas:
            where: Any = {"$and": [{"kind": {"$in": ["text", "lines"]}}, {"sha256": sha}]}  # Chroma's Where type is narrower
            self.collection.delete(where=where)

    def sweep(self, referenced: set[str]) -> None:
        """Delete every text the manifest does not reference (each text is written by single calls: no temp files)."""
        self.delete(self.stored() - referenced)


def _metadata(row: ManifestRow) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "kind": "doc",
        "source": row.source,
        "sha256": row.sha256,
        "chunk_ids": json.dumps(row.chunk_ids),
        "ingested_at": row.ingested_at.isoformat(),
    }
    if row.path:
        meta["path"] = row.path
    if row.root:
        meta["root"] = row.root
    return meta


def _row(meta: dict) -> ManifestRow:
    return ManifestRow(
        source=str(meta["source"]),
        sha256=str(meta["sha256"]),
        chunk_ids=list(json.loads(meta["chunk_ids"])),
        ingested_at=datetime.fromisoformat(str(meta["ingested_at"])),
        path=meta.get("path"),
        root=meta.get("root"),
    )


class SharedWriteLock:
    """The local write lock plus a lease in the Chroma server, so writers on different machines take turns.

    Chroma has no compare-and-swap, so the lease is claimed optimistically: write `meta:writer` (owner, expiry),
    wait a moment, read it back; whoever reads their own claim holds it. A holder renews it from a background
    thread; a killed holder's lease expires after LEASE_S (wall clock: keep the machines' clocks in sync).
    Best effort — two claims landing within CLAIM_SETTLE_S of each other are the remaining, narrow window.
    """

    LEASE_S = 15.0
    CLAIM_SETTLE_S = 0.5
    POLL_S = 0.5

    def __init__(self, local: FileLock, client: chromadb.ClientAPI, collection: str) -> None:
        self.local = local
        self.collection = client.get_or_create_collection(manifest_collection_name(collection), embedding_function=None)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self.local.acquire(timeout=timeout)
        try:
            while not self._claim():
                if time.monotonic() + self.POLL_S > deadline:
                    raise Timeout(self.local.lock_file)
                time.sleep(self.POLL_S)
        except BaseException:
            self.local.release()
            raise
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="citewise-lease", daemon=True)
        self._renewer.start()

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        try:
            if self._holder() == self.owner:
                self.collection.delete(ids=[_WRITER_ID])
        finally:
            self.local.release()

    def _holder(self) -> str | None:
        found = self.collection.get(ids=[_WRITER_ID], include=["metadatas"])
        if not found["ids"]:
            return None
        meta = _metadatas(found)[0]
        return str(meta["owner"]) if float(meta["expires"]) > time.time() else None

    def _write_claim(self) -> None:
        meta = {"kind": "meta", "owner": self.owner, "expires": time.time() + self.LEASE_S}
        _put(self.collection, [_WRITER_ID], [meta])

    def _claim(self) -> bool:
        if self._holder() not in (None, self.owner):
            return False
        self._write_claim()
        time.sleep(self.CLAIM_SETTLE_S)
        return self._holder() == self.owner

    def _renew(self) -> None:
        while not self._stop.wait(self.LEASE_S / 3):
            self._write_claim()
