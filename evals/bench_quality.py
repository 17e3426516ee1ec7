"""`make bench BENCH=quality`: answer quality on the public dev sets and the own suites, one table for all models.

For each model (`--models`, default `tiny`; `tiny` = the embedded default, any other name is passed as
CITEWISE_LLM=<name>, e.g. `quality`) and each dataset — RealTime QA, SQuAD 2.0 and HotpotQA from
../shared/datasets (evals/datasets.py) and the suites evals/suites/news.yaml and examples.yaml (their questions;
summaries are measured by `citewise eval` and the summaries bench) — every selected question is asked through
`Engine.ask` over a temporary index and scored (evals/scorers.py). One table, all rows from one run; each row's
full result is written as `citewise eval --json` JSON to bench-results/quality/<model>-<dataset>.json.

Options (or the environment, for `make bench`): --models / QUALITY_MODELS (comma list), --limit / QUALITY_LIMIT
(a deterministic sample per dataset and suite), --split / QUALITY_SPLIT (dev|test|all, default all),
--datasets / QUALITY_DATASETS (comma list of realtimeqa, squad2, hotpotqa, news, examples), --out.
A model that cannot start here (e.g. `quality` not installed) is skipped with a printed note.

Example: `QUALITY_LIMIT=30 QUALITY_SPLIT=test make bench BENCH=quality`
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from evals.datasets import DATASETS, load_dataset, select_cases
from evals.runner import EvalResult, run_suite
from evals.scorers import default_support_fn
from evals.suite import load_suite
from service.errors import CitewiseError

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "datasets"
DATASET_PATHS = {
    "realtimeqa": SHARED / "realtimeqa",
    "squad2": SHARED / "squad2" / "dev_articles_odd.json",
    "hotpotqa": SHARED / "hotpotqa" / "train100.json",
}
SUITES = {"news": REPO / "evals" / "suites" / "news.yaml", "examples": REPO / "evals" / "suites" / "examples.yaml"}
ALL = (*DATASETS, *SUITES)
DEFAULT_OUT = REPO / "bench-results" / "quality"

# (header, aggregate metric, format); latency in seconds.
COLUMNS = (
    ("acc", "answer_accuracy", "{:.3f}"),
    ("unans_refused", "unanswerable_refused", "{:.3f}"),
    ("ans_refused", "answerable_refused", "{:.3f}"),
    ("gold_cited", "gold_source_cited", "{:.3f}"),
    ("cite_P", "citation_precision", "{:.3f}"),
    ("support_R", "support_recall", "{:.3f}"),
    ("quote_only", "quote_only", "{:.3f}"),
    ("p50_s", "latency_p50_ms", "{:.1f}"),
    ("p95_s", "latency_p95_ms", "{:.1f}"),
)
EXTRA = (("fact_R", "fact_recall", "{:.3f}"), ("refusal_acc", "refusal_accuracy", "{:.3f}"))


def _options(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m evals.bench_quality", description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=env("QUALITY_MODELS", "tiny"), help="comma list: tiny, quality, ...")
    parser.add_argument("--limit", type=int, default=int(env("QUALITY_LIMIT", "0")) or None)
    parser.add_argument("--split", default=env("QUALITY_SPLIT", "all"), choices=("dev", "test", "all"))
    parser.add_argument("--datasets", default=env("QUALITY_DATASETS", ",".join(ALL)))
    parser.add_argument("--out", type=Path, default=Path(env("QUALITY_OUT", str(DEFAULT_OUT))))
    options = parser.parse_args(argv)
    options.models = [m.strip() for m in options.models.split(",") if m.strip()]
    options.datasets = [d.strip() for d in options.datasets.split(",") if d.strip()]
    unknown = [d for d in options.datasets if d not in ALL]
    if unknown:
        parser.error(f"unknown dataset(s) {', '.join(unknown)}; known: {', '.join(ALL)}")
    return options


def model_settings(model: str):  # -> Settings
    """Settings for one model name: `tiny` is the embedded default; others are CITEWISE_LLM=<name>."""
    from service.config import Settings, get_settings

    os.environ.pop("CITEWISE_LLM", None)
    if model != "tiny":
        if "llm" not in Settings.model_fields:
            raise CitewiseError(f"this build has no CITEWISE_LLM setting, so model {model!r} cannot be chosen")
        os.environ["CITEWISE_LLM"] = model
    get_settings.cache_clear()
    try:
        return Settings()
    finally:
        os.environ.pop("CITEWISE_LLM", None)
        get_settings.cache_clear()


def _progress(label: str):
    started = time.perf_counter()

    def report(what: str, done: int, total: int) -> None:
        if what.startswith("asking") and done and done % 10 == 0:
            print(f"   {label}: {done}/{total} asked, {time.perf_counter() - started:.0f} s", flush=True)

    return report


def run_one(engine, name: str, split: str, limit: int | None, support) -> EvalResult:  # engine: Engine

    if name in SUITES:
        suite = load_suite(SUITES[name])
        questions = suite.questions
        if limit is not None or split != "all":
            from evals.datasets import DatasetCase

            ids = {c.id for c in select_cases([DatasetCase(id=q.id, question=q.question) for q in questions], split, limit)}
            questions = [q for q in questions if q.id in ids]
        asked = suite.model_copy(update={"questions": questions, "summaries": []})
        asked._path, asked._docs_dir = suite.path, suite.docs_dir
        engine.ingest([suite.docs_dir])
        result = run_suite(engine, asked, support=support, progress=_progress(name))
        result.split, result.limit, result.dataset = split, limit, name
        return result
    dataset = load_dataset(name, DATASET_PATHS[name])
    cases = select_cases(dataset.cases, split, limit)
    from evals.runner import run_dataset

    folder = dataset.write(engine.settings.home / "dataset-corpus" / dataset.name)
    engine.ingest([folder])
    return run_dataset(engine, dataset, cases, support=support, progress=_progress(name), split=split, limit=limit)


def _cell(value: float | None, metric: str, fmt: str) -> str:
    if value is None:
        return "–"
    return fmt.format(value / 1000 if metric.endswith("_ms") else value)


def table(rows: list[tuple[str, str, EvalResult]]) -> str:
    columns = (*COLUMNS, *EXTRA)
    header = ["model", "dataset", *(c[0] for c in columns), "n"]
    lines = [header]
    for model, name, result in rows:
        lines.append([model, name, *(_cell(result.aggregate.get(m), m, f) for _, m, f in columns), str(len(result.questions))])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |" for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    from service.engine import Engine

    options = _options(argv or [])
    options.out.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores · models {','.join(options.models)} · "
          f"split {options.split} · limit {options.limit or 'none'} · {','.join(options.datasets)}", flush=True)
    support = default_support_fn()
    rows: list[tuple[str, str, EvalResult]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="citewise-bench-quality-") as root:
        homes = {name: Path(root) / name for name in options.datasets}  # one index per dataset, shared by models
        for model in options.models:
            try:
                base = model_settings(model)
            except CitewiseError as e:
                print(f"note: skipping model {model}: {e}", flush=True)
                continue
            for name in options.datasets:
                t = time.perf_counter()
                with Engine(base.model_copy(update={"home": homes[name]})) as engine:
                    try:
                        engine.llm.check()
                    except CitewiseError as e:  # the model does not start here: its other rows would fail alike
                        print(f"note: skipping model {model}: {e}", flush=True)
                        break
                    try:
                        result = run_one(engine, name, options.split, options.limit, support)
                    except CitewiseError as e:
                        print(f"!! {model} / {name} failed: {e}", flush=True)
                        continue
                rows.append((model, name, result))
                path = options.out / f"{model}-{name}.json"
                path.write_text(json.dumps(result.model_dump(mode="json"), ensure_ascii=False), encoding="utf-8")
                print(f"== {model} / {name}: {len(result.questions)} questions in {time.perf_counter() - t:.0f} s "
                      f"(load {os.getloadavg()[0]:.1f}) → {path}", flush=True)
    text = table(rows)
    (options.out / "table.md").write_text(text + "\n", encoding="utf-8")
    print(f"\nanswer quality ({options.split} split, limit {options.limit or 'none'}; "
          f"{time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(text)
    print("acc: gold answer contained (SQuAD normalisation) / suites: all facts found · ans_refused, quote_only: "
          "lower is better · support_R: HotpotQA gold paragraphs cited · p50/p95 in seconds")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
