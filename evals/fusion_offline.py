"""Fusion experiments on saved rankings: the dense and BM25 rankings of every SciFact query are computed once
(`--dump`), then fusion variants are scored offline in seconds, tuned on even query ids and reported on odd.

    python -m evals.fusion_offline --home DIR --dump rankings.json   # once (needs the SciFact index)
    python -m evals.fusion_offline --load rankings.json              # the variants table

The dump also holds each query's pseudo-relevance-feedback rankings (service.pipeline.retrieval.feedback_rankings,
fed by the default fusion's top chunks), so tails ordered by them are scored offline too.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path

from evals.beir import doc_id_of, load_beir, ndcg_at, recall_at
from evals.bench_beir import SCIFACT
from service.pipeline.retrieval import fuse, fuse_hybrid, fuse_scores

DEPTH = 300


def dump(home: Path, out: Path) -> None:
    from index.corpus import Corpus
    from index.ranking import cap_per_document
    from service.config import Settings
    from service.pipeline.retrieval import feedback_rankings, nearest

    dataset = load_beir(SCIFACT)
    corpus = Corpus.open(Settings(home=home))
    view = corpus.search_view()
    rankings, sources = {}, {}
    for qid, text in dataset.queries.items():
        embedding = corpus.embedder.encode([text])[0]
        dense = nearest(corpus, embedding, DEPTH, view)
        lexical = view.bm25.search(text, DEPTH)
        first = fuse_hybrid(cap_per_document(dense), cap_per_document(lexical))
        dense_fb, bm25_fb = feedback_rankings(corpus, text, view, first, embedding, DEPTH)
        rankings[qid] = {"dense": dense, "bm25": lexical, "dense_fb": dense_fb, "bm25_fb": bm25_fb}
        missing = list(dict.fromkeys(cid for cid, _ in dense + lexical + dense_fb + bm25_fb if cid not in sources))
        for cid, chunk in corpus.store.get(missing).items():
            sources[cid] = doc_id_of(chunk.source)
    corpus.close()
    out.write_text(json.dumps({"rankings": rankings, "doc": sources}))


def docs(ranking: list, doc: dict[str, str]) -> list[str]:
    seen: dict[str, None] = {}
    for cid, _ in ranking:
        seen.setdefault(doc[cid], None)
    return list(seen)


def score(name: str, fuser, data: dict, qrels: dict, qids: list[str]) -> tuple[float, float]:
    ndcg, r100 = [], []
    for qid in qids:
        r = {name: [tuple(x) for x in ranking] for name, ranking in data["rankings"][qid].items()}
        fb = [r[name] for name in ("dense_fb", "bm25_fb") if name in r]
        ranked = docs(fuser(r["dense"], r["bm25"], fb), data["doc"])
        ndcg.append(ndcg_at(ranked, qrels[qid], 10))
        r100.append(recall_at(ranked, qrels[qid], 100))
    return statistics.fmean(ndcg), statistics.fmean(r100)


def variants() -> dict:
    out: dict[str, Callable[..., list[tuple[str, float]]]] = {"dense": lambda d, b, fb: d, "bm25": lambda d, b, fb: b}
    for depth in (50, 100, 300):
        for w in (0.3, 0.4, 0.5, 0.6, 0.7):
            out[f"convex w={w} depth={depth}"] = lambda d, b, fb, w=w, n=depth: fuse_scores(d[:n], b[:n], w)
        for k in (10, 30, 60):
            out[f"rrf k={k} depth={depth}"] = lambda d, b, fb, k=k, n=depth: fuse([d[:n], b[:n]], k)
    # convex for the top, RRF's deeper union after it (recall of the union, precision of the scores)
    for w in (0.4, 0.5, 0.6):
        for head in (20, 50):
            def hybrid(d, b, fb, w=w, head=head):
                top = fuse_scores(d[:head], b[:head], w)
                seen = {cid for cid, _ in top}
                return top + [x for x in fuse([d, b], 60) if x[0] not in seen]
            out[f"convex w={w} depth={head} + rrf tail"] = hybrid
    # the convex ranking over the full depth for the first `head` places, then RRF's order for the rest
    for head in (10, 20, 30, 50):
        def head_tail(d, b, fb, head=head):
            top = fuse_scores(d, b, 0.5)[:head]
            seen = {cid for cid, _ in top}
            return top + [x for x in fuse([d, b], 60) if x[0] not in seen]
        out[f"convex w=0.5 depth=300, top {head} + rrf k=60 after"] = head_tail
    # the default head, its tail ordered by the feedback rankings (Rocchio dense + RM3 BM25), with or without the first
    out["default head + rrf tail of the first rankings"] = lambda d, b, fb: fuse_hybrid(d, b)
    out["default head + rrf tail of the feedback rankings"] = lambda d, b, fb: fuse_hybrid(d, b, fb or None)
    out["default head + rrf tail of all four rankings"] = lambda d, b, fb: fuse_hybrid(d, b, [d, b, *fb])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path)
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--load", type=Path)
    args = parser.parse_args(argv if argv is not None else [])
    if args.dump:
        dump(args.home, args.dump)
        return
    data = json.loads(args.load.read_text())
    qrels = load_beir(SCIFACT).qrels
    qids = sorted(data["rankings"], key=int)
    even = [q for q in qids if int(q) % 2 == 0]
    odd = [q for q in qids if int(q) % 2 == 1]
    print(f"{len(even)} tuning (even ids), {len(odd)} held-out (odd ids) queries")
    print("| fusion | tune nDCG@10 | tune R@100 | held-out nDCG@10 | held-out R@100 | all nDCG@10 | all R@100 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, fuser in variants().items():
        t, h, a = (score(name, fuser, data, qrels, q) for q in (even, odd, qids))
        print(f"| {name} | {t[0]:.3f} | {t[1]:.3f} | {h[0]:.3f} | {h[1]:.3f} | {a[0]:.3f} | {a[1]:.3f} |")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
