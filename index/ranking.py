"""Candidate-list hygiene shared by every retrieval mode: one document cannot fill a ranking, and a result list
never holds the same text twice.

A ranking is a list of (chunk id, score), best first. Chunk ids are `<doc sha>-<source key>-<index>`
(index.chunking.chunk_id), so the document a chunk belongs to is known without reading it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

PER_DOCUMENT_CAP = 8  # chunks of one document kept in each ranking fed to the fusion


def document_of(chunk_id: str) -> str:
    return chunk_id.rsplit("-", 1)[0]


def cap_per_document(ranking: list[tuple[str, float]], cap: int = PER_DOCUMENT_CAP) -> list[tuple[str, float]]:
    """The ranking with at most `cap` chunks per document (its best ones), order kept."""
    counts: dict[str, int] = {}
    kept = []
    for cid, score in ranking:
        doc = document_of(cid)
        if counts.get(doc, 0) < cap:
            counts[doc] = counts.get(doc, 0) + 1
            kept.append((cid, score))
    return kept


def distinct_texts(
    ranked: Sequence[tuple[str, float]], k: int, text_of: Callable[[Sequence[str]], dict[str, str]]
) -> list[tuple[str, float]]:
    """The first `k` entries of `ranked` whose texts (case and whitespace aside) were not seen higher up.

    `text_of` reads chunk texts by id (missing ids: removed since, left out). Reads in growing slices, so
    the usual case reads about `k` chunks.
    """
    kept: list[tuple[str, float]] = []
    seen: set[str] = set()
    start, step = 0, max(k, 1) + 4
    while len(kept) < k and start < len(ranked):
        part = ranked[start : start + step]
        texts = text_of([cid for cid, _ in part])
        for cid, score in part:
            text = texts.get(cid)
            if text is None:
                continue
            key = " ".join(text.lower().split())
            if key not in seen:
                seen.add(key)
                kept.append((cid, score))
                if len(kept) == k:
                    break
        start += len(part)
        step *= 2
    return kept
