"""BEIR-style retrieval evaluation: nDCG@10, recall@10, recall@100 and MRR@10 for dense, BM25 and hybrid retrieval.

A BEIR folder holds corpus.jsonl ({_id, title, text}), queries.jsonl ({_id, text}) and qrels/test.tsv
(query-id, corpus-id, score). Each corpus record becomes one document whose source is `<_id>.txt`; retrieval
ranks chunks, which are mapped back to document ids (a document ranks where its best chunk ranks).
Metrics follow the standard (pytrec_eval / BEIR) definitions: linear gain, log2 discount, binary relevance for
recall and MRR (qrels score > 0).
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from pydantic import BaseModel, Field

from service.errors import InvalidInput

if TYPE_CHECKING:
    from service.engine import Engine
    from service.pipeline.retrieval import Mode

MODES = ("dense", "bm25", "hybrid")
CHUNKS_PER_QUERY = 300  # chunks retrieved per query, enough to rank 100 distinct documents
ProgressCallback = Callable[[str, int, int], None]

# Published SciFact nDCG@10 figures, for comparison in reports.
SCIFACT_ANCHORS = {
    "BM25 (BEIR paper)": 0.679,
    "all-MiniLM-L6-v2 dense (MTEB)": 0.645,
    "bge-small-en-v1.5 dense (MTEB)": 0.713,
}


class BeirDataset(BaseModel):
    name: str
    corpus: dict[str, str]  # doc id → title + text
    queries: dict[str, str]  # query id → text (only queries with qrels)
    qrels: dict[str, dict[str, int]]  # query id → {doc id: relevance}


class ModeScores(BaseModel):
    mode: str
    ndcg_at_10: float
    recall_at_10: float
    recall_at_100: float
    mrr_at_10: float
    queries: int
    latency_p50_ms: float
    seconds: float


class BeirReport(BaseModel):
    dataset: str
    documents: int
    queries: int
    rows: list[ModeScores] = Field(default_factory=list)
    anchors: dict[str, float] = Field(default_factory=dict)
    index: str | None = None
    ingest_seconds: float | None = None


# --- reading a BEIR folder ------------------------------------------------------------------------


def _read_jsonl(path: Path) -> Iterable[dict]:
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    raise InvalidInput(f"{path}:{number}: invalid JSON ({e.msg})") from None


def load_beir(folder: Path, split: str = "test") -> BeirDataset:
    """Read a BEIR dataset folder; raises InvalidInput naming the missing or broken file."""
    folder = Path(folder)
    corpus_path, queries_path, qrels_path = folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"
    for path in (corpus_path, queries_path, qrels_path):
        if not path.is_file():
            raise InvalidInput(f"{folder} is not a BEIR folder: {path.relative_to(folder)} is missing")
    corpus = {}
    for record in _read_jsonl(corpus_path):
        title, text = (record.get("title") or "").strip(), (record.get("text") or "").strip()
        corpus[str(record["_id"])] = f"{title}\n\n{text}" if title else text
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            parts = line.rstrip("\n").split("\t")
            if number == 1 and parts[0] == "query-id" or not line.strip():
                continue
            if len(parts) != 3:
                raise InvalidInput(f"{qrels_path}:{number}: expected query-id<TAB>corpus-id<TAB>score")
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    queries = {str(r["_id"]): r["text"] for r in _read_jsonl(queries_path) if str(r["_id"]) in qrels}
    return BeirDataset(name=folder.name, corpus=corpus, queries=queries, qrels=qrels)


# --- metrics --------------------------------------------------------------------------------------


def ndcg_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(ranked[:k], start=1))
    ideal = sorted((r for r in relevant.values() if r > 0), reverse=True)[:k]
    idcg = sum(rel / math.log2(rank + 1) for rank, rel in enumerate(ideal, start=1))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], relevant: dict[str, int], k: int) -> float:
    wanted = {doc for doc, rel in relevant.items() if rel > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def doc_id_of(source: str) -> str:
    """`<_id>.txt` (or a nested path to it) → `_id`."""
    name = source.rsplit("/", 1)[-1]
    return name[: -len(".txt")] if name.endswith(".txt") else name


def rank_documents(chunk_sources: Iterable[str]) -> list[str]:
    """Documents in the order of their best chunk."""
    seen: dict[str, None] = {}
    for source in chunk_sources:
        seen.setdefault(doc_id_of(source), None)
    return list(seen)


# --- indexing and running -------------------------------------------------------------------------


def write_corpus_files(dataset: BeirDataset, folder: Path) -> Path:
    """One `<_id>.txt` per corpus record (unchanged files are left alone, so re-ingesting is a no-op)."""
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, text in dataset.corpus.items():
        path = folder / f"{doc_id}.txt"
        data = text + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != data:
            path.write_text(data, encoding="utf-8")
    return folder


def ensure_indexed(engine: Engine, dataset: BeirDataset, files_dir: Path, progress: ProgressCallback | None = None) -> float:
    """Ingest the corpus unless the engine's index already holds it (e.g. a prebuilt benchmark index).

    Returns the seconds spent ingesting (0 when reused).
    """
    indexed = {doc_id_of(d.source) for d in engine.list_documents()}
    if len(indexed & set(dataset.corpus)) >= 0.99 * len(dataset.corpus):
        return 0.0
    write_corpus_files(dataset, files_dir)
    started = time.perf_counter()
    report = engine.ingest([files_dir], progress=progress)
    if report.failed_paths:
        raise InvalidInput(f"could not ingest the BEIR corpus: {', '.join(report.failed_paths)}")
    return time.perf_counter() - started


def evaluate_mode(
    engine: Engine, dataset: BeirDataset, mode: Mode, progress: ProgressCallback | None = None
) -> ModeScores:
    from service.pipeline.retrieval import retrieve

    per_query: dict[str, list[float]] = {"ndcg": [], "r10": [], "r100": [], "mrr": []}
    latencies: list[float] = []
    started = time.perf_counter()
    total = len(dataset.queries)
    for done, (qid, text) in enumerate(dataset.queries.items()):
        if progress and done % 10 == 0:
            progress(f"BEIR {mode}", done, total)
        t0 = time.perf_counter()
        hits = retrieve(engine.corpus, text, CHUNKS_PER_QUERY, mode)
        latencies.append((time.perf_counter() - t0) * 1000)
        ranked = rank_documents([h.source for h in hits])
        relevant = dataset.qrels[qid]
        per_query["ndcg"].append(ndcg_at(ranked, relevant, 10))
        per_query["r10"].append(recall_at(ranked, relevant, 10))
        per_query["r100"].append(recall_at(ranked, relevant, 100))
        per_query["mrr"].append(mrr_at(ranked, relevant, 10))
    if progress:
        progress(f"BEIR {mode}", total, total)
    mean = lambda xs: statistics.fmean(xs) if xs else 0.0  # noqa: E731
    return ModeScores(
        mode=mode, ndcg_at_10=mean(per_query["ndcg"]), recall_at_10=mean(per_query["r10"]),
        recall_at_100=mean(per_query["r100"]), mrr_at_10=mean(per_query["mrr"]), queries=total,
        latency_p50_ms=statistics.median(latencies) if latencies else 0.0, seconds=time.perf_counter() - started,
    )


def run_beir(
    engine: Engine, folder: Path, files_dir: Path, modes: Sequence[str] = MODES, progress: ProgressCallback | None = None,
) -> BeirReport:
    """Index the BEIR corpus in `engine` (unless already there) and score every retrieval mode in one run.

    `files_dir`: where the per-document .txt files are written for ingestion (keep it stable to reuse an index).
    """
    unknown = [m for m in modes if m not in MODES]
    if unknown:  # before the index is built
        raise InvalidInput(f"unknown retrieval mode {unknown[0]!r}: use {', '.join(MODES)}")
    dataset = load_beir(folder)
    ingest_seconds = ensure_indexed(engine, dataset, files_dir, progress)
    report = BeirReport(
        dataset=dataset.name, documents=len(dataset.corpus), queries=len(dataset.queries),
        anchors=SCIFACT_ANCHORS if dataset.name.lower() == "scifact" else {},
        index=str(engine.settings.home), ingest_seconds=ingest_seconds,
    )
    for mode in modes:
        report.rows.append(evaluate_mode(engine, dataset, cast("Mode", mode), progress))
    return report


def beir_table(report: BeirReport) -> str:
    """A Markdown table of the modes, then the published anchors."""
    lines = [
        f"BEIR {report.dataset}: {report.documents} documents, {report.queries} queries",
        "",
        "| retrieval | nDCG@10 | recall@10 | recall@100 | MRR@10 | p50 ms/query |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in report.rows:
        lines.append(
            f"| {row.mode} | {row.ndcg_at_10:.3f} | {row.recall_at_10:.3f} | {row.recall_at_100:.3f} "
            f"| {row.mrr_at_10:.3f} | {row.latency_p50_ms:.0f} |"
        )
    for name, value in report.anchors.items():
        lines.append(f"| published: {name} | {value:.3f} | | | | |")
    return "\n".join(lines)
