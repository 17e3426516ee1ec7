"""Consistency checks of an index on disk, opened the way a fresh process opens it (after a crash, a restart)."""

from __future__ import annotations

from pathlib import Path

from index.corpus import Corpus
from service.config import Settings


def open_corpus(home: Path) -> Corpus:
    return Corpus.open(Settings(home=home))


def assert_consistent(home: Path, files: Path) -> None:
    """No orphan chunks, no manifest row without its chunks or text, lexical index in sync, documents == files."""
    corpus = open_corpus(home)
    try:
        rows = corpus.manifest.rows()
        referenced = {cid for r in rows for cid in r.chunk_ids}
        present = corpus.store.all_ids()
        assert present == referenced, f"orphans {sorted(present - referenced)[:3]}, missing {sorted(referenced - present)[:3]}"
        for row in rows:
            assert row.chunk_ids, row.source
            assert corpus.texts.exists(row.sha256), f"text of {row.source} missing"
        assert corpus.texts.stored() == {r.sha256 for r in rows}, "unreferenced texts left behind"
        assert corpus.lexical.generation() == corpus.manifest.generation(), "lexical index not updated"
        assert corpus.lexical.ids() == referenced, "the lexical index covers other chunks than the manifest"
        expected = sorted(str(p.relative_to(files)) for p in files.rglob("*") if p.is_file())
        assert [r.source for r in rows] == expected
    finally:
        corpus.close()
