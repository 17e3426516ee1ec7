"""Ingestion benchmark on SciFact (5,183 abstracts, one .txt document each).

Prints: chunks, seconds, chunks/s, the embedding model alone on the same chunk texts, their ratio
(target ≤ 1.15), the unchanged re-ingest time (target ≤ 5% of the first), and peak RSS (target ≤ 1.5 GB).
The index is kept in bench-results/scifact-index (git-ignored) for evals/bench_retrieval.py and the BEIR run.

    python -m evals.bench_ingest [--limit N] [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from pathlib import Path

from evals.beir import load_beir, write_corpus_files
from index.corpus import Corpus
from service.config import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
SCIFACT = REPO_ROOT.parent / "shared" / "datasets" / "scifact"
RESULTS = REPO_ROOT / "bench-results"
INDEX_HOME = RESULTS / "scifact-index"  # reused by bench_retrieval (and the BEIR benchmark when it looks there)
DOCS_DIR = RESULTS / "scifact-docs"

TARGET_RATIO = 1.15
TARGET_REINGEST_SHARE = 0.05
TARGET_RSS_MB = 1536


def _status_mb(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (Linux), in MB; None elsewhere."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # kB
    return None


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the parent
    across (v)fork + exec, so a bench started from a big process would report the parent's peak."""
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB there too


def rss_mb() -> float:
    """This process's RSS now (0 where /proc is missing)."""
    return _status_mb("VmRSS") or 0.0


def run(home: Path, docs_dir: Path, limit: int | None = None) -> dict[str, float | int | str]:
    dataset = load_beir(SCIFACT)
    if limit:
        dataset.corpus = dict(list(dataset.corpus.items())[:limit])
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    write_corpus_files(dataset, docs_dir)
    if home.exists():
        shutil.rmtree(home)
    settings = Settings(home=home)
    corpus = Corpus.open(settings)
    corpus.embedder.encode(["warm up the model"])  # model load is a one-off, not ingestion throughput

    started = time.perf_counter()
    report = corpus.ingest([docs_dir])
    ingest_s = time.perf_counter() - started
    chunks = sum(f.chunks for f in report.files if f.outcome == "added")

    # The same chunk texts through the embedding model alone, batched the same way.
    ids = sorted(corpus.all_chunk_ids())
    texts = [c.text for c in corpus.store.get(ids).values()]
    started = time.perf_counter()
    corpus.embedder.encode(texts)
    embed_s = time.perf_counter() - started

    started = time.perf_counter()
    again = corpus.ingest([docs_dir])
    reingest_s = time.perf_counter() - started
    corpus.close()

    return {
        "documents": len(dataset.corpus),
        "added": report.count("added"),
        "failed": report.count("failed"),
        "chunks": chunks,
        "ingest_s": round(ingest_s, 2),
        "chunks_per_s": round(chunks / ingest_s, 1) if ingest_s else 0.0,
        "embed_only_s": round(embed_s, 2),
        "ratio": round(ingest_s / embed_s, 3) if embed_s else 0.0,
        "reingest_unchanged_s": round(reingest_s, 2),
        "reingest_share": round(reingest_s / ingest_s, 4) if ingest_s else 0.0,
        "reingest_unchanged_files": again.count("unchanged"),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "index": str(home),
        "load_average": round(os.getloadavg()[0], 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N abstracts (quick check)")
    parser.add_argument("--home", type=Path, default=INDEX_HOME, help="where to build the index")
    args = parser.parse_args(argv if argv is not None else [])
    figures = run(args.home, DOCS_DIR if args.home == INDEX_HOME else args.home.parent / "docs", args.limit)
    print(f"SciFact ingest: {figures['documents']} documents → {figures['chunks']} chunks ({figures['failed']} failed)")
    print(f"  ingest               {figures['ingest_s']:8.2f} s   {figures['chunks_per_s']:.1f} chunks/s")
    print(f"  embedding only       {figures['embed_only_s']:8.2f} s")
    print(f"  ratio                {figures['ratio']:8.3f}     (target ≤ {TARGET_RATIO})")
    print(
        f"  unchanged re-ingest  {figures['reingest_unchanged_s']:8.2f} s   "
        f"{100 * float(figures['reingest_share']):.1f}% of first (target ≤ {100 * TARGET_REINGEST_SHARE:.0f}%)"
    )
    print(f"  peak RSS             {figures['peak_rss_mb']:8.1f} MB  (target ≤ {TARGET_RSS_MB})")
    print(f"  (machine load average {figures['load_average']} on {os.cpu_count()} cores)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_ingest.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
