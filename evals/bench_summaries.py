"""Summary quality on Multi-News: ROUGE of citewise's corpus summary against the human reference, beside a lead-3
baseline computed in the same run, plus seconds per cluster and citation support.

Each cluster (2–9 news articles about one event) is ingested as its own corpus (a fresh CITEWISE_HOME in a temp
folder), summarized with `summarize(engine)` (overview + bullets; the "Where the sources differ" section quotes
both sides and is scored separately), and compared with the reference (its leading "– " removed). Lead-3 is the
first three sentences of each article, concatenated (Multi-News' "First-3"). One embedded model is shared by all
clusters. Run: `python -m evals.bench_summaries [--limit 50] [--length medium] [--extractive]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from rouge_score import rouge_scorer

from index.embeddings import get_embedder
from service.config import Settings
from service.engine import Engine
from service.llm import LLMClient
from service.pipeline.markers import markers_in, strip_markers
from service.pipeline.sentences import split_sentences
from service.pipeline.verifier import check_support
from service.schemas import Summary

REPO_ROOT = Path(__file__).resolve().parent.parent
DATASET = REPO_ROOT.parent / "shared" / "datasets" / "multinews" / "validation250.jsonl"
METRICS = ("rouge1", "rouge2", "rougeL")


def lead3(documents: list[str]) -> str:
    return " ".join(s.text for doc in documents for s in split_sentences(doc)[:3])


def summary_text(summary: Summary) -> str:
    """The overview and bullets without citation markers (what a reader takes as the summary)."""
    return " ".join(strip_markers(t) for t in [summary.summary, *summary.bullets])


def citation_support(engine: Engine, summary: Summary) -> tuple[int, int, int, int]:
    """(supported sentences, cited sentences, all sentences, verbatim quotes) over summary, bullets and
    differences. As in the eval scorer, a sentence without a citation counts as unsupported."""
    quotes = {c.id: c.quote for c in summary.citations}
    supported = cited_count = total = 0
    for text in [summary.summary, *summary.bullets, *summary.differences]:
        for sentence in split_sentences(text):
            total += 1
            cited = [quotes[n] for n in markers_in(sentence.text) if n in quotes]
            if not cited:
                continue
            cited_count += 1
            supported += check_support(sentence.text, cited, get_embedder()).supported
    verbatim = 0
    for c in summary.citations:
        lines = engine.document_text(c.source).split("\n")[c.start_line - 1 : c.end_line]
        verbatim += c.quote in "\n".join(lines)
    return supported, cited_count, total, verbatim


def run_cluster(cluster: dict, llm: LLMClient | None, length: str, use_model: bool) -> dict:
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
            started = time.perf_counter()
            summary = engine.summarize(length=length, extractive=not use_model)
            summarize_s = time.perf_counter() - started
            supported, cited, sentences, verbatim = citation_support(engine, summary)
        finally:
            engine.close()
    decisions = summary.trace.decisions if summary.trace else []
    return {
        "id": cluster["id"],
        "summary": summary_text(summary),
        "differences": len(summary.differences),
        "ingest_s": ingest_s,
        "summarize_s": summarize_s,
        "supported": supported,
        "cited": cited,
        "sentences": sentences,
        "verbatim": verbatim,
        "citations": len(summary.citations),
        "sources_cited": len({c.source for c in summary.citations}),
        "documents": len(cluster["documents"]),
        "phrased": sum(d.action in ("kept", "reattributed") for d in decisions),
        "extractive": sum(d.action == "extractive" for d in decisions),
    }


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=50, help="clusters to run (from the start of the file)")
    parser.add_argument("--length", default="medium", choices=["short", "medium", "long"])
    parser.add_argument("--extractive", action="store_true", help="skip the model's rewording (selection only)")
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--out", type=Path, help="write per-cluster rows as JSONL here")
    args = parser.parse_args(argv or [])

    clusters = [json.loads(line) for line in args.dataset.read_text(encoding="utf-8").splitlines() if line.strip()]
    clusters = clusters[: args.limit]
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    use_model = not args.extractive
    llm = LLMClient.start(Settings()) if use_model else None
    rows = []
    try:
        for n, cluster in enumerate(clusters, 1):
            reference = cluster["summary"].lstrip("–- ").strip()
            row = run_cluster(cluster, llm, args.length, use_model)
            ours = scorer.score(reference, row["summary"])
            base = scorer.score(reference, lead3(cluster["documents"]))
            for m in METRICS:
                row[f"ours_{m}"] = ours[m].fmeasure
                row[f"lead3_{m}"] = base[m].fmeasure
            row["ours_words"] = len(row["summary"].split())
            rows.append(row)
            print(
                f"  {n:3d}/{len(clusters)} {row['id']}: R1 {row['ours_rouge1']:.3f} (lead-3 {row['lead3_rouge1']:.3f})"
                f"  {row['summarize_s']:.1f} s  support {row['supported']}/{row['sentences']}",
                flush=True,
            )
    finally:
        if llm is not None:
            llm.close()
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    mode = "extractive selection only" if args.extractive else f"with {llm.model_name if llm else 'model'} rewording"
    print(f"\nMulti-News validation, {len(rows)} clusters, length={args.length}, {mode}")
    print("| system | ROUGE-1 F | ROUGE-2 F | ROUGE-L F | words |")
    print("|---|---|---|---|---|")
    print(
        "| citewise corpus summary | "
        + " | ".join(f"{_mean([r[f'ours_{m}'] for r in rows]):.4f}" for m in METRICS)
        + f" | {_mean([r['ours_words'] for r in rows]):.0f} |"
    )
    lead_words = _mean([len(lead3(c["documents"]).split()) for c in clusters])
    print(
        "| lead-3 (first 3 sentences per article) | "
        + " | ".join(f"{_mean([r[f'lead3_{m}'] for r in rows]):.4f}" for m in METRICS)
        + f" | {lead_words:.0f} |"
    )
    cited = sum(r["cited"] for r in rows)
    citations = sum(r["citations"] for r in rows)
    summarize_s = [r["summarize_s"] for r in rows]
    print(f"\nseconds per cluster: summarize mean {_mean(summarize_s):.1f}, p50 {statistics.median(summarize_s):.1f}, "
          f"max {max(summarize_s):.1f}; ingest mean {_mean([r['ingest_s'] for r in rows]):.1f}")
    sentences = sum(r["sentences"] for r in rows)
    print(f"citation support (independent re-check, an uncited sentence counts as unsupported): "
          f"{sum(r['supported'] for r in rows)}/{sentences} sentences "
          f"= {sum(r['supported'] for r in rows) / max(sentences, 1):.3f} ({cited} of them cited); verbatim quotes "
          f"{sum(r['verbatim'] for r in rows)}/{citations}")
    print(f"documents cited: {sum(r['sources_cited'] for r in rows)}/{sum(r['documents'] for r in rows)}; "
          f"clusters with differences: {sum(r['differences'] > 0 for r in rows)}/{len(rows)}; "
          f"model-worded sentences kept {sum(r['phrased'] for r in rows)}, extractive {sum(r['extractive'] for r in rows)}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
