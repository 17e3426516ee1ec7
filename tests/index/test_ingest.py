"""Ingestion with the real Chroma store and the real embedding model: spans, idempotence, updates, prune, rm,
bad inputs, crash repair."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import index.ingest
from index.corpus import Corpus
from index.embeddings import MiniLMEmbedder
from service.config import Settings
from service.errors import UnknownSource
from service.pipeline.retrieval import retrieve
from tests.index.conftest import write_encrypted_pdf, write_pdf

MIXED_SOURCES = ["guide.md", "notes.txt", "page.html", "reports/annual.pdf", "reports/minutes.docx"]


@pytest.fixture
def corpus(settings: Settings) -> Iterator[Corpus]:
    corpus = Corpus.open(settings)
    yield corpus
    corpus.close()


@pytest.fixture
def embed_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Number of texts per embedding call made through the embedder (all instances)."""
    calls: list[int] = []
    original = MiniLMEmbedder.encode

    def counting(self: MiniLMEmbedder, texts: list[str]):  # noqa: ANN202
        calls.append(len(texts))
        return original(self, texts)

    monkeypatch.setattr(MiniLMEmbedder, "encode", counting)
    return calls


def assert_chunks_match_text(corpus: Corpus, source: str) -> None:
    text = corpus.text(source)
    lines = text.split("\n")
    chunks = corpus.chunks_for(source)
    assert chunks, source
    for chunk in chunks:
        assert chunk.source == source
        assert text[chunk.start_char : chunk.end_char] == chunk.text
        assert chunk.text in "\n".join(lines[chunk.start_line - 1 : chunk.end_line])


def store_is_consistent(corpus: Corpus) -> bool:
    """Chroma holds exactly the chunks the manifest references."""
    return corpus.store.all_ids() == corpus.manifest.referenced_ids()


def test_mixed_formats_ingest_with_right_sources_and_spans(corpus: Corpus, mixed_corpus: Path) -> None:
    report = corpus.ingest([mixed_corpus])
    assert sorted(f.source for f in report.files if f.outcome == "added") == MIXED_SOURCES
    skipped = {f.source: f.reason for f in report.files if f.outcome == "skipped"}
    assert skipped == {".secret.txt": "hidden file", "image.png": "unsupported file type '.png'"}
    assert report.failed_paths == [] and report.count("failed") == 0
    assert [d.source for d in corpus.list_documents()] == MIXED_SOURCES
    for source in MIXED_SOURCES:
        assert_chunks_match_text(corpus, source)
    assert "The last ferry returns at 21:40 in summer." in corpus.text("page.html").split("\n")
    assert "The board approved a budget of 310,000 euros." in corpus.text("reports/minutes.docx")
    assert "Visitors in 2023: 48,200." in corpus.text("reports/annual.pdf")
    notes = corpus.chunks_for("notes.txt")
    assert notes[0].start_line == 1 and notes[-1].end_line == 6
    assert store_is_consistent(corpus)


def test_news_corpus_chunks_are_found_at_their_lines(news_corpus: Corpus, news_dir: Path) -> None:
    sources = [d.source for d in news_corpus.list_documents()]
    assert sources == ["000_1ca178c960a0782e.txt", "001_846b2a5c2ae0efae.txt"]
    for source in sources:
        original = (news_dir / source).read_text(encoding="utf-8")
        assert news_corpus.text(source) == original.strip("\n")
        assert_chunks_match_text(news_corpus, source)
    chunks = news_corpus.chunks_for("000_1ca178c960a0782e.txt")
    treaty = [c for c in chunks if "Ottawa Treaty" in c.text]
    assert treaty and all(c.start_line <= 5 <= c.end_line for c in treaty)


def test_file_given_directly_is_named_by_its_file_name(corpus: Corpus, mixed_corpus: Path) -> None:
    report = corpus.ingest([mixed_corpus / "reports" / "annual.pdf"])
    assert [(f.source, f.outcome) for f in report.files] == [("annual.pdf", "added")]


def test_reingesting_unchanged_files_adds_and_embeds_nothing(
    corpus: Corpus, mixed_corpus: Path, embed_calls: list[int]
) -> None:
    corpus.ingest([mixed_corpus])
    assert embed_calls, "the first ingest embeds"
    generation, ids = corpus.manifest.generation(), corpus.manifest.referenced_ids()
    embed_calls.clear()
    report = corpus.ingest([mixed_corpus])
    assert embed_calls == []
    assert report.count("unchanged") == 5 and report.count("added") == report.count("updated") == 0
    assert corpus.manifest.generation() == generation and corpus.manifest.referenced_ids() == ids


def test_changed_file_has_all_old_chunks_replaced(corpus: Corpus, mixed_corpus: Path, embed_calls: list[int]) -> None:
    corpus.ingest([mixed_corpus])
    old_ids = set(corpus.manifest.get("notes.txt").chunk_ids)  # type: ignore[union-attr]
    (mixed_corpus / "notes.txt").write_text("Harbor Notes\n\nThe lighthouse was rebuilt in 1999.\n", encoding="utf-8")
    embed_calls.clear()
    report = corpus.ingest([mixed_corpus])
    assert [(f.source, f.outcome) for f in report.files if f.outcome not in ("unchanged", "skipped")] == [("notes.txt", "updated")]
    assert sum(embed_calls) == len(corpus.chunks_for("notes.txt"))  # only the changed file was embedded
    new_ids = set(corpus.manifest.get("notes.txt").chunk_ids)  # type: ignore[union-attr]
    assert not old_ids & new_ids
    assert not set(corpus.store.get(sorted(old_ids)))
    assert "rebuilt in 1999" in corpus.text("notes.txt") and "1887" not in corpus.text("notes.txt")
    hits = retrieve(corpus, "When was the lighthouse built?", 5)
    assert all("1887" not in h.text for h in hits)
    assert store_is_consistent(corpus)


def test_prune_removes_only_gone_files_under_the_given_folders(
    corpus: Corpus, mixed_corpus: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("A separate folder that is not pruned.", encoding="utf-8")
    corpus.ingest([mixed_corpus])
    corpus.ingest([other])
    (mixed_corpus / "guide.md").unlink()
    shutil.rmtree(mixed_corpus / "reports")

    report = corpus.ingest([mixed_corpus])  # without --prune nothing is removed
    assert report.count("removed") == 0 and len(corpus.list_documents()) == 6

    report = corpus.ingest([mixed_corpus], prune=True)
    removed = sorted(f.source for f in report.files if f.outcome == "removed")
    assert removed == ["guide.md", "reports/annual.pdf", "reports/minutes.docx"]
    assert [d.source for d in corpus.list_documents()] == ["keep.txt", "notes.txt", "page.html"]
    assert store_is_consistent(corpus)


def test_rm_removes_document_and_chunks(corpus: Corpus, mixed_corpus: Path) -> None:
    corpus.ingest([mixed_corpus])
    ids = corpus.manifest.get("page.html").chunk_ids  # type: ignore[union-attr]
    assert corpus.remove(["page.html"]) == ["page.html"]
    assert "page.html" not in [d.source for d in corpus.list_documents()]
    assert not set(corpus.store.get(ids))
    assert all(h.source != "page.html" for h in retrieve(corpus, "ferry schedule Port Amsel", 10))
    with pytest.raises(UnknownSource, match="not an ingested document: nope.txt"):
        corpus.remove(["notes.txt", "nope.txt"])
    assert "notes.txt" in [d.source for d in corpus.list_documents()]  # nothing removed on error
    with pytest.raises(UnknownSource):
        corpus.text("page.html")
    assert store_is_consistent(corpus)


def test_a_text_two_documents_share_survives_removing_one(corpus: Corpus, tmp_path: Path) -> None:
    """Texts are stored by content: removing or changing one of two identical files keeps the other's text."""
    body = "The harbour bell was recast in 1954.\nIt rings at noon."
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(body)
    corpus.ingest([tmp_path])
    corpus.remove(["a.txt"])
    assert corpus.text("b.txt") == body
    (tmp_path / "b.txt").write_text("The harbour bell was recast in 1955.\n")
    (tmp_path / "a.txt").write_text(body)
    corpus.ingest([tmp_path])  # a.txt back with the old text, b.txt moved on
    assert corpus.text("a.txt") == body
    assert corpus.text("b.txt").startswith("The harbour bell was recast in 1955.")
    sha = corpus.manifest.get("b.txt").sha256  # type: ignore[union-attr]
    corpus.remove(["b.txt"])
    assert not corpus.texts.exists(sha)  # no document uses it any more
    assert corpus.text("a.txt") == body


def test_temp_files_a_killed_write_left_are_swept_by_the_next_write(corpus: Corpus, tmp_path: Path) -> None:
    """Only a write after an interrupted one scans the texts folder; it removes the killed write's temp files."""
    (tmp_path / "a.txt").write_text("The harbour bell was recast in 1954.")
    corpus.ingest([tmp_path])
    leftover = corpus.texts.folder / ".tmp-killed.txt"  # what a write killed inside _write_atomic leaves
    leftover.write_text("half a text")
    corpus.remove(["a.txt"])
    assert leftover.exists()  # a clean write does not scan the folder
    corpus.manifest.set_writing(True)  # the mark a killed write leaves: the next write sweeps
    corpus.ingest([tmp_path])
    assert not leftover.exists()


def test_bad_inputs_get_reasons_and_the_rest_still_ingests(corpus: Corpus, mixed_corpus: Path, tmp_path: Path) -> None:
    corpus.ingest([mixed_corpus])
    before = {d.source: d.sha256 for d in corpus.list_documents()}
    # Now break things: a good file turns to junk, and bad files appear next to good ones.
    (mixed_corpus / "notes.txt").write_bytes(b"\x00\x01\x02binary junk" * 100)
    (mixed_corpus / "empty.txt").write_bytes(b"")
    (mixed_corpus / "latin1.txt").write_bytes("Entr\u00e9e gratuite le dimanche.".encode("cp1252"))
    (mixed_corpus / "broken.pdf").write_bytes(b"%PDF-1.7\nnot really\n%%EOF")
    write_pdf(tmp_path / "plain.pdf", ["secret"])
    write_encrypted_pdf(mixed_corpus / "locked.pdf", tmp_path / "plain.pdf")
    (mixed_corpus / "broken.docx").write_bytes(b"PK\x03\x04garbage")
    with (mixed_corpus / "huge.txt").open("wb") as f:
        f.truncate(200 * 1024 * 1024)

    report = corpus.ingest([mixed_corpus, tmp_path / "missing-folder"])
    failed = {f.source: f.reason for f in report.files if f.outcome == "failed"}
    assert set(failed) == {
        "notes.txt", "empty.txt", "broken.pdf", "locked.pdf", "broken.docx", "huge.txt", str(tmp_path / "missing-folder"),
    }  # fmt: skip
    assert "binary content" in failed["notes.txt"]
    assert failed["empty.txt"] == "empty file"
    assert failed["broken.pdf"].startswith("corrupt PDF")
    assert failed["locked.pdf"].startswith("encrypted PDF")
    assert failed["broken.docx"].startswith("corrupt .docx")
    assert failed["huge.txt"].startswith("file too large")
    assert failed[str(tmp_path / "missing-folder")] == "no such file or folder"
    assert all("\n" not in reason for reason in failed.values())
    assert report.failed_paths == [str(tmp_path / "missing-folder")]  # the folder itself partly worked
    assert [f.source for f in report.files if f.outcome == "added"] == ["latin1.txt"]
    assert corpus.text("latin1.txt") == "Entr\u00e9e gratuite le dimanche."
    # Nothing already indexed is lost: the broken notes.txt keeps its previous version.
    after = {d.source: d.sha256 for d in corpus.list_documents()}
    assert {s: after[s] for s in before} == before
    assert "1887" in corpus.text("notes.txt")
    assert store_is_consistent(corpus)


def test_a_file_given_directly_that_fails_fails_the_run(corpus: Corpus, tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "only.png").write_bytes(b"\x89PNG")
    (tmp_path / "nothing").mkdir()
    report = corpus.ingest([tmp_path / "empty.md", tmp_path / "only.png", tmp_path / "nothing"])
    assert report.failed_paths == [str(tmp_path / "empty.md"), str(tmp_path / "only.png"), str(tmp_path / "nothing")]


class Crash(Exception):
    pass


def _crash_at(monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    def checkpoint(settings: Settings, name: str) -> None:
        if name == step:
            raise Crash(name)

    monkeypatch.setattr(index.ingest, "checkpoint", checkpoint)


def test_crash_between_chroma_write_and_manifest_switch_is_repaired(
    settings: Settings, mixed_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = Corpus.open(settings)
    corpus.ingest([mixed_corpus])
    old = corpus.manifest.get("notes.txt")
    (mixed_corpus / "notes.txt").write_text("The lighthouse at Cape Verity was demolished in 2020.\n", encoding="utf-8")
    _crash_at(monkeypatch, "after_chroma_write")
    with pytest.raises(Crash):
        corpus.ingest([mixed_corpus])
    # The new chunks are in Chroma, but nobody references them: readers still see exactly the old version.
    assert corpus.manifest.get("notes.txt") == old
    orphans = corpus.store.all_ids() - corpus.manifest.referenced_ids()
    assert orphans
    hits = retrieve(corpus, "lighthouse demolished 2020", 20)
    assert hits and not {h.chunk_id for h in hits} & orphans
    assert all("demolished" not in h.text for h in hits)
    assert "1887" in corpus.text("notes.txt")
    corpus.close()

    monkeypatch.undo()
    restarted = Corpus.open(settings)  # as after a restart
    report = restarted.ingest([mixed_corpus])
    assert [(f.source, f.outcome) for f in report.files if f.outcome not in ("unchanged", "skipped")] == [("notes.txt", "updated")]
    assert store_is_consistent(restarted)
    assert "demolished" in restarted.text("notes.txt")
    assert any("demolished" in h.text for h in retrieve(restarted, "lighthouse demolished 2020", 3))
    restarted.close()


def test_crash_after_manifest_switch_leaves_new_version_and_sweep_removes_old_chunks(
    corpus: Corpus, mixed_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus.ingest([mixed_corpus])
    old_ids = set(corpus.manifest.get("guide.md").chunk_ids)  # type: ignore[union-attr]
    (mixed_corpus / "guide.md").write_text("# Visitor guide\n\nThe museum is closed for renovation.\n", encoding="utf-8")
    _crash_at(monkeypatch, "after_manifest_switch")
    with pytest.raises(Crash):
        corpus.ingest([mixed_corpus])
    assert "renovation" in corpus.text("guide.md")
    assert set(corpus.store.get(sorted(old_ids))) == old_ids  # not yet cleaned up …
    hits = retrieve(corpus, "museum opening hours tickets", 20)
    assert not {h.chunk_id for h in hits} & old_ids  # … but invisible
    monkeypatch.undo()
    report = corpus.ingest([mixed_corpus])
    assert report.count("unchanged") == 5
    assert not set(corpus.store.get(sorted(old_ids)))
    assert store_is_consistent(corpus)


def test_document_whose_chunks_vanished_is_reingested(corpus: Corpus, settings: Settings, mixed_corpus: Path) -> None:
    corpus.ingest([mixed_corpus])
    ids = corpus.manifest.get("page.html").chunk_ids  # type: ignore[union-attr]
    corpus.store.delete(ids[:1])  # e.g. a store restored from an older backup while the service was down
    restarted = Corpus.open(settings)
    try:
        report = restarted.ingest([mixed_corpus / "notes.txt"])  # a process's first ingest run sweeps and repairs
        assert ("page.html", "added") in [(f.source, f.outcome) for f in report.files]
        assert store_is_consistent(restarted)
        assert_chunks_match_text(restarted, "page.html")
    finally:
        restarted.close()


def test_ingest_named_uses_given_sources_and_suffixes(corpus: Corpus, tmp_path: Path) -> None:
    upload = tmp_path / "upload-1234.tmp"
    upload.write_text("<p>Uploaded page about tides.</p>", encoding="utf-8")
    report = corpus.ingest_named([("inbox/tides.html", upload)])
    assert [(f.source, f.outcome) for f in report.files] == [("inbox/tides.html", "added")]
    assert corpus.text("inbox/tides.html") == "Uploaded page about tides."
    again = corpus.ingest_named([("inbox/tides.html", upload)])
    assert again.count("unchanged") == 1


def test_examples_corpus_ingests_every_format_with_exact_spans(corpus: Corpus, examples_dir: Path) -> None:
    import subprocess
    import sys

    if not (examples_dir / "generated").is_dir():  # `make examples` writes the .pdf/.docx; do it if not yet done
        subprocess.run([sys.executable, str(examples_dir.parent / "evals" / "build_examples.py")], check=True, timeout=300)
    report = corpus.ingest([examples_dir])
    assert report.failed_paths == [] and report.count("failed") == 0, report
    added = sorted(f.source for f in report.files if f.outcome == "added")
    assert len(added) >= 5
    assert {Path(s).suffix for s in added} >= {".txt", ".md", ".html", ".pdf", ".docx"}
    assert report.count("skipped") == 0  # the folder holds only documents (the generator lives in evals/)
    for source in added:
        assert_chunks_match_text(corpus, source)


def test_a_reader_finds_by_meaning_what_another_process_ingested(settings: Settings, news_dir: Path, tmp_path: Path) -> None:
    """A long-running reader (`citewise serve`) and a `citewise ingest` in another process on the same embedded
    index: Chroma's in-memory vector index of the reader does not see the new vectors, the reader still finds the
    new document by meaning (no shared words with the query), and an update replaces the old version there too."""
    import os
    import subprocess
    import sys

    docs = tmp_path / "docs"
    shutil.copytree(news_dir, docs)
    env = {**os.environ, "CITEWISE_HOME": str(settings.home)}

    def ingest_elsewhere() -> None:
        done = subprocess.run([sys.executable, "-m", "service.cli", "ingest", str(docs)], env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr

    ingest_elsewhere()
    reader = Corpus.open(settings)
    try:
        assert retrieve(reader, "antipersonnel mines treaty", 1, "dense")[0].source.startswith("00")  # vectors loaded
        (docs / "ferry.txt").write_text("The night ferry to Skerrin leaves at 23:40 from pier four.\n", encoding="utf-8")
        ingest_elsewhere()
        question = "At what time does the late boat to the island depart?"
        assert [h.source for h in retrieve(reader, question, 1, "dense")] == ["ferry.txt"]
        (docs / "ferry.txt").write_text("The night ferry to Skerrin was cancelled for the winter.\n", encoding="utf-8")
        ingest_elsewhere()
        hit = retrieve(reader, question, 1, "dense")[0]
        assert hit.source == "ferry.txt" and "cancelled" in hit.text
    finally:
        reader.close()


def test_a_reader_follows_another_writers_changes_without_rereading_the_manifest(
    settings: Settings, news_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two open corpora on one index (a server and a CLI ingest): the reader's next search applies the writer's
    change from the manifest's journal — it never lists every referenced chunk id again."""
    docs = tmp_path / "docs"
    shutil.copytree(news_dir, docs)
    writer, reader = Corpus.open(settings), Corpus.open(settings)
    try:
        writer.ingest([docs])
        assert reader.search_view().valid_ids == writer.manifest.referenced_ids()

        def refused() -> None:
            raise AssertionError("the reader re-read every manifest row")

        monkeypatch.setattr(reader.manifest, "snapshot", refused)
        (docs / "ferry.txt").write_text("The night ferry to Skerrin leaves at 23:40 from pier four.\n", encoding="utf-8")
        writer.ingest([docs])
        assert [h.source for h in retrieve(reader, "night ferry Skerrin", 1, "bm25")] == ["ferry.txt"]
        writer.remove(["ferry.txt"])
        assert all(h.source != "ferry.txt" for h in retrieve(reader, "night ferry Skerrin", 5))
        assert reader.search_view().valid_ids == writer.manifest.referenced_ids()
    finally:
        writer.close()
        reader.close()
