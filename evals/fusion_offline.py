"""Fusion experiments on saved rankings: the dense and BM25 rankings of every SciFact query are computed once
(`--dump`), then fusion variants are scored offline in seconds, tuned on even query ids and reported on odd.

    python -m evals.fusion_offline --home DIR --dump rankings.json   # once (needs the SciFact index)
    python -m evals.fusion_offline --load rankings.json              # the variants table
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path

from evals.beir import doc_id_of, load_beir, ndcg_at, recall_at
from evals.bench_beir import SCIFACT
from service.pipeline.retrieval import fuse, fuse_scores

DEPTH = 300


def dump(home: Path, out: Path) -> None:
    from index.corpus import Corpus
    from service.config import Settings
    from service.pipeline.retrieval import dense_ranking

    dataset = load_beir(SCIFACT)
    corpus = Corpus.open(Settings(home=home))
    view = corpus.search_view()
    rankings, sources = {}, {}
    for qid, text in dataset.queries.items():
        dense = dense_ranking(corpus, text, DEPTH, view)
        lexical = view.bm25.search(text, DEPTH)
        rankings[qid] = {"dense": dense, "bm25": lexical}
        missing = list(dict.fromkeys(cid for cid, _ in dense + lexical if cid not in sources))
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
        r = data["rankings"][qid]
        ranked = docs(fuser([tuple(x) for x in r["dense"]], [tuple(x) for x in r["bm25"]]), data["doc"])
        ndcg.append(ndcg_at(ranked, qrels[qid], 10))
        r100.append(recall_at(ranked, qrels[qid], 100))
    return statistics.fmean(ndcg), statistics.fmean(r100)


def variants() -> dict:
    out: dict[str, Callable[..., list[tuple[str, float]]]] = {"dense": lambda d, b: d, "bm25": lambda d, b: b}
    for depth in (50, 100, 300):
        for w in (0.3, 0.4, 0.5, 0.6, 0.7):
            out[f"convex w={w} depth={depth}"] = lambda d, b, w=w, n=depth: fuse_scores(d[:n], b[:n], w)
        for k in (10, 30, 60):
            out[f"rrf k={k} depth={depth}"] = lambda d, b, k=k, n=depth: fuse([d[:n], b[:n]], k)
    # convex for the top, RRF's deeper union after it (recall of the union, precision of the scores)
    for w in (0.4, 0.5, 0.6):
        for head in (20, 50):
            def hybrid(d, b, w=w, head=head):
                top = fuse_scores(d[:head], b[:head], w)
                seen = {cid for cid, _ in top}
                return top + [x for x in fuse([d, b], 60) if x[0] not in seen]
            out[f"convex w={w} depth={head} + rrf tail"] = hybrid
    # the convex ranking over the full depth for the first `head` places, then RRF's order for the rest
    for head in (10, 20, 30, 50):
        def head_tail(d, b, head=head):
            top = fuse_scores(d, b, 0.5)[:head]
            seen = {cid for cid, _ in top}
            return top + [x for x in fuse([d, b], 60) if x[0] not in seen]
        out[f"convex w=0.5 depth=300, top {head} + rrf k=60 after"] = head_tail
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
