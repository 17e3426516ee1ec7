"""Chunking: verbatim text at exact char offsets, right 1-based line spans, deterministic ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.chunking import chunk_id, chunk_text
from index.records import Chunk

SHA = "ab" * 32


def assert_spans_exact(text: str, chunks: list[Chunk]) -> None:
    lines = text.split("\n")
    for chunk in chunks:
        assert text[chunk.start_char : chunk.end_char] == chunk.text
        assert 1 <= chunk.start_line <= chunk.end_line <= len(lines)
        span = "\n".join(lines[chunk.start_line - 1 : chunk.end_line])
        assert chunk.text in span
        assert chunk.text.startswith(lines[chunk.start_line - 1].lstrip()[:1] or chunk.text[:1])
        # the first and last lines of the span really are touched by the chunk
        assert text.count("\n", 0, chunk.start_char) == chunk.start_line - 1
        assert text.count("\n", 0, chunk.end_char - 1) == chunk.end_line - 1


def test_news_chunks_cover_the_text_with_exact_spans(news_dir: Path) -> None:
    for path in sorted(news_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        chunks = chunk_text(path.name, text, SHA, chunk_size=1000, chunk_overlap=150)
        assert len(chunks) >= 3
        assert_spans_exact(text, chunks)
        assert [c.chunk_index for c in chunks] == list(range(len(chunks)))
        assert all(len(c.text) <= 1000 for c in chunks)
        # every non-blank line is inside some chunk
        covered = set()
        for c in chunks:
            covered.update(range(c.start_line, c.end_line + 1))
        assert {i for i, line in enumerate(text.split("\n"), 1) if line.strip()} <= covered


@pytest.mark.parametrize("size,overlap", [(120, 30), (300, 60), (1000, 150)])
def test_long_lines_and_repeated_text_keep_exact_offsets(size: int, overlap: int) -> None:
    text = ("Yes. " * 40 + "\n") * 3 + "\n\n" + "The same sentence again. " * 30 + "\nEnd."
    chunks = chunk_text("r.txt", text, SHA, chunk_size=size, chunk_overlap=overlap)
    assert_spans_exact(text, chunks)
    starts = [c.start_char for c in chunks]
    assert starts == sorted(set(starts))  # strictly increasing
    assert chunks[-1].text.endswith("End.")


def test_chunks_prefer_sentence_boundaries() -> None:
    text = " ".join(f"Sentence number {i} says something about topic {i}." for i in range(60))
    chunks = chunk_text("s.txt", text, SHA, chunk_size=300, chunk_overlap=0)
    assert len(chunks) > 3
    assert all(c.text.endswith(".") for c in chunks)


def test_ids_are_deterministic_and_depend_on_content_and_source() -> None:
    text = "One line.\nTwo lines."
    first = chunk_text("a.txt", text, SHA)
    assert [c.id for c in first] == [c.id for c in chunk_text("a.txt", text, SHA)]
    assert first[0].id == chunk_id("a.txt", SHA, 0)
    assert chunk_id("a.txt", "cd" * 32, 0) != first[0].id
    assert chunk_id("b.txt", SHA, 0) != first[0].id
    assert first[0].content_hash != chunk_text("a.txt", "Other.", SHA)[0].content_hash
