"""kill -9 of a real `citewise ingest` process while it pauses at each named step of the update protocol
(CITEWISE_DEBUG_PAUSE_AT), then a plain re-run: the index is repaired — no orphan chunks, no manifest rows
without chunks, BM25 in sync, `citewise docs list` equal to the files — and the new content is searchable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from service.pipeline.retrieval import retrieve
from tests.hardening.index_checks import assert_consistent, open_corpus
from tests.hardening.processes import NEWS_DIR, clean_env, cli, kill_at

# The update protocol's steps, in order (index/ingest.py `checkpoint` calls): before the manifest switch a
# reader sees the old version, after it the new one.
STEPS = ["after_text_write", "after_chroma_write", "after_manifest_switch", "after_old_chunks_delete"]
BEFORE_SWITCH = {"after_text_write", "after_chroma_write"}


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    shutil.copytree(NEWS_DIR, folder)
    (folder / "notes.md").write_text("# Harbour notes\n\nThe harbour bell was cast in 1887 in Leeds.\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("step", STEPS)
def test_kill_9_at_each_step_then_reingest_repairs(step: str, docs: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = clean_env(home=str(home))
    assert cli("ingest", str(docs), env=env).returncode == 0

    # One changed file and one new file: the killed run was in the middle of both.
    (docs / "notes.md").write_text("# Harbour notes\n\nThe harbour bell was recast in 1954 in Whitby.\n", encoding="utf-8")
    (docs / "ferry.txt").write_text("The night ferry to Skerrin leaves at 23:40 from pier four.\n", encoding="utf-8")
    kill_at(step, home, docs)

    corpus = open_corpus(home)  # what a reader sees right after the crash: old or new notes, never neither
    try:
        text = corpus.text("notes.md")
        assert ("1887" in text) != ("1954" in text)
        assert [h.source for h in retrieve(corpus, "harbour bell cast recast", 3)][:1] == ["notes.md"]
        orphans = corpus.store.all_ids() - corpus.manifest.referenced_ids()
        assert ("1887" if step in BEFORE_SWITCH else "1954") in text
        assert bool(orphans) == (step in ("after_chroma_write", "after_manifest_switch")), orphans
    finally:
        corpus.close()

    done = cli("ingest", str(docs), env=env)
    assert done.returncode == 0, done.stderr
    assert_consistent(home, docs)
    listed = json.loads(cli("docs", "list", "--json", env=env).stdout)
    assert sorted(d["source"] for d in listed) == sorted(p.name for p in docs.iterdir())
    corpus = open_corpus(home)
    try:
        assert "1954" in corpus.text("notes.md")
        assert retrieve(corpus, "night ferry Skerrin pier", 1)[0].source == "ferry.txt"
        notes = [h for h in retrieve(corpus, "harbour bell", 5) if h.source == "notes.md"]
        assert notes and all("1887" not in h.text for h in notes)
    finally:
        corpus.close()


def test_kill_9_during_first_ingest_then_reingest_repairs(docs: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    kill_at("after_chroma_write", home, docs)
    assert cli("docs", "list", "--json", env=clean_env(home=str(home))).stdout.strip() == "[]"
    assert cli("ingest", str(docs), env=clean_env(home=str(home))).returncode == 0
    assert_consistent(home, docs)


def test_kill_9_during_docs_rm_then_next_write_repairs(docs: Path, tmp_path: Path) -> None:
    """Killed between forgetting the document and deleting its chunks: it is gone for readers at once, and the
    next write sweeps its orphan chunks (here the re-ingest, which also brings the file back)."""
    home = tmp_path / "home"
    env = clean_env(home=str(home))
    assert cli("ingest", str(docs), env=env).returncode == 0
    kill_at("after_remove_manifest", home, "notes.md", command=("docs", "rm"))
    listed = json.loads(cli("docs", "list", "--json", env=env).stdout)
    assert "notes.md" not in [d["source"] for d in listed]
    corpus = open_corpus(home)
    try:
        assert corpus.store.all_ids() - corpus.manifest.referenced_ids(), "the killed rm left its chunks behind"
        assert all(h.source != "notes.md" for h in retrieve(corpus, "harbour bell cast in Leeds", 5))
    finally:
        corpus.close()
    assert cli("ingest", str(docs), env=env).returncode == 0
    assert_consistent(home, docs)
