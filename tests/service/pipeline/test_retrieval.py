"""Hybrid retrieval on the real news index: each mode ranks the right file first; fusion, query files, the
LangChain retriever, and the `citewise search` JSON shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import Settings
from service.errors import InvalidInput
from service.pipeline.langchain_retriever import HybridRetriever, hits_from_documents
from service.pipeline.retrieval import fuse, read_queries, retrieve, search

TREATY = "000_1ca178c960a0782e.txt"  # names the Ottawa Treaty and the casualty report
PLEDGE = "001_846b2a5c2ae0efae.txt"  # the June 2022 pledge


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize(
    ("query", "source", "phrase"),
    [
        ("How many victims did antipersonnel mines cause in 2023?", TREATY, "5,757 victims"),
        ("What did the White House pledge in June 2022 about anti-personnel mines?", PLEDGE, "June 2022"),
    ],
)
def test_each_mode_ranks_the_answering_chunk_first(news_corpus, mode: str, query: str, source: str, phrase: str) -> None:
    hits = retrieve(news_corpus, query, 3, mode)  # type: ignore[arg-type]
    assert 1 <= len(hits) <= 3
    assert hits[0].source == source and phrase in hits[0].text
    text = news_corpus.text(source)
    lines = text.split("\n")
    for hit in hits:
        assert hit.chunk_id in news_corpus.all_chunk_ids()
        assert hit.text in "\n".join(lines[hit.start_line - 1 : hit.end_line]) or hit.source != source
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    if mode == "dense":
        assert hits[0].dense_score is not None and hits[0].bm25_score is None
    if mode == "bm25":
        assert hits[0].bm25_score is not None and hits[0].dense_score is None


def test_hybrid_returns_k_results_with_both_scores(news_corpus) -> None:
    hits = retrieve(news_corpus, "Ottawa Treaty antipersonnel mines Ukraine", 5)
    assert len(hits) == 5
    assert len({h.chunk_id for h in hits}) == 5
    assert any(h.dense_score is not None and h.bm25_score is not None for h in hits)


def test_bm25_ignores_queries_without_known_terms_but_dense_still_answers(news_corpus) -> None:
    assert retrieve(news_corpus, "zzxqv qqwerty", 3, "bm25") == []
    assert len(retrieve(news_corpus, "zzxqv qqwerty", 3, "dense")) == 3
    assert retrieve(news_corpus, "   ", 3) == []


def test_fuse_is_reciprocal_rank_fusion() -> None:
    fused = fuse([[("a", 0.9), ("b", 0.8)], [("b", 12.0), ("c", 3.0)]], k=60)
    assert [cid for cid, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1][1] == pytest.approx(1 / 61)


def test_fuse_scores_is_a_convex_combination_of_normalised_scores() -> None:
    from service.pipeline.retrieval import fuse_scores

    dense = [("a", 0.9), ("b", 0.5), ("c", 0.1)]
    lexical = [("c", 20.0), ("d", 10.0), ("b", 0.0)]
    fused = dict(fuse_scores(dense, lexical, dense_weight=0.5))
    assert fused == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.5, "d": 0.25})
    assert [cid for cid, _ in fuse_scores(dense, lexical)][:2] == ["a", "c"]  # ties: first seen first
    assert fuse_scores(dense, [], dense_weight=0.5)[0] == ("a", 0.5)
    # BM25 is scaled by its max (its floor is 0): two near-equal lexical matches stay near-equal.
    near = dict(fuse_scores([], [("x", 1.3), ("y", 1.2)], dense_weight=0.5))
    assert near == pytest.approx({"x": 0.5, "y": 0.5 * 1.2 / 1.3})


def test_search_response_and_empty_query(news_corpus) -> None:
    response = search(news_corpus, "Nobel Peace Prize", 2)
    assert response.query == "Nobel Peace Prize" and len(response.results) == 2
    with pytest.raises(InvalidInput):
        search(news_corpus, "  ", 2)


def test_read_queries_plain_lines_and_jsonl(tmp_path: Path) -> None:
    plain = tmp_path / "q.txt"
    plain.write_text("first question\n\n  second question  \n", encoding="utf-8")
    assert list(read_queries(plain)) == [(None, "first question"), (None, "second question")]
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text('{"id": "q1", "text": "mines"}\n{"id": 7, "text": "treaty"}\n', encoding="utf-8")
    assert list(read_queries(jsonl)) == [("q1", "mines"), ("7", "treaty")]
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "q1", "text": "ok"}\n{"id": "q2"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"broken.jsonl:2"):
        list(read_queries(broken))
    with pytest.raises(InvalidInput, match="cannot read queries file"):
        list(read_queries(tmp_path / "missing.txt"))


def test_langchain_retriever_returns_documents_with_spans(news_corpus) -> None:
    retriever = HybridRetriever(corpus=news_corpus, k=2)
    docs = retriever.invoke("How many countries signed the Ottawa Treaty?")
    assert len(docs) == 2
    assert docs[0].metadata["source"] == TREATY and "Ottawa Treaty" in docs[0].page_content
    assert {"start_line", "end_line", "score", "chunk_id"} <= set(docs[0].metadata)


def test_retriever_documents_round_trip_to_the_same_hits(news_corpus) -> None:
    """The answer pipeline retrieves through the LangChain retriever: nothing may be lost on the way."""
    query = "Which treaty bans antipersonnel mines?"
    direct = retrieve(news_corpus, query, 5)
    via_langchain = hits_from_documents(HybridRetriever(corpus=news_corpus, k=5).invoke(query))
    assert via_langchain == direct and len(direct) == 5


def _cli(args: list[str], settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CITEWISE_HOME": str(settings.home)}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_cli_search_json_shapes(news_settings: Settings, tmp_path: Path) -> None:
    result = _cli(["search", "Ottawa Treaty", "-k", "2", "--json"], news_settings)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["query"] == "Ottawa Treaty" and len(payload["results"]) == 2
    assert {"source", "start_line", "end_line", "score", "text"} <= set(payload["results"][0])
    assert {r["source"] for r in payload["results"]} == {TREATY, PLEDGE}  # both name the Ottawa Treaty
    assert all("Ottawa Treaty" in r["text"] for r in payload["results"])

    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"id": "a", "text": "Ottawa Treaty"}\n{"id": "b", "text": "June 2022 pledge"}\n', encoding="utf-8")
    result = _cli(["search", "--queries", str(queries), "-k", "3", "--json"], news_settings)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert [line["query"] for line in lines] == ["Ottawa Treaty", "June 2022 pledge"]
    assert all(len(line["results"]) == 3 for line in lines)

    missing = _cli(["search", "--queries", str(tmp_path / "nope.txt"), "--json"], news_settings)
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1


def test_fuse_hybrid_orders_the_tail_by_the_given_rankings() -> None:
    from service.pipeline.retrieval import CONVEX_HEAD, fuse_hybrid

    dense = [(f"d{i}", 1.0 - i / 100) for i in range(CONVEX_HEAD)]
    lexical = [(f"b{i}", 10.0 - i / 10) for i in range(CONVEX_HEAD)]
    default = fuse_hybrid(dense, lexical)
    tail = [[("x", 0.9), ("b19", 0.8)], [("y", 5.0)]]
    ordered = fuse_hybrid(dense, lexical, tail)
    assert ordered[:CONVEX_HEAD] == default[:CONVEX_HEAD]  # the head never changes
    assert [cid for cid, _ in ordered[CONVEX_HEAD:]] == ["x", "y", "b19"]  # only the tail rankings' candidates
    scores = [s for _, s in ordered]
    assert scores == sorted(scores, reverse=True)


def test_feedback_orders_only_the_tail_and_expands_bm25(settings: Settings, tmp_path: Path) -> None:
    """Asked for more than CONVEX_HEAD results, hybrid retrieval re-ranks with pseudo-relevance feedback: the
    first 20 places stay as they were; the expanded BM25 ranking reaches a chunk sharing no query stem."""
    from index.corpus import Corpus
    from index.lexical import query_stems
    from service.pipeline.retrieval import CONVEX_HEAD, feedback_rankings, fuse_hybrid, nearest

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "treaty.txt").write_text("The Ottawa Treaty bans antipersonnel mines; landmine clearance continues in Angola.\n")
    (docs / "clearance.txt").write_text("Landmine clearance in Angola uses trained rats and metal detectors.\n")
    for i in range(10, 40):
        (docs / f"log{i}.txt").write_text(
            f"Harbour log: the harbour bell rang while gulls circled the quay and fishermen mended nets on day {i}.\n"
        )
    corpus = Corpus.open(settings)
    try:
        corpus.ingest([docs])
        query = "Which treaty bans mines?"
        top = retrieve(corpus, query, CONVEX_HEAD)
        deep = retrieve(corpus, query, CONVEX_HEAD + 10)
        assert len(deep) == CONVEX_HEAD + 10 and deep[:CONVEX_HEAD] == top
        assert top[0].source == "treaty.txt"

        view = corpus.search_view()
        embedding = corpus.embedder.encode([query])[0]
        dense = nearest(corpus, embedding, 50, view)
        lexical = view.bm25.search(query, 50)
        sources = {cid: c.source for cid, c in corpus.get_chunks(sorted(view.valid_ids)).items()}
        assert "clearance.txt" not in {sources[cid] for cid, _ in lexical}  # it shares no stem with the query
        assert not set(query_stems(query)) & set(query_stems(corpus.text("clearance.txt")))
        rocchio, expanded = feedback_rankings(corpus, query, view, fuse_hybrid(dense, lexical), embedding, 50)
        assert "clearance.txt" in {sources[cid] for cid, _ in expanded}
        assert sources[rocchio[0][0]] == "treaty.txt" and len(rocchio) == len(sources)
    finally:
        corpus.close()
