"""Hybrid retrieval: dense (Chroma, MiniLM) + lexical (BM25) rankings, fused by a convex combination of their
min-max-normalised scores (measured better than reciprocal rank fusion on SciFact: nDCG@10 0.722 vs 0.708;
dense alone 0.665, BM25 alone 0.659 — `python -m evals.bench_retrieval --fusion`).

Past the first CONVEX_HEAD places (a caller asking for more than 20 results, like the BEIR bench's 300), the tail
is ordered by pseudo-relevance feedback instead (`feedback_rankings`: Rocchio on the query vector, RM3-style
expansion of the BM25 query, both from the head's first 10 chunks). SciFact recall@100, the variant chosen on
even query ids (0.952 → 0.986), held-out odd ids 0.956 → 0.963, all 0.954 → 0.974 (BEIR bench: 0.951 → 0.974;
`python -m evals.fusion_offline`); nDCG@10 and every answer's retrieval (k = 8) are unchanged. On the QA dev sets
at k = 30: HotpotQA both gold paragraphs 0.917 → 0.938 (dev) / 0.923 → 0.962 (test), RealTime QA and SQuAD 2
gold-source hits unchanged. It costs a second Chroma query and a ~30-stem FTS5 query: SciFact p50 at 300
results 84 → 154 ms back to back at load 4.9 (k ≤ 20, every answer, pays nothing; a focused summary's k = 24 does).

Rejected (SciFact nDCG@10 0.731; even ids to choose, odd to report): replacing the first rankings by the feedback
ones (−0.008 to −0.029), document-level aggregation of chunk scores before fusion (max: −0.001 to −0.005; sum of a
document's chunks: up to −0.046), a title column in BM25 (±0.002), z-score convex or reciprocal-rank fusion in the
head (−0.007 to −0.022), a short leading chunk (a title alone) joined to the next (−0.002; dense −0.014, BM25
+0.018). nDCG@10 ≥ 0.75 is out of reach of these first-stage changes.

Only chunks the manifest currently references are returned (see `Corpus.search_view`), so a reader never
sees a half-updated document. Three modes share one code path: "hybrid" (default), "dense" and "bm25".
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from index.ranking import cap_per_document, distinct_texts
from index.records import Chunk
from service.errors import InvalidInput
from service.schemas import SearchHit, SearchResponse

if TYPE_CHECKING:
    from index.corpus import Corpus, SearchView

Mode = Literal["hybrid", "dense", "bm25"]

RRF_K = 60  # the usual reciprocal-rank-fusion constant: rank 1 → 1/61
DENSE_WEIGHT = 0.5  # convex fusion: best of 0.3 / 0.5 / 0.7 on SciFact
CANDIDATES = 50  # depth of each ranking fed into the fusion
CONVEX_HEAD = 20  # places ordered by convex fusion before the reciprocal-rank tail
# Pseudo-relevance feedback for the tail (past CONVEX_HEAD, so only when more than 20 results are asked for):
# Chosen on SciFact's even query ids (recall@100) among m ∈ {5, 10}, α ∈ {0, 0.5, 1}, 0/10/20 terms at weight 2/3
# (the alternatives' figures measured with idf-weighted expansion stems, 0.980 for this choice; without idf: 0.986):
FEEDBACK_CHUNKS = 10  # the head's first 10 chunks are taken as relevant (5: 0.963 vs 0.986 on even ids)
FEEDBACK_WEIGHT = 0.5  # Rocchio: query vector + 0.5 × mean of their vectors (1.0: 0.976)
EXPANSION_TERMS = 20  # RM3-style: their 20 heaviest stems added to the BM25 query (10 at weight 2: 0.973) ...
QUERY_TERM_WEIGHT = 3  # ... where each of the query's own stems counts 3 times (dense or BM25 feedback alone: 0.963)


def dense_ranking(corpus: Corpus, query: str, depth: int, view: SearchView) -> list[tuple[str, float]]:
    """(chunk id, cosine similarity), best first, restricted to currently referenced chunks; chunks another
    process wrote that this process's Chroma cannot see are scored from the view's own vectors."""
    return nearest(corpus, corpus.embedder.encode([query])[0], depth, view)


def nearest(corpus: Corpus, embedding: np.ndarray, depth: int, view: SearchView) -> list[tuple[str, float]]:
    """`dense_ranking` for a (unit) query vector."""
    # Ask a little deeper than needed: orphans of an interrupted write may still sit in Chroma.
    hits = [(cid, score) for cid, score in corpus.store.query(embedding, depth + 8) if cid in view.valid_ids]
    if view.foreign_ids:
        scores = view.foreign_vectors @ embedding
        seen = {cid for cid, _ in hits}
        hits += [(cid, float(score)) for cid, score in zip(view.foreign_ids, scores) if cid not in seen]
        hits.sort(key=lambda hit: -hit[1])
    return hits[:depth]


def fuse(rankings: list[list[tuple[str, float]]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: score(d) = Σ 1 / (k + rank_i(d)), best first; ties keep first-seen order."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (cid, _) in enumerate(ranking, start=1):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: -item[1])


def _normalise(ranking: list[tuple[str, float]], floor: float | None = None) -> dict[str, float]:
    """Scores mapped to [0, 1]: (s − floor) / (max − floor); floor defaults to the lowest candidate's score."""
    if not ranking:
        return {}
    high = max(s for _, s in ranking)
    low = min(s for _, s in ranking) if floor is None else floor
    return {cid: (s - low) / (high - low) if high > low else 1.0 for cid, s in ranking}


def fuse_scores(
    dense: list[tuple[str, float]], lexical: list[tuple[str, float]], dense_weight: float = DENSE_WEIGHT
) -> list[tuple[str, float]]:
    """Convex fusion: w · minmax(cosine) + (1 − w) · BM25/max(BM25) over both candidate lists, best first.

    Unlike rank fusion it keeps how far apart the scores are: a clear lexical match is not averaged away.
    BM25's natural floor is 0 (no shared term), so two near-equal lexical matches stay near-equal even when
    they are the only ones (min-max would put the second at 0).
    """
    d, b = _normalise(dense), _normalise(lexical, floor=0.0)
    fused = {cid: dense_weight * d.get(cid, 0.0) + (1 - dense_weight) * b.get(cid, 0.0) for cid in d.keys() | b.keys()}
    order = {cid: i for i, (cid, _) in enumerate(dense + lexical)}  # deterministic ties: first seen first
    return sorted(fused.items(), key=lambda item: (-item[1], order[item[0]]))


def fuse_hybrid(
    dense: list[tuple[str, float]], lexical: list[tuple[str, float]], tail: list[list[tuple[str, float]]] | None = None
) -> list[tuple[str, float]]:
    """Convex fusion for the first CONVEX_HEAD places (its scores order the top best), then the remaining
    candidates in reciprocal-rank order of the `tail` rankings (default: the same two; its union finds more of
    them). SciFact, tuned on even query ids, held-out odd ids: nDCG@10 0.734 either way, recall@100 0.943 → 0.956
    (evals/fusion_offline.py); with the feedback rankings as the tail (`feedback_rankings`) 0.956 → 0.971."""
    head = fuse_scores(dense, lexical)[:CONVEX_HEAD]
    seen = {cid for cid, _ in head}
    floor = head[-1][1] if head else 0.0  # tail scores stay below the head's, keeping `score` descending
    rest = [(cid, min(score, floor)) for cid, score in fuse(tail or [dense, lexical]) if cid not in seen]
    return head + rest


def feedback_rankings(
    corpus: Corpus, query: str, view: SearchView, ranked: list[tuple[str, float]], embedding: np.ndarray, depth: int
) -> list[list[tuple[str, float]]]:
    """Pseudo-relevance feedback: the dense and BM25 rankings again, with the first FEEDBACK_CHUNKS chunks of
    `ranked` taken as relevant. Dense: Rocchio, the query vector plus FEEDBACK_WEIGHT × their mean vector;
    BM25: the query's stems (each counted QUERY_TERM_WEIGHT times) plus their EXPANSION_TERMS heaviest stems.

    Both find relevant documents the query alone ranks too low, and push some top ones down (SciFact nDCG@10
    0.731 → 0.721 Rocchio, 0.713 RM3 when they replace the first rankings): so they order the tail only.
    """
    feedback = [cid for cid, _ in ranked[:FEEDBACK_CHUNKS]]
    if not feedback:
        return []
    foreign = dict(zip(view.foreign_ids, view.foreign_vectors))
    vectors = {**corpus.store.vectors([cid for cid in feedback if cid not in foreign]), **foreign}
    rankings = []
    found = [vectors[cid] for cid in feedback if cid in vectors]
    if found:
        moved = embedding + FEEDBACK_WEIGHT * np.mean(found, axis=0)
        rankings.append(cap_per_document(nearest(corpus, moved / np.linalg.norm(moved), depth, view)))
    texts = [chunk.text for chunk in corpus.get_chunks(feedback).values()]
    rankings.append(cap_per_document(view.bm25.search_expanded(query, texts, EXPANSION_TERMS, QUERY_TERM_WEIGHT, depth)))
    return rankings


def retrieve(corpus: Corpus, query: str, k: int, mode: Mode = "hybrid") -> list[SearchHit]:
    """The top-k chunks for `query`, best first, with source, line span, text and per-ranker scores."""
    if k <= 0 or not query.strip():
        return []
    view = corpus.search_view()
    if not view.valid_ids:
        return []
    depth = max(k, CANDIDATES)
    # Each ranking holds at most PER_DOCUMENT_CAP chunks of one document, and the list never the same text twice.
    embedding = corpus.embedder.encode([query])[0] if mode in ("hybrid", "dense") else None
    dense = cap_per_document(nearest(corpus, embedding, depth, view)) if embedding is not None else []
    lexical = cap_per_document(view.bm25.search(query, depth)) if mode in ("hybrid", "bm25") else []
    if mode == "dense":
        ranked = dense
    elif mode == "bm25":
        ranked = lexical
    else:
        ranked = fuse_hybrid(dense, lexical)
        if k > CONVEX_HEAD and embedding is not None:  # results reach the tail: order it with feedback
            ranked = fuse_hybrid(dense, lexical, feedback_rankings(corpus, query, view, ranked, embedding, depth))
    chunks: dict[str, Chunk] = {}

    def texts_of(ids: Sequence[str]) -> dict[str, str]:
        chunks.update(corpus.get_chunks(ids))
        return {cid: chunks[cid].text for cid in ids if cid in chunks}

    ranked = distinct_texts(ranked, k, texts_of)
    dense_scores, bm25_scores = dict(dense), dict(lexical)
    hits: list[SearchHit] = []
    for cid, score in ranked:
        chunk = chunks.get(cid)
        if chunk is None:  # removed between the view and this read
            continue
        hits.append(
            SearchHit(
                source=chunk.source,
                start_line=chunk.start_line,
                end_line=chunk.end_line,
                score=round(score, 6),
                text=chunk.text,
                chunk_id=cid,
                dense_score=dense_scores.get(cid),
                bm25_score=bm25_scores.get(cid),
            )
        )
    return hits


def search(corpus: Corpus, query: str, k: int) -> SearchResponse:
    """`citewise search`: the ranked chunks for one query."""
    if not query.strip():
        raise InvalidInput("the search query is empty")
    hits = retrieve(corpus, query, k)
    return SearchResponse(
        query=query,
        results=[h.model_copy(update=corpus.locate(h.source, h.start_line, h.end_line).fields()) for h in hits],
    )


def read_queries(path: Path) -> Iterator[tuple[str | None, str]]:
    """Queries from a file: one per line, or JSONL objects with `id` and `text` (blank lines ignored)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InvalidInput(f"cannot read queries file {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise InvalidInput(f"queries file {path} is not UTF-8 text") from e
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            continue
        if not line.startswith("{"):
            yield None, line
            continue
        try:
            item = json.loads(line)
            text = item.get("text", item.get("query"))
            qid = item.get("id", item.get("_id"))
        except (json.JSONDecodeError, AttributeError) as e:
            raise InvalidInput(f"{path}:{number}: not a JSON object with id and text") from e
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput(f"{path}:{number}: missing \"text\"")
        yield (None if qid is None else str(qid)), text
