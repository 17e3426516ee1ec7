"""BEIR SciFact retrieval quality: nDCG@10, recall@10/100 and MRR@10 for dense, BM25 and hybrid retrieval.

Prints the table next to the published anchors (BM25 0.679, all-MiniLM-L6-v2 dense 0.645, bge-small 0.713
nDCG@10). Reuses the index of evals/bench_ingest.py in bench-results/scifact-index when it is there (else
builds it). The same run as `CITEWISE_HOME=bench-results/scifact-index citewise eval --beir ../shared/datasets/scifact`.

    python -m evals.bench_beir [--home DIR] [--modes dense,bm25,hybrid]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from evals.beir import MODES, beir_table, run_beir
from service.config import Settings
from service.engine import Engine

REPO_ROOT = Path(__file__).resolve().parent.parent
SCIFACT = REPO_ROOT.parent / "shared" / "datasets" / "scifact"
RESULTS = REPO_ROOT / "bench-results"
INDEX_HOME = RESULTS / "scifact-index"  # built by evals/bench_ingest.py
DOCS_DIR = RESULTS / "scifact-docs"  # the per-abstract .txt files that index was built from


def _print_progress(label: str, done: int, total: int) -> None:
    if done == total or done % 100 == 0:
        print(f"  {label}: {done}/{total}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=INDEX_HOME, help="index folder (reused if it holds SciFact)")
    parser.add_argument("--dataset", type=Path, default=SCIFACT, help="a BEIR folder")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: dense,bm25,hybrid")
    args = parser.parse_args(argv if argv is not None else [])
    modes = [m for m in args.modes.split(",") if m]
    started = time.perf_counter()
    docs_dir = DOCS_DIR if args.home == INDEX_HOME else args.home.parent / f"{args.home.name}-docs"
    with Engine(Settings(home=args.home)) as engine:
        report = run_beir(engine, args.dataset, docs_dir, modes, progress=_print_progress)
    reused = "reused" if not report.ingest_seconds else f"built in {report.ingest_seconds:.0f} s"
    print(f"index: {report.index} ({reused}); total {time.perf_counter() - started:.0f} s")
    print(beir_table(report))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"beir-{report.dataset}.json"
    out.write_text(json.dumps(report.model_dump(mode="json"), indent=2))
    print(f"saved {out.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
