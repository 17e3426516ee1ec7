"""Retrieval latency on the SciFact index built by evals/bench_ingest.py (targets: p50 ≤ 20 ms, p95 ≤ 50 ms).

Also (`--fusion`) compares ways of fusing the dense and BM25 rankings by nDCG@10 on SciFact's test queries,
which is how the default (convex combination, α = 0.5) was chosen over reciprocal rank fusion.

    python -m evals.bench_retrieval [--home DIR] [-k 10] [--fusion]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from evals.beir import load_beir, ndcg_at, rank_documents, recall_at
from evals.bench_ingest import INDEX_HOME, RESULTS, SCIFACT
from evals.scorers import percentile
from index.corpus import Corpus
from service.config import Settings
from service.pipeline.langchain_retriever import HybridRetriever, hits_from_documents
from service.pipeline.retrieval import dense_ranking, fuse, fuse_scores, retrieve

TARGET_P50_MS = 20.0
TARGET_P95_MS = 50.0
Ranking = list[tuple[str, float]]


def _query_function(corpus: Corpus, k: int, mode: str) -> Callable[[str], object]:
    """One query in `mode`; "langchain" is hybrid through the LangChain retriever, as the answer pipeline calls it."""
    if mode == "langchain":
        retriever = HybridRetriever(corpus=corpus, k=k)
        return lambda query: hits_from_documents(retriever.invoke(query))
    return lambda query: retrieve(corpus, query, k, mode)  # type: ignore[arg-type]


def latency(corpus: Corpus, queries: list[str], k: int, mode: str) -> dict[str, float]:
    run = _query_function(corpus, k, mode)
    run("warm up: load the model and the BM25 index")
    timings, cpu = [], []
    for query in queries:
        started, cpu_started = time.perf_counter(), time.process_time()
        run(query)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return {
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 95) or 0.0, 2),
        "mean_ms": round(statistics.fmean(timings), 2),
        # CPU time of this process (all threads): what a query costs when the machine is not shared.
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p95_ms": round(percentile(cpu, 95) or 0.0, 2),
    }


# --- fusion comparison ----------------------------------------------------------------------------


def _minmax(ranking: Ranking) -> dict[str, float]:
    if not ranking:
        return {}
    scores = [s for _, s in ranking]
    low, high = min(scores), max(scores)
    return {cid: (s - low) / (high - low) if high > low else 1.0 for cid, s in ranking}


def convex(alpha: float) -> Callable[[Ranking, Ranking], Ranking]:
    """alpha · minmax(dense) + (1 − alpha) · minmax(BM25) over the union of candidates (the default divides
    BM25 by its max instead, see service.pipeline.retrieval.fuse_scores)."""

    def combine(dense: Ranking, lexical: Ranking) -> Ranking:
        d, b = _minmax(dense), _minmax(lexical)
        fused = {cid: alpha * d.get(cid, 0.0) + (1 - alpha) * b.get(cid, 0.0) for cid in d.keys() | b.keys()}
        return sorted(fused.items(), key=lambda item: -item[1])

    return combine


def rrf(k: int, dense_weight: float = 1.0) -> Callable[[Ranking, Ranking], Ranking]:
    def combine(dense: Ranking, lexical: Ranking) -> Ranking:
        fused: dict[str, float] = {}
        for weight, ranking in ((dense_weight, dense), (1.0, lexical)):
            for rank, (cid, _) in enumerate(ranking, start=1):
                fused[cid] = fused.get(cid, 0.0) + weight / (k + rank)
        return sorted(fused.items(), key=lambda item: -item[1])

    return combine


def compare_fusions(corpus: Corpus, depth: int = 100) -> dict[str, dict[str, float]]:
    dataset = load_beir(SCIFACT)
    view = corpus.search_view()
    sources = {cid: c.source for cid, c in corpus.get_chunks(sorted(view.valid_ids)).items()}
    methods: dict[str, Callable[[Ranking, Ranking], Ranking]] = {
        "dense": lambda d, b: d,
        "bm25": lambda d, b: b,
        "convex α=0.5 (default)": lambda d, b: fuse_scores(d, b),
        "rrf k=60": lambda d, b: fuse([d, b]),
        "convex α=0.5, both minmax": convex(0.5),
        "rrf k=20": rrf(20),
        "rrf k=60, dense ×1.5": rrf(60, 1.5),
        "rrf k=60, dense ×0.67": rrf(60, 0.67),
        **{f"convex α={a}, both minmax": convex(a) for a in (0.3, 0.7)},
    }
    scores: dict[str, dict[str, list[float]]] = {name: {"ndcg@10": [], "recall@100": []} for name in methods}
    indexed = set(rank_documents(sources.values()))
    # On a partial index (e.g. an interrupted build), score only queries whose relevant documents are all in it.
    usable = {q: t for q, t in dataset.queries.items() if set(dataset.qrels[q]) <= indexed}
    print(f"  fusion: {len(usable)} of {len(dataset.queries)} queries have all their relevant documents indexed")
    for qid, text in usable.items():
        dense = dense_ranking(corpus, text, depth, view)
        lexical = view.bm25.search(text, depth)
        for name, method in methods.items():
            ranked = rank_documents(sources[cid] for cid, _ in method(dense, lexical))
            scores[name]["ndcg@10"].append(ndcg_at(ranked, dataset.qrels[qid], 10))
            scores[name]["recall@100"].append(recall_at(ranked, dataset.qrels[qid], 100))
    return {name: {m: round(statistics.fmean(v), 4) for m, v in values.items()} for name, values in scores.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=INDEX_HOME, help="an index built by evals.bench_ingest")
    parser.add_argument("-k", type=int, default=10, help="results per query")
    parser.add_argument("--fusion", action="store_true", help="also compare fusion methods by nDCG@10")
    args = parser.parse_args(argv if argv is not None else [])
    if not (args.home / "manifest.sqlite3").exists():
        print(f"no index at {args.home}: run `python -m evals.bench_ingest` first")
        return
    corpus = Corpus.open(Settings(home=args.home))
    queries = [json.loads(line)["text"] for line in (SCIFACT / "queries.jsonl").read_text().splitlines() if line.strip()]
    documents, chunks = len(corpus.list_documents()), len(corpus.all_chunk_ids())
    print(f"Retrieval latency on {args.home.name}: {documents} documents, {chunks} chunks, {len(queries)} queries, k={args.k}")
    load = os.getloadavg()[0]
    print(f"  (machine load average {load:.1f} on {os.cpu_count()} cores: wall times include waiting for the CPU)")
    figures: dict[str, object] = {
        "documents": documents, "chunks": chunks, "queries": len(queries), "k": args.k, "load_average": load,
    }  # fmt: skip
    for mode in ("hybrid", "langchain", "dense", "bm25"):
        result = latency(corpus, queries, args.k, mode)
        figures[mode] = result
        target = f"   (targets: p50 ≤ {TARGET_P50_MS:g}, p95 ≤ {TARGET_P95_MS:g})" if mode == "hybrid" else ""
        print(
            f"  {mode:9s} p50 {result['p50_ms']:6.1f} ms   p95 {result['p95_ms']:6.1f} ms   "
            f"(CPU time p50 {result['cpu_p50_ms']:5.1f} ms, p95 {result['cpu_p95_ms']:5.1f} ms){target}"
        )
    if args.fusion:
        fusion = compare_fusions(corpus)
        figures["fusion"] = fusion
        print("  fusion on SciFact test queries (document level):")
        for name, values in fusion.items():
            print(f"    {name:24s} nDCG@10 {values['ndcg@10']:.4f}   recall@100 {values['recall@100']:.4f}")
    corpus.close()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_retrieval.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
