"""One-file updates on a large index vs an empty one: add, change and delete a 60-byte Markdown file.

Target: each operation on the 15k-chunk SciFact index takes ≤ 1.3× the same operation on an empty index
(the lexical index applies only the change: index/lexical.py). Also prints the one-off cost of building the
lexical index from an existing index (e.g. one built before it existed) and peak RSS.

The SciFact index is reused from --home (build it once: `python -m evals.bench_beir --home DIR`); the file is
removed again at the end, so the index is left as it was.

    python -m evals.bench_update [--home DIR] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from evals.bench_beir import INDEX_HOME
from evals.bench_ingest import peak_rss_mb
from index.corpus import Corpus
from service.config import Settings

TARGET_RATIO = 1.3
NOTE = "# Harbour notes\n\nThe harbour bell was recast in {year}.\n"  # about 60 bytes


def _time(step: object) -> float:
    started = time.perf_counter()
    step()  # type: ignore[operator]
    return time.perf_counter() - started


def scan_costs(corpus: Corpus) -> dict[str, float]:
    """Seconds of the reads every update still makes over the whole index (ids, not texts)."""
    from service.pipeline.retrieval import retrieve

    costs = {
        "Chroma: all chunk ids (orphan sweep)": _time(corpus.store.all_ids),
        "manifest: all rows (snapshot)": _time(corpus.manifest.rows),
        "lexical index: all ids (delta)": _time(corpus.lexical.ids),
    }
    queries = ["effects of vitamin D on bone density", "gene expression in tumour cells", "antibiotic resistance"]
    lexical = [_time(lambda q=q: corpus.search_view().bm25.search(q, 100)) for q in queries * 3]
    hybrid = [_time(lambda q=q: retrieve(corpus, q, 8)) for q in queries * 3]
    costs["lexical search p50 (k=100)"] = statistics.median(lexical)
    costs["hybrid retrieve p50 (k=8)"] = statistics.median(hybrid)
    return costs


def measure(home: Path, folder: Path, repeats: int) -> dict[str, float]:
    """Median seconds of add / change / delete of one small file, through one open Corpus."""
    corpus = Corpus.open(Settings(home=home))
    try:
        corpus.search_view()  # the reader's view (and the lexical index) brought up to date first
        times: dict[str, list[float]] = {"add": [], "change": [], "delete": []}
        path = folder / "bench-update-note.md"
        for i in range(repeats):
            path.write_text(NOTE.format(year=1954 + i))
            times["add"].append(_time(lambda: corpus.ingest([path])))
            path.write_text(NOTE.format(year=1887 + i))
            times["change"].append(_time(lambda: corpus.ingest([path])))
            times["delete"].append(_time(lambda: corpus.remove([path.name])))
            corpus.search_view()
        return {op: statistics.median(values) for op, values in times.items()}
    finally:
        corpus.close()


def chroma_alone(home: Path, repeats: int) -> dict[str, float]:
    """Median seconds of Chroma's own upsert and delete of one vector (a bench-probe id, deleted again; a killed run's leftover is an orphan the next write sweeps): the part of an update no index of
    ours can make independent of the collection's size (its HNSW graph and SQLite tables)."""
    import numpy as np

    from index.embeddings import DIMENSIONS

    corpus = Corpus.open(Settings(home=home))
    try:
        collection = corpus.store.collection
        vector = np.random.default_rng(0).standard_normal(DIMENSIONS).astype(np.float32)
        vector /= np.linalg.norm(vector)
        times: dict[str, list[float]] = {"upsert": [], "delete": []}
        for i in range(repeats):
            times["upsert"].append(_time(lambda i=i: collection.upsert(
                ids=[f"bench-probe-{i}"], embeddings=[vector.tolist()], documents=["probe"], metadatas=[{"source": "probe"}])))
            times["delete"].append(_time(lambda i=i: collection.delete(ids=[f"bench-probe-{i}"])))
        return {op: statistics.median(values) for op, values in times.items()}
    finally:
        corpus.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=INDEX_HOME, help="a SciFact index (see evals.bench_beir)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv if argv is not None else [])
    if not (args.home / "manifest.sqlite3").is_file():
        print(f"no index in {args.home}: build it with `python -m evals.bench_beir --home {args.home}`")
        return
    with tempfile.TemporaryDirectory(prefix="bench-update-") as tmp:
        folder = Path(tmp)
        corpus = Corpus.open(Settings(home=args.home))
        try:
            fresh = corpus.lexical.generation() != corpus.manifest.generation()
            build = _time(corpus.search_view)
            chunks = len(corpus.search_view().valid_ids)
            parts = scan_costs(corpus)
        finally:
            corpus.close()
        print("per-update costs that still grow with the index (scale model):")
        for name, seconds in parts.items():
            print(f"  {name}: {seconds * 1000:.0f} ms")
        if fresh:
            print(f"lexical index built from the existing {chunks} chunks in {build:.1f} s (one-off)")
        large = measure(args.home, folder, args.repeats)
        empty = measure(folder / "empty-home", folder, args.repeats)
        chroma_large = chroma_alone(args.home, args.repeats)
        chroma_empty = chroma_alone(folder / "empty-home", args.repeats)
    print(f"\none-file update, median of {args.repeats}: {chunks}-chunk index vs empty index")
    print("| operation | large ms | empty ms | ratio | target |")
    print("|---|---:|---:|---:|---:|")
    for op in ("add", "change", "delete"):
        ratio = large[op] / empty[op] if empty[op] else float("inf")
        print(f"| {op} | {large[op] * 1000:.1f} | {empty[op] * 1000:.1f} | {ratio:.2f} | ≤ {TARGET_RATIO} {'ok' if ratio <= TARGET_RATIO else 'MISSED'} |")
    for op in ("upsert", "delete"):
        print(f"| Chroma alone: one-vector {op} | {chroma_large[op] * 1000:.1f} | {chroma_empty[op] * 1000:.1f} "
              f"| {chroma_large[op] / chroma_empty[op]:.2f} | |")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
