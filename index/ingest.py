"""Ingestion orchestration: files → text → chunks → embeddings → Chroma, then the manifest switch.

Crash-safe update protocol (one writer at a time, under a file lock):
  1. sweep, when the previous write did not finish (a write-in-progress mark in the manifest): delete chunks no
     manifest row references; repair rows whose chunks or text are missing;
  2. for each batch of new/changed documents: write texts, write new chunks to Chroma
     ("after_chroma_write"), switch the manifest rows in one transaction ("after_manifest_switch"),
     then delete the replaced chunks;
  3. apply the change to the lexical index (index.lexical: only the added and removed chunks).
Readers only see chunks the manifest references, so a crash at any point leaves the old or the new version
visible, never a mix, and the next run's sweep repairs the rest.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from filelock import FileLock, Timeout

from index.chroma_manifest import ChromaManifest, ChromaTextStore
from index.chunking import chunk_text
from index.config import IndexConfig
from index.embeddings import MiniLMEmbedder
from index.errors import Busy, InvalidInput, UnknownSource
from index.lexical import LexicalIndex
from index.loaders import Candidate, LoadError, discover, extract, read_bytes, sha256_bytes
from index.locations import LineMap
from index.manifest import Manifest, ManifestRow, utc_now
from index.quality import low_information, refuse_reason
from index.records import Chunk, FileResult, IngestReport
from index.store import ChunkStore
from index.texts import TextStore

ProgressCallback = Callable[[str, int, int], None]

FLUSH_CHUNKS = 4096  # chunks embedded and written per batch: sorted by length together, so little padding (512: ratio to embedding-only 1.20 on SciFact)
LOCK_TIMEOUT_S = 600.0


def checkpoint(settings: IndexConfig, step: str) -> None:
    """A named point of the update protocol; crash tests pause here (settings.debug_pause_at) and kill -9."""
    if settings.debug_pause_at == step:
        print(f"citewise: paused at {step}", file=sys.stderr, flush=True)
        time.sleep(3600)


@dataclass
class _Prepared:
    candidate: Candidate
    sha256: str
    text: str
    line_map: LineMap
    chunks: list[Chunk]
    outcome: str  # "added" | "updated"
    note: str | None = None  # what was left out (low-information or repeated chunks)


class Ingester:
    """The single writer of the index (store + manifest + texts + lexical index)."""

    def __init__(
        self,
        settings: IndexConfig,
        store: ChunkStore,
        manifest: Manifest | ChromaManifest,
        texts: TextStore | ChromaTextStore,
        embedder: MiniLMEmbedder,
        lexical: LexicalIndex,
    ) -> None:
        self.settings = settings
        self.lexical = lexical
        self._written: dict[str, str] = {}  # texts of chunks written since the last lexical sync
        self._interrupted = True  # set per write from the manifest's write-in-progress mark
        self._counted = False  # whether this process compared the store's and the manifest's chunk counts
        self.store = store
        self.manifest = manifest
        self.texts = texts
        self.embedder = embedder
        self.lock = FileLock(str(settings.home / "write.lock"))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the write lock for a `with` block (acquired once, released once: it must not outlive the block)."""
        try:
            self.lock.acquire(timeout=LOCK_TIMEOUT_S)
        except Timeout as e:
            raise Busy("another ingest or removal is still running on this index; try again later") from e
        try:
            yield
        finally:
            self.lock.release()

    # --- public operations -------------------------------------------------------------------------
    def ingest_paths(self, paths: Sequence[Path], prune: bool, progress: ProgressCallback | None) -> IngestReport:
        found = discover(list(paths))
        report = IngestReport()
        for missing in found.missing:
            report.files.append(FileResult(source=missing, outcome="failed", reason="no such file or folder"))
            report.failed_paths.append(missing)
        for source, reason in found.skipped:
            report.files.append(FileResult(source=source, outcome="skipped", reason=reason))
        with self._locked(), self._writing():
            self._run(found.candidates, report, progress)
            if prune:
                self._prune(found.folders, {c.path for c in found.candidates}, report)
            self._refresh_bm25()
        self._mark_failed_paths(paths, found.candidates, report)
        return report

    def ingest_named(self, items: Sequence[tuple[str, Path]], progress: ProgressCallback | None) -> IngestReport:
        report = IngestReport()
        candidates = [Candidate(source=source_name(None, s), path=Path(p), root="") for s, p in items]
        with self._locked(), self._writing():
            self._run(candidates, report, progress)
            self._refresh_bm25()
        return report

    def remove(self, sources: Sequence[str]) -> list[str]:
        with self._locked():
            rows = {s: row for s in dict.fromkeys(sources) if (row := self.manifest.get(s)) is not None}
            unknown = [s for s in sources if s not in rows]
            if unknown:
                raise UnknownSource(f"not an ingested document: {', '.join(unknown)} (see `citewise docs list`)")
            with self._writing():
                if self._interrupted:  # repair what a killed write left first (it may re-ingest these rows)
                    self._run([], IngestReport(), None)
                    rows = {s: row for s in rows if (row := self.manifest.get(s)) is not None}
                doomed = list(rows.values())
                self.manifest.delete(r.source for r in doomed)
                self._removed.update(cid for r in doomed for cid in r.chunk_ids)
                checkpoint(self.settings, "after_remove_manifest")
                self.store.delete([cid for r in doomed for cid in r.chunk_ids])
                self._delete_texts_of(doomed)
                self._refresh_bm25()
        return [r.source for r in doomed]

    def repair(self) -> None:
        """Sweep orphans and rebuild derived data; what every ingest run does first."""
        with self._locked(), self._writing():
            self._interrupted = True  # an explicit repair always sweeps the whole index
            self._run([], IngestReport(), None)
            self._refresh_bm25()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Mark a write in progress in the manifest for its duration. A mark left by a killed write tells the
        next one to sweep the whole index (orphan chunks, broken rows); after clean writes nothing scans it."""
        # A killed write (its mark), or — checked on this process's first write only, since Chroma counts its rows
        # in O(chunks) — chunks gone or added behind the manifest's back (a store restored from a backup).
        # Comparing counts is cheaper than listing every id; `citewise repair` sweeps whatever the time.
        self._interrupted = self.manifest.writing() or (
            not self._counted and self.store.count() != self.manifest.chunk_count()
        )
        self._counted = True
        generation = self.manifest.generation()
        # The lexical index follows this write by its own delta when it reflects the manifest now.
        self._lexical_base = generation if not self._interrupted and self.lexical.generation() == generation else None
        self._removed: set[str] = set()
        self.manifest.set_writing(True)
        yield
        self.manifest.set_writing(False)
        self._interrupted = False

    # --- the protocol ------------------------------------------------------------------------------
    def _run(self, candidates: list[Candidate], report: IngestReport, progress: ProgressCallback | None) -> None:
        candidates = _dedupe(candidates, report)
        if self._interrupted:  # the last write did not finish: find its orphans and broken rows
            candidates = self._sweep(candidates)
        rows = _Rows(self.manifest, prefetch=len(candidates) > _PREFETCH_ROWS)
        pending: list[_Prepared] = []
        pending_chunks = 0
        total = len(candidates)
        for done, candidate in enumerate(candidates):
            if progress:
                progress("ingesting", done, total)
            prepared = self._prepare(candidate, rows.get(candidate.source), report)
            if prepared is None:
                continue
            pending.append(prepared)
            pending_chunks += len(prepared.chunks)
            if pending_chunks >= FLUSH_CHUNKS:
                self._commit(pending, rows, report)
                pending, pending_chunks = [], 0
        self._commit(pending, rows, report)
        if progress:
            progress("ingesting", total, total)

    def _prepare(self, candidate: Candidate, row: ManifestRow | None, report: IngestReport) -> _Prepared | None:
        """Read, hash, and (only when new or changed) extract and chunk one file."""
        try:
            data = read_bytes(candidate.path, self.settings.max_file_mb)
            sha = sha256_bytes(data)
            if row is not None and row.sha256 == sha:
                if candidate.root and (row.path, row.root) != (str(candidate.path), candidate.root):
                    self.manifest.set_location(candidate.source, str(candidate.path), candidate.root)
                report.files.append(FileResult(source=candidate.source, outcome="unchanged", chunks=len(row.chunk_ids)))
                return None
            extracted = extract(Path(candidate.source), data)
        except LoadError as e:
            report.files.append(FileResult(source=candidate.source, outcome="failed", reason=str(e)))
            return None
        text = extracted.text
        refused = refuse_reason(text)
        if refused is not None:
            report.files.append(FileResult(source=candidate.source, outcome="failed", reason=refused))
            return None
        chunks = chunk_text(candidate.source, text, sha, self.settings.chunk_size, self.settings.chunk_overlap)
        chunks, note = informative_chunks(chunks)
        if not chunks:
            report.files.append(FileResult(source=candidate.source, outcome="failed", reason=f"{note}: nothing left to index"))
            return None
        return _Prepared(candidate, sha, text, extracted.line_map, chunks, "updated" if row is not None else "added", note)

    def _commit(self, pending: list[_Prepared], rows: _Rows, report: IngestReport) -> None:
        """Write a batch of documents: texts and chunks first, then the manifest switch, then cleanup."""
        if not pending:
            return
        for p in pending:
            self.texts.write(p.sha256, p.text, p.line_map)
        checkpoint(self.settings, "after_text_write")
        chunks = [c for p in pending for c in p.chunks]
        embeddings = encode_distinct(self.embedder, [c.text for c in chunks])
        self.store.upsert(chunks, embeddings)
        self._written.update((c.id, c.text) for c in chunks)
        checkpoint(self.settings, "after_chroma_write")
        now = utc_now()
        new_rows = [
            ManifestRow(
                source=p.candidate.source,
                sha256=p.sha256,
                chunk_ids=[c.id for c in p.chunks],
                ingested_at=now,
                path=str(p.candidate.path) if p.candidate.root else None,
                root=p.candidate.root or None,
            )
            for p in pending
        ]
        self.manifest.replace(new_rows)
        checkpoint(self.settings, "after_manifest_switch")
        new_ids = {c.id for c in chunks}
        old_rows = [old for p in pending if (old := rows.get(p.candidate.source)) is not None]
        replaced = [cid for old in old_rows for cid in old.chunk_ids if cid not in new_ids]
        self._removed.update(replaced)
        self.store.delete(replaced)
        checkpoint(self.settings, "after_old_chunks_delete")
        for row in new_rows:
            rows[row.source] = row
        if old_rows:  # texts are shared by content: drop only those no document references any more
            self._delete_texts_of(old_rows)
        for p in pending:
            report.files.append(FileResult(source=p.candidate.source, outcome=p.outcome, chunks=len(p.chunks), reason=p.note))

    def _sweep(self, candidates: list[Candidate]) -> list[Candidate]:
        """Delete unreferenced chunks; rows whose chunks or text are missing are re-ingested (or dropped)."""
        self._lexical_base = None  # rows may be dropped here: the lexical index then syncs by comparing ids
        rows = self.manifest.rows()
        referenced = {cid for r in rows for cid in r.chunk_ids}
        present = self.store.all_ids()
        orphans = present - referenced
        if orphans:
            self.store.delete(sorted(orphans))
        broken = [r for r in rows if not set(r.chunk_ids) <= present or not self.texts.exists(r.sha256)]
        if broken:
            queued = {c.source for c in candidates}
            repairable = [r for r in broken if r.path and Path(r.path).is_file()]
            # Forget the broken rows (their remaining chunks go too); re-ingest those whose file is still there.
            self.manifest.delete(r.source for r in broken)
            self.store.delete([cid for r in broken for cid in r.chunk_ids if cid in present])
            candidates = candidates + [
                Candidate(source=r.source, path=Path(r.path), root=r.root or "")  # type: ignore[arg-type]
                for r in repairable
                if r.source not in queued
            ]
        self._delete_unreferenced_texts()
        self.manifest.recount()
        return candidates

    def _prune(self, folders: list[Path], seen: set[Path], report: IngestReport) -> None:
        """Remove documents found under the given folders whose files no longer exist."""
        roots = {str(f) for f in folders}
        gone = [
            r for r in self.manifest.rows()
            if r.root in roots and r.path and Path(r.path) not in seen and not Path(r.path).is_file()
        ]  # fmt: skip
        if not gone:
            return
        self.manifest.delete(r.source for r in gone)
        self._removed.update(cid for r in gone for cid in r.chunk_ids)
        self.store.delete([cid for r in gone for cid in r.chunk_ids])
        self._delete_texts_of(gone)
        for r in gone:
            report.files.append(FileResult(source=r.source, outcome="removed", reason="file is gone", chunks=len(r.chunk_ids)))

    def _delete_texts_of(self, rows: Iterable[ManifestRow]) -> None:
        """Delete the texts of these (removed or replaced) rows that no other document shares."""
        shas = {r.sha256 for r in rows}
        self.texts.delete(shas - self.manifest.in_use(shas))

    def _delete_unreferenced_texts(self) -> None:
        self.texts.sweep({r.sha256 for r in self.manifest.rows()})

    def _refresh_bm25(self) -> None:
        """Apply the manifest's change to the lexical index (the chunks written here are in hand)."""
        if self.settings.bm25_path.exists():  # the bm25s index of earlier versions
            shutil.rmtree(self.settings.bm25_path, ignore_errors=True)
        written, self._written = self._written, {}
        base, self._lexical_base = getattr(self, "_lexical_base", None), None
        if base is not None:  # only this write changed the manifest since the index reflected it
            generation = self.manifest.generation()
            if generation == base or self.lexical.apply(base, written, self._removed, generation):
                return

        def fetch(ids: Sequence[str]) -> dict[str, str]:
            missing = [cid for cid in ids if cid not in written]
            found = {cid: written[cid] for cid in ids if cid in written}
            found.update((cid, c.text) for cid, c in self.store.get(missing).items())
            return found

        self.lexical.sync(self.manifest.snapshot, self.manifest.generation, fetch)

    @staticmethod
    def _mark_failed_paths(paths: Sequence[Path], candidates: list[Candidate], report: IngestReport) -> None:
        """A command-line path failed entirely when nothing under it is (now) in the index."""
        ok_outcomes = {"added", "updated", "unchanged"}
        ok_sources = {f.source for f in report.files if f.outcome in ok_outcomes}
        for given in paths:
            if str(given) in report.failed_paths or not Path(given).expanduser().exists():
                continue
            root = str(Path(given).expanduser().resolve())
            under = [c for c in candidates if c.root == root]
            if not any(c.source in ok_sources for c in under):
                report.failed_paths.append(str(given))
                if not under:
                    report.files.append(FileResult(source=str(given), outcome="failed", reason="no supported documents"))


_PREFETCH_ROWS = 50  # beyond this many files, read all manifest rows at once instead of one by one


class _Rows:
    """Manifest rows by source, read one by one for a few files or all at once for many (a folder ingest)."""

    def __init__(self, manifest: Manifest | ChromaManifest, prefetch: bool) -> None:
        self.manifest = manifest
        self.rows: dict[str, ManifestRow | None] = {r.source: r for r in manifest.rows()} if prefetch else {}
        self.complete = prefetch

    def get(self, source: str) -> ManifestRow | None:
        if source not in self.rows and not self.complete:
            self.rows[source] = self.manifest.get(source)
        return self.rows.get(source)

    def __setitem__(self, source: str, row: ManifestRow) -> None:
        self.rows[source] = row


def text_key(text: str) -> str:
    """Chunks whose texts differ only in case and whitespace count as the same text."""
    return " ".join(text.lower().split())


def informative_chunks(chunks: list[Chunk]) -> tuple[list[Chunk], str | None]:
    """A document's chunks without low-information ones and without repeats of an earlier chunk's text
    (the first occurrence is kept and cited); the note says what was left out."""
    kept: list[Chunk] = []
    seen: set[str] = set()
    low, repeated = 0, 0
    for chunk in chunks:
        key = text_key(chunk.text)
        if key in seen:
            repeated += 1
        elif low_information(chunk.text):
            low += 1
        else:
            seen.add(key)
            kept.append(chunk)
    parts = [f"{low} low-information" if low else "", f"{repeated} repeated" if repeated else ""]
    note = " and ".join(p for p in parts if p)
    return kept, (f"{note} chunks left out" if note else None)


def encode_distinct(embedder: MiniLMEmbedder, texts: list[str]) -> np.ndarray:
    """Embeddings of `texts`, each distinct text embedded once (the same text in two documents shares it)."""
    distinct = list(dict.fromkeys(texts))
    if len(distinct) == len(texts):
        return embedder.encode(texts)
    vectors = embedder.encode(distinct)
    position = {text: i for i, text in enumerate(distinct)}
    return vectors[[position[t] for t in texts]]


def _dedupe(candidates: list[Candidate], report: IngestReport) -> list[Candidate]:
    """One candidate per source name: the first one given wins, later ones are reported as skipped."""
    first: dict[str, Candidate] = {}
    for c in candidates:
        if c.source not in first:
            first[c.source] = c
        elif first[c.source].path != c.path:
            reason = f"same source name as {first[c.source].path}, which was ingested instead"
            report.files.append(FileResult(source=c.source, outcome="skipped", reason=reason))
    return list(first.values())


def source_name(prefix: str | None, filename: str | None) -> str:
    """The source name of an uploaded file: `prefix/filename`, relative, without traversal (else InvalidInput)."""
    if not filename:
        raise InvalidInput("an uploaded file has no file name")
    parts: list[str] = []
    for label, value in (("path", prefix or ""), ("file name", filename)):
        text = value.replace("\\", "/")
        if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
            raise InvalidInput(f"{label} {value!r} is absolute; give a relative name")
        for part in PurePosixPath(text).parts if text else ():
            if part in ("..", ".") or any(ord(c) < 32 for c in part) or len(part) > 255:
                raise InvalidInput(f"{label} {value!r} is not a safe relative name")
            parts.append(part)
    source = "/".join(parts)
    if not source or len(source) > 1024:
        raise InvalidInput(f"file name {filename!r} is not usable")
    return source
