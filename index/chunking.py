"""Splitting a document's text into overlapping chunks that know their exact character and line spans.

The splitter is langchain-text-splitters' recursive splitter with sentence-aware separators; the spans are
computed here so that `chunk.text == text[start_char:end_char]` always holds and citations can be verified.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right

from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.records import Chunk

# Paragraphs, then lines, then sentence ends, then clauses, then words: a chunk breaks at the largest unit that fits.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",  # a sentence keeps its full stop; the next chunk starts at a sentence start
        chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, max(chunk_size - 1, 0)),
        strip_whitespace=True,
    )


def chunk_id(source: str, doc_sha256: str, index: int) -> str:
    """Deterministic: the same file content under the same source always yields the same ids."""
    source_key = hashlib.sha256(source.encode("utf-8")).hexdigest()[:8]
    return f"{doc_sha256[:16]}-{source_key}-{index:05d}"


def line_starts(text: str) -> list[int]:
    """Character offset at which each line (1-based index - 1) starts."""
    starts = [0]
    position = text.find("\n")
    while position != -1:
        starts.append(position + 1)
        position = text.find("\n", position + 1)
    return starts


def line_of(starts: list[int], char_offset: int) -> int:
    """1-based line number containing `char_offset`."""
    return bisect_right(starts, char_offset)


def _locate(text: str, piece: str, search_from: int, previous_start: int) -> int:
    """Offset of `piece` in `text`: at or after `search_from` if possible, never before the previous chunk."""
    position = text.find(piece, search_from)
    if position == -1:
        position = text.find(piece, previous_start)
    if position == -1:  # cannot happen with strip_whitespace splitting of `text` itself
        raise ValueError("chunk text not found in document text")
    return position


def chunk_text(
    source: str, text: str, doc_sha256: str, chunk_size: int = 1000, chunk_overlap: int = 150
) -> list[Chunk]:
    """Chunks of `text` in order, with verbatim text and 1-based inclusive line spans."""
    splitter = make_splitter(chunk_size, chunk_overlap)
    starts = line_starts(text)
    chunks: list[Chunk] = []
    previous_start, previous_end = 0, 0
    for piece in splitter.split_text(text):
        if not piece.strip():
            continue
        # A chunk starts after the previous chunk's start, and no earlier than where its overlap allows.
        earliest = previous_start + 1 if chunks else 0
        start = _locate(text, piece, max(earliest, previous_end - chunk_overlap), earliest)
        end = start + len(piece)
        index = len(chunks)
        chunks.append(
            Chunk(
                id=chunk_id(source, doc_sha256, index),
                source=source,
                text=piece,
                start_char=start,
                end_char=end,
                start_line=line_of(starts, start),
                end_line=line_of(starts, end - 1),
                chunk_index=index,
                content_hash=hashlib.sha256(piece.encode("utf-8")).hexdigest(),
                doc_sha256=doc_sha256,
            )
        )
        previous_start, previous_end = start, end
    return chunks
