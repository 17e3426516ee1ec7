"""Replicas follow a shared Chroma server by the manifest's change journal: after another replica adds, changes
or removes a document, a replica's next search reads the changed chunk ids and the added texts only — never every
manifest row — and finds the new version. The chunk count kept beside the version stays the rows' sum, and a
repair after a killed delete sends every replica to one full re-read instead of a journal that missed it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import index.corpus
from index.chroma_manifest import ChromaManifest, _doc_id, _metadata, _put
from index.corpus import Corpus
from service.config import Settings
from service.pipeline.retrieval import retrieve
from tests.hardening.processes import NEWS_DIR, Process, running, start_chroma

pytestmark = pytest.mark.slow

FERRY = "The night ferry to Skerrin leaves at 23:40 from pier four.\n"
CANCELLED = "The night ferry to Skerrin was cancelled for the winter.\n"
QUERY = "night ferry Skerrin"


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    workdir = tmp_path_factory.mktemp("chroma-journal")
    with running(start_chroma(workdir / "chroma-data", workdir)) as process:
        yield process


@pytest.fixture
def replicas(chroma: Process, tmp_path: Path) -> Iterator[tuple[Corpus, Corpus]]:
    a = Corpus(Settings(home=tmp_path / "a", chroma_url=chroma.url, collection=f"journal-{tmp_path.name[-12:]}"))
    b = Corpus(Settings(home=tmp_path / "b", chroma_url=chroma.url, collection=f"journal-{tmp_path.name[-12:]}"))
    yield a, b
    a.close()
    b.close()


def _no_full_reads(monkeypatch: pytest.MonkeyPatch, corpus: Corpus) -> None:
    def refused() -> None:
        raise AssertionError("the replica re-read every manifest row")

    for name in ("snapshot", "referenced_ids", "rows"):
        monkeypatch.setattr(corpus.manifest, name, refused)


def _news_folder(tmp_path: Path, **extra: str) -> Path:
    docs = tmp_path / "docs"
    shutil.copytree(NEWS_DIR, docs)
    for name, text in extra.items():
        (docs / name).write_text(text, encoding="utf-8")
    return docs


def _sum_of_rows(manifest: ChromaManifest) -> int:
    return sum(len(row.chunk_ids) for row in manifest.rows())


def test_a_replica_follows_add_change_and_delete_by_the_journal(
    replicas: tuple[Corpus, Corpus], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = replicas
    docs = _news_folder(tmp_path)
    a.ingest([docs])
    first = b.search_view()  # the first view reads every row
    assert first.valid_ids == a.manifest.referenced_ids()
    assert isinstance(a.manifest, ChromaManifest)
    news_chunks = a.manifest.chunk_count()
    assert news_chunks == _sum_of_rows(a.manifest) == a.store.count()

    _no_full_reads(monkeypatch, b)
    (docs / "ferry.txt").write_text(FERRY, encoding="utf-8")
    assert a.ingest([docs]).count("added") == 1
    hits = retrieve(b, QUERY, 1, "bm25")
    assert [(h.source, h.text.strip()) for h in hits] == [("ferry.txt", FERRY.strip())]
    assert b.search_view().valid_ids == a.manifest.referenced_ids()
    assert a.manifest.chunk_count() == _sum_of_rows(a.manifest) == news_chunks + 1
    # A replica that never read that version finds its place in the journal by a query, to the same change.
    fresh = ChromaManifest(a.store.client, a.settings.collection)
    change = fresh.changes_since(first.generation)
    assert change is not None and change == b.manifest.changes_since(first.generation)
    assert len(change.added) == 1 and not change.removed

    (docs / "ferry.txt").write_text(CANCELLED, encoding="utf-8")
    assert a.ingest([docs]).count("updated") == 1
    hits = retrieve(b, QUERY, 5, "hybrid")
    assert [h.text.strip() for h in hits if h.source == "ferry.txt"] == [CANCELLED.strip()]  # the old chunk is gone
    assert b.search_view().valid_ids == a.manifest.referenced_ids()

    a.remove(["ferry.txt"])
    assert all(h.source != "ferry.txt" for h in retrieve(b, QUERY, 5, "hybrid"))
    assert b.search_view().valid_ids == a.manifest.referenced_ids()
    assert a.manifest.chunk_count() == _sum_of_rows(a.manifest) == news_chunks


def test_a_repair_after_a_killed_delete_recounts_and_replicas_reread_once(
    replicas: tuple[Corpus, Corpus], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = replicas
    docs = _news_folder(tmp_path, **{"ferry.txt": FERRY})
    a.ingest([docs])
    assert any(h.source == "ferry.txt" for h in retrieve(b, QUERY, 3, "bm25"))
    assert isinstance(a.manifest, ChromaManifest)
    before = a.manifest.generation()

    # A delete killed after removing the row, before writing its version: the count beside the version is stale.
    a.manifest.set_writing(True)
    a.manifest.collection.delete(ids=["doc:ferry.txt"])
    assert a.manifest.chunk_count() == _sum_of_rows(a.manifest) + 1
    assert a.manifest.generation() == before  # readers cannot have noticed

    (docs / "ferry.txt").unlink()
    a.ingest([docs])  # the next write sweeps: the orphan chunk goes, the count is corrected, the version moves
    assert a.manifest.generation() != before
    assert a.manifest.chunk_count() == _sum_of_rows(a.manifest) == a.store.count()
    assert a.manifest.changes_since(before) is None  # the repair journaled nothing: replicas re-read the rows
    rereads: list[int] = []
    snapshot = b.manifest.snapshot
    monkeypatch.setattr(b.manifest, "snapshot", lambda: rereads.append(1) or snapshot())
    assert all(h.source != "ferry.txt" for h in retrieve(b, QUERY, 5, "hybrid"))
    assert b.search_view().valid_ids == a.manifest.referenced_ids()
    assert rereads == [1]


def test_a_replica_still_compares_every_id_now_and_then(
    replicas: tuple[Corpus, Corpus], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease is best effort: a change two racing writers' journal entries lost reaches the views by the
    periodic full comparison (here: a row written behind the journal's back, then RECONCILE_S elapsed)."""
    a, b = replicas
    docs = _news_folder(tmp_path)
    a.ingest([docs])
    b.search_view()
    assert isinstance(a.manifest, ChromaManifest)
    (docs / "ferry.txt").write_text(FERRY, encoding="utf-8")
    a.ingest([docs])
    row = a.manifest.get("ferry.txt")
    assert row is not None
    chunks = list(a.get_chunks(row.chunk_ids).values())
    a.remove(["ferry.txt"])
    a.store.upsert(chunks, a.embedder.encode([c.text for c in chunks]))
    _put(a.manifest.collection, [_doc_id("ferry.txt")], [_metadata(row)])
    (docs / "ferry.txt").unlink()
    (docs / "bell.txt").write_text("The harbour bell was recast in 1954.\n", encoding="utf-8")
    a.ingest([docs])  # a journaled change that does not mention the ferry's chunks
    assert all(h.source != "ferry.txt" for h in retrieve(b, QUERY, 3, "bm25"))  # B follows the journal: not there
    monkeypatch.setattr(index.corpus, "RECONCILE_S", 0.0)
    (docs / "bell.txt").write_text("The harbour bell was recast in 1955.\n", encoding="utf-8")
    a.ingest([docs])
    assert [h.source for h in retrieve(b, QUERY, 1, "bm25")] == ["ferry.txt"]  # the comparison finds the row
