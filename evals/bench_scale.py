"""The scale model: what ingest, one update, a replica's catch-up, search and memory cost as the index grows —
measured on SciFact copies of growing size and projected to 1M chunks from the measured growth.

Indexes of 1/8, 1/4, 1/2 and all of the SciFact index (--home, built by `python -m evals.bench_beir`) are made
by copying documents with their stored vectors (evals/index_copy.py; no re-embedding). Each size is then
measured in a fresh process, so its memory is its own: RSS after opening it and searching, the first search
view of a restarted process (the lexical index checked against every referenced id), one-file add / change /
delete and a reader's catch-up by the journal (bench_update's cycle), 50 new files ingested, hybrid retrieve p50
and the size on disk. Each figure is fitted
by least squares as a + b·chunks and projected to 1M chunks; the table names the figure whose projection
misses its budget first.

    python -m evals.bench_scale [--home DIR] [--fractions 0.125,0.25,0.5,1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evals.bench_beir import INDEX_HOME
from evals.bench_ingest import peak_rss_mb, rss_mb
from evals.bench_update import elapsed, measure
from evals.index_copy import copy_documents
from index.corpus import Corpus
from index.embeddings import MiniLMEmbedder
from service.config import Settings
from service.pipeline.retrieval import retrieve

PROJECT_TO = 1_000_000
NEW_FILES = 50
QUERIES = ["effects of vitamin D on bone density", "gene expression in tumour cells", "antibiotic resistance in hospitals",
           "risk factors for type 2 diabetes", "T cell response to viral infection"]  # fmt: skip
# Budgets at 1M chunks, from the targets of the issues (retrieval p50, update ratio via the empty-index time,
# memory of the machine a user runs it on).
BUDGETS = {
    "retrieve p50 ms": 20.0,
    "rss after search MB": 8192.0,
    "add ms": 1.3,  # × the empty index's
    "follow ms": 20.0,  # a reader's catch-up after one change, within one retrieval's budget
    "first view ms": 60_000.0,
}
REPEATS = 7


def _disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def measure_one(home: Path, scratch: Path) -> dict[str, float]:
    """Everything for one size, in this (fresh) process."""
    figures: dict[str, float] = {}
    embedder = MiniLMEmbedder()
    embedder.encode(["warm up"])
    base_rss = rss_mb()
    reader = Corpus(Settings(home=home), embedder=embedder)
    writer = Corpus(Settings(home=home), embedder=embedder)
    try:
        figures["chunks"] = reader.manifest.chunk_count()
        figures["first view ms"] = elapsed(reader.search_view) * 1000
        times = [elapsed(lambda q=q: retrieve(reader, q, 8)) for q in QUERIES * 3]
        figures["retrieve p50 ms"] = statistics.median(times) * 1000
        figures["rss after search MB"] = rss_mb() - base_rss  # the index's share (the model's excluded)
        update = measure(writer, scratch, REPEATS, reader=reader)  # the same cycle as `make bench BENCH=update`
        figures.update({f"{op} ms": update[key] * 1000 for op, key in
                        (("add", "add"), ("follow", "follow add"), ("change", "change"), ("delete", "delete"))})  # fmt: skip
        batch = scratch / "batch"
        batch.mkdir(exist_ok=True)
        for i in range(NEW_FILES):
            (batch / f"scale-{i}.txt").write_text(f"Field note {i}: the tide gauge at station {i} read {i * 7} cm.\n")
        figures["ingest 50 files s"] = elapsed(lambda: writer.ingest([batch]))
        writer.remove([f"scale-{i}.txt" for i in range(NEW_FILES)])
        figures["peak rss MB"] = peak_rss_mb()
    finally:
        reader.close()
        writer.close()
    figures["disk MB"] = _disk_mb(home)
    return figures


def _fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares a, b of y = a + b·x."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0
    return my - b * mx, b


def build_sizes(home: Path, fractions: list[float], folder: Path) -> list[Path]:
    """A copy of the first fraction of `home`'s documents per fraction (the whole index is used in place)."""
    source = Corpus(Settings(home=home))
    homes = []
    try:
        rows = source.manifest.rows()
        for fraction in fractions:
            if fraction >= 1:
                homes.append(home)
                continue
            target_home = folder / f"size-{fraction}"
            target = Corpus(Settings(home=target_home), embedder=source.embedder)
            try:
                started = time.perf_counter()
                chunks = copy_documents(source, target, rows[: int(len(rows) * fraction)])
                copied = time.perf_counter() - started
                built = elapsed(target.search_view)  # its lexical index, so every size starts up to date
                print(f"  copied {chunks} chunks in {copied:.0f} s, lexical index built in {built:.0f} s", flush=True)
            finally:
                target.close()
            homes.append(target_home)
    finally:
        source.close()
    return homes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=INDEX_HOME, help="a SciFact index (see evals.bench_beir)")
    parser.add_argument("--fractions", default="0.125,0.25,0.5,1")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # internal: measure this home, print JSON
    args = parser.parse_args(argv if argv is not None else [])
    if args.one:
        with tempfile.TemporaryDirectory(prefix="bench-scale-one-") as scratch:
            print(json.dumps(measure_one(args.one, Path(scratch))))
        return
    if not (args.home / "manifest.sqlite3").is_file():
        print(f"no index in {args.home}: build it with `python -m evals.bench_beir --home {args.home}`")
        return
    fractions = sorted(float(f) for f in args.fractions.split(","))
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        homes = build_sizes(args.home, fractions, Path(tmp))
        empty = Path(tmp) / "empty"
        rows = []
        for home in [empty, *homes]:
            done = subprocess.run([sys.executable, "-m", "evals.bench_scale", "--one", str(home)],
                                  capture_output=True, text=True, check=True)  # fmt: skip
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"  measured {int(rows[-1]['chunks'])} chunks", flush=True)
    names = [k for k in rows[0] if k != "chunks"]
    sized = rows[1:]
    print("\n| chunks | " + " | ".join(names) + " |")
    print("|---:|" + "---:|" * len(names))
    for row in rows:
        print(f"| {int(row['chunks'])} | " + " | ".join(f"{row[k]:.1f}" for k in names) + " |")
    print(f"\nprojected to {PROJECT_TO:,} chunks (least squares over the {len(sized)} non-empty sizes):")
    print("| figure | per 100k chunks | at 1M | budget at 1M | verdict |")
    print("|---|---:|---:|---:|---|")
    misses = []
    for name in names:
        a, b = _fit([(row["chunks"], row[name]) for row in sized])
        at = a + b * PROJECT_TO
        budget, verdict = "", ""
        if name in BUDGETS:
            limit = BUDGETS[name] * rows[0][name] if name == "add ms" else BUDGETS[name]
            budget = f"{limit:.1f}"
            verdict = "ok" if at <= limit else "MISSED"
            if at > limit:
                misses.append(((limit - a) / b if b > 0 else 0.0, name))
        print(f"| {name} | {b * 100_000:.2f} | {at:.1f} | {budget} | {verdict} |")
    if misses:
        where, first = min(misses)
        print(f"first to miss its budget: {first}, at about {where:,.0f} chunks")
    else:
        print("no figure misses its budget at 1M chunks by this projection")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main(sys.argv[1:])
