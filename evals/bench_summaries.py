"""Summary quality on Multi-News: ROUGE of citewise's corpus summary against the human reference, beside a lead-3
and a LexRank baseline computed in the same run, plus seconds per cluster and citation support.

Each cluster (2–9 news articles about one event) is ingested as its own corpus (a fresh CITEWISE_HOME in a temp
folder), summarized with `summarize(engine)` (overview + bullets; the "Where the sources differ" section quotes
both sides and is scored separately), and compared with the reference (its leading "– " removed). Lead-3 is the
first three sentences of each article, concatenated (Multi-News' "First-3"). One embedded model is shared by all
clusters. Selection only (the quoted sentences citewise picks, no model) and the model-worded summary come from
the same ingest of each cluster. Run: `python -m evals.bench_summaries [--limit 100] [--length medium]
[--extractive]` (or `make bench BENCH=summaries`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from rouge_score import rouge_scorer

from index.embeddings import get_embedder
from service.config import Settings
from service.engine import Engine
from service.llm import LLMClient
from service.pipeline.markers import markers_in, strip_markers
from service.pipeline.sentences import split_sentences
from service.pipeline.terms import content_terms
from service.pipeline.verifier import check_support
from service.schemas import Summary

REPO_ROOT = Path(__file__).resolve().parent.parent
DATASET = REPO_ROOT.parent / "shared" / "datasets" / "multinews" / "validation250.jsonl"
METRICS = ("rouge1", "rouge2", "rougeL")


def lead3(documents: list[str]) -> str:
    return " ".join(s.text for doc in documents for s in split_sentences(doc)[:3])


def lexrank(documents: list[str], words_budget: int, threshold: float = 0.1, damping: float = 0.85) -> str:
    """LexRank (Erkan & Radev 2004): sentences as TF-IDF vectors, an edge where cosine ≥ `threshold`, PageRank
    over that graph; the most central sentences, in that order, until `words_budget` words. Hand-written (30
    lines of numpy): the packaged implementations (sumy) need NLTK data downloaded at run time."""
    sentences = [s.text for doc in documents for s in split_sentences(doc)]
    terms = [content_terms(s) for s in sentences]
    vocabulary = {t: i for i, t in enumerate(sorted(set().union(*terms)))} if terms else {}
    if not sentences or not vocabulary:
        return ""
    tf = np.zeros((len(sentences), len(vocabulary)), dtype=np.float32)
    for row, ts in enumerate(terms):
        for t in ts:
            tf[row, vocabulary[t]] = 1.0
    idf = np.log(len(sentences) / (1.0 + (tf > 0).sum(axis=0)))
    vectors = tf * idf
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    adjacency = ((vectors @ vectors.T) >= threshold).astype(np.float32)
    adjacency /= np.maximum(adjacency.sum(axis=1, keepdims=True), 1.0)
    rank = np.full(len(sentences), 1.0 / len(sentences), dtype=np.float32)
    for _ in range(50):
        rank = (1 - damping) / len(sentences) + damping * adjacency.T @ rank
    picked: list[str] = []
    for i in np.argsort(-rank):
        if sum(len(p.split()) for p in picked) >= words_budget:
            break
        picked.append(sentences[i])
    return " ".join(picked)


def summary_text(summary: Summary) -> str:
    """The overview and bullets without citation markers (what a reader takes as the summary)."""
    return " ".join(strip_markers(t) for t in [summary.summary, *summary.bullets])


def citation_support(engine: Engine, summary: Summary, unsupported: list[str] | None = None) -> tuple[int, int, int, int]:
    """(supported sentences, cited sentences, all sentences, verbatim quotes) over summary, bullets and
    differences. As in the eval scorer, a sentence without a citation counts as unsupported (and is appended to
    `unsupported`, when given, for reading by hand)."""
    quotes = {c.id: c.quote for c in summary.citations}
    supported = cited_count = total = 0
    for text in [summary.summary, *summary.bullets, *summary.differences]:
        for sentence in split_sentences(text):
            total += 1
            cited = [quotes[n] for n in markers_in(sentence.text) if n in quotes]
            ok = bool(cited) and check_support(sentence.text, cited, get_embedder()).supported
            cited_count += bool(cited)
            supported += ok
            if not ok and unsupported is not None:
                unsupported.append(f"{sentence.text}  <=  {' | '.join(cited)}")
    verbatim = 0
    for c in summary.citations:
        lines = engine.document_text(c.source).split("\n")[c.start_line - 1 : c.end_line]
        verbatim += c.quote in "\n".join(lines)
    return supported, cited_count, total, verbatim


def _summary_row(engine: Engine, summary: Summary, seconds: float) -> dict:
    unsupported: list[str] = []
    supported, cited, sentences, verbatim = citation_support(engine, summary, unsupported)
    decisions = summary.trace.decisions if summary.trace else []
    return {
        "summary": summary_text(summary),
        "differences": len(summary.differences),
        "summarize_s": seconds,
        "supported": supported,
        "cited": cited,
        "sentences": sentences,
        "verbatim": verbatim,
        "citations": len(summary.citations),
        "unsupported": unsupported,
        "sources_cited": len({c.source for c in summary.citations}),
        "phrased": sum(d.action in ("kept", "reattributed") for d in decisions),
        "extractive": sum(d.action == "extractive" for d in decisions),
    }


def run_cluster(cluster: dict, llm: LLMClient | None, length: str) -> dict[str, dict]:
    """One cluster ingested once, summarized by selection only and (with `llm`) with the model's wording."""
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="citewise-bench-") as tmp:
        docs_dir = Path(tmp) / "docs"
        docs_dir.mkdir()
        for i, text in enumerate(cluster["documents"]):
            (docs_dir / f"article_{i}.txt").write_text(text, encoding="utf-8")
        engine = Engine(Settings(home=Path(tmp) / "home"), llm=llm)  # one model for every cluster, closed by main()
        try:
            started = time.perf_counter()
            engine.ingest([docs_dir])
            ingest_s = time.perf_counter() - started
            worded = llm is not None and engine.summary_profile().synthesis  # the tiny profile quotes
            for system, extractive in (("selection", True), ("model", False)):
                if not extractive and not worded:
                    continue
                started = time.perf_counter()
                summary = engine.summarize(length=length, extractive=extractive)
                rows[system] = _summary_row(engine, summary, time.perf_counter() - started)
                rows[system].update(id=cluster["id"], ingest_s=ingest_s, documents=len(cluster["documents"]))
        finally:
            engine.close()
    return rows


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def _table_row(name: str, rows: list[dict], prefix: str, words: float) -> str:
    return f"| {name} | " + " | ".join(f"{_mean([r[f'{prefix}_{m}'] for r in rows]):.4f}" for m in METRICS) + f" | {words:.0f} |"


def paired_margin(ours: list[float], theirs: list[float], resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean per-cluster difference ours − theirs and its 95% bootstrap interval (clusters resampled, fixed seed).
    Selection is deterministic, so the spread that matters is which clusters were drawn, not run to run."""
    diff = np.asarray(ours, dtype=np.float64) - np.asarray(theirs, dtype=np.float64)
    if not len(diff):
        return 0.0, 0.0, 0.0
    draws = np.random.default_rng(seed).integers(0, len(diff), size=(resamples, len(diff)))
    means = diff[draws].mean(axis=1)
    return float(diff.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def _margins(name: str, rows: list[dict]) -> None:
    for baseline, label in (("lexrank", "LexRank at the same length"), ("lead3", "lead-3")):
        parts = []
        for m in METRICS:
            mean, lo, hi = paired_margin([r[f"ours_{m}"] for r in rows], [r[f"{baseline}_{m}"] for r in rows])
            parts.append(f"{m} {mean:+.4f} [{lo:+.4f}, {hi:+.4f}]")
        print(f"  {name} − {label}, per cluster, 95% bootstrap interval: " + "; ".join(parts))


def _report(system: str, rows: list[dict]) -> None:
    cited = sum(r["cited"] for r in rows)
    citations = sum(r["citations"] for r in rows)
    seconds = [r["summarize_s"] for r in rows]
    sentences = sum(r["sentences"] for r in rows)
    print(f"\n{system}: seconds per cluster mean {_mean(seconds):.1f}, p50 {statistics.median(seconds):.1f}, "
          f"max {max(seconds):.1f} (ingest mean {_mean([r['ingest_s'] for r in rows]):.1f})")
    print(f"  citation support (independent re-check, an uncited sentence counts as unsupported): "
          f"{sum(r['supported'] for r in rows)}/{sentences} = {sum(r['supported'] for r in rows) / max(sentences, 1):.3f} "
          f"({cited} cited); verbatim quotes {sum(r['verbatim'] for r in rows)}/{citations}")
    print(f"  documents cited {sum(r['sources_cited'] for r in rows)}/{sum(r['documents'] for r in rows)}; "
          f"clusters with differences {sum(r['differences'] > 0 for r in rows)}/{len(rows)}; "
          f"model-worded sentences kept {sum(r['phrased'] for r in rows)}, extractive {sum(r['extractive'] for r in rows)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=100, help="clusters to run")
    parser.add_argument("--start", type=int, default=0,
                        help="first cluster (0: the report set; tune on clusters 100 and up, report on 0–99)")
    parser.add_argument("--length", default="medium", choices=["short", "medium", "long"])
    parser.add_argument("--extractive", action="store_true", help="selection only: skip the model's wording")
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--out", type=Path, help="write per-cluster rows as JSONL here")
    args = parser.parse_args(argv or [])

    clusters = [json.loads(line) for line in args.dataset.read_text(encoding="utf-8").splitlines() if line.strip()]
    clusters = clusters[args.start : args.start + args.limit]
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    settings = Settings()
    worded = not args.extractive and Engine(settings).summary_profile().synthesis
    if not args.extractive and not worded:
        print(f"profile {settings.llm_profile or 'tiny'}: summaries quote (no model wording); "
              "CITEWISE_LLM_PROFILE=small words them with the same model")
    llm = LLMClient.start(settings) if worded else None
    systems = ["selection"] + (["model"] if worded else [])
    rows: dict[str, list[dict]] = {s: [] for s in systems}
    try:
        for n, cluster in enumerate(clusters, 1):
            reference = cluster["summary"].lstrip("–- ").strip()
            base = scorer.score(reference, lead3(cluster["documents"]))
            for system, row in run_cluster(cluster, llm, args.length).items():
                ours = scorer.score(reference, row["summary"])
                ranked = scorer.score(reference, lexrank(cluster["documents"], len(row["summary"].split())))
                for m in METRICS:
                    row[f"ours_{m}"] = ours[m].fmeasure
                    row[f"lead3_{m}"] = base[m].fmeasure
                    row[f"lexrank_{m}"] = ranked[m].fmeasure
                row["ours_words"] = len(row["summary"].split())
                rows[system].append(row)
            line = "  ".join(f"{s} R1 {rows[s][-1]['ours_rouge1']:.3f} {rows[s][-1]['summarize_s']:.1f} s" for s in systems)
            print(f"  {n:3d}/{len(clusters)} {cluster['id']}: {line}  (lead-3 {base['rouge1'].fmeasure:.3f})", flush=True)
    finally:
        model_name = llm.model_name if llm is not None else None
        if llm is not None:
            llm.close()
    if args.out:
        args.out.write_text("".join(json.dumps({"system": s, **r}) + "\n" for s in systems for r in rows[s]),
                            encoding="utf-8")

    print(f"\nMulti-News validation, {len(clusters)} clusters, length={args.length}")
    print("| system | ROUGE-1 F | ROUGE-2 F | ROUGE-L F | words |")
    print("|---|---|---|---|---|")
    names = {"selection": "citewise, selection only (quoted sentences)", "model": f"citewise, worded by {model_name}"}
    for system in systems:
        print(_table_row(names[system], rows[system], "ours", _mean([r["ours_words"] for r in rows[system]])))
    lead_words = _mean([len(lead3(c["documents"]).split()) for c in clusters])
    print(_table_row("lead-3 (first 3 sentences per article)", rows["selection"], "lead3", lead_words))
    print(_table_row("LexRank, as many words as the selection", rows["selection"], "lexrank",
                     _mean([r["ours_words"] for r in rows["selection"]])))
    print()
    for system in systems:
        _margins(system, rows[system])
    for system in systems:
        _report(names[system], rows[system])


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
