"""`make bench`: every benchmark script, one after another, each printing its own figures.

Benchmarks measure speed, memory and quality on public datasets in ../shared/datasets; they are not tests.
Run one alone with `python -m evals.bench NAME` (names below).
"""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = [
    ("ingest", "evals.bench_ingest"),  # SciFact ingest: chunks/s vs embedding-only, re-ingest, peak RSS
    ("retrieval", "evals.bench_retrieval"),  # retrieval latency p50/p95 on the SciFact index
    ("update", "evals.bench_update"),  # one-file add / change / delete on the SciFact index vs an empty one
    ("scale", "evals.bench_scale"),  # ingest / update / catch-up / search / memory at growing sizes, projected to 1M
    ("beir", "evals.bench_beir"),  # nDCG@10 etc. for dense / BM25 / hybrid on SciFact
    ("answers", "evals.bench_answers"),  # ask latency and first-token time with the embedded model
    ("summaries", "evals.bench_summaries"),  # Multi-News ROUGE vs lead-3
    ("load", "evals.bench_load"),  # HTTP load on loopback
    ("quality", "evals.bench_quality"),  # answer quality on RealTime QA, SQuAD 2, HotpotQA and the own suites
    ("cli", "evals.bench_cli"),  # CLI command times beside `python -c pass`, in-process and via CITEWISE_URL
]


def main(argv: list[str]) -> int:
    wanted = set(argv) or {name for name, _ in BENCHMARKS}
    failed = []
    for name, module_name in BENCHMARKS:
        if name not in wanted:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name == module_name:
                print(f"== {name}: not available yet ({module_name})\n", flush=True)
                continue
            raise
        print(f"== {name} ({module_name})", flush=True)
        started = time.perf_counter()
        try:
            module.main()
        except Exception as e:  # one broken benchmark should not hide the others' figures
            failed.append(name)
            print(f"!! {name} failed: {type(e).__name__}: {e}", flush=True)
        print(f"== {name} took {time.perf_counter() - started:.1f} s\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
