"""BEIR evaluation end to end on a small slice of SciFact: real ingestion, real embeddings, real BM25."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evals.beir import MODES, load_beir, run_beir
from service.config import Settings
from service.engine import Engine

REPO = Path(__file__).resolve().parents[2]
SCIFACT = REPO.parent / "shared" / "datasets" / "scifact"


@pytest.fixture(scope="module")
def mini_beir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 queries, their relevant abstracts, and 150 distractor abstracts, in BEIR layout."""
    data = load_beir(SCIFACT)
    queries = list(data.queries)[:30]
    relevant = {doc for q in queries for doc in data.qrels[q]}
    distractors = [doc for doc in data.corpus if doc not in relevant][:150]
    folder = tmp_path_factory.mktemp("mini-scifact")
    (folder / "qrels").mkdir()
    with (folder / "corpus.jsonl").open("w") as f:
        for doc in [*relevant, *distractors]:
            title, _, text = data.corpus[doc].partition("\n\n")
            f.write(json.dumps({"_id": doc, "title": title, "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w") as f:
        for q in queries:
            f.write(json.dumps({"_id": q, "text": data.queries[q]}) + "\n")
    with (folder / "qrels" / "test.tsv").open("w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for q in queries:
            for doc, rel in data.qrels[q].items():
                f.write(f"{q}\t{doc}\t{rel}\n")
    return folder


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("beir-home")


def test_run_beir_scores_all_three_modes_and_reuses_the_index(mini_beir: Path, home: Path, tmp_path: Path) -> None:
    with Engine(Settings(home=home)) as engine:
        report = run_beir(engine, mini_beir, tmp_path / "docs")
        assert report.ingest_seconds and report.ingest_seconds > 0
        assert [r.mode for r in report.rows] == list(MODES)
        assert report.documents == len(engine.list_documents())
        for row in report.rows:
            assert row.queries == 30
            # With 180 documents, every retriever should find most relevant abstracts.
            assert 0.5 < row.ndcg_at_10 <= 1.0, row
            assert row.recall_at_10 <= row.recall_at_100 <= 1.0
            assert row.recall_at_100 > 0.9, row
        again = run_beir(engine, mini_beir, tmp_path / "docs", modes=["bm25"])
        assert again.ingest_seconds == 0.0 and again.rows[0].ndcg_at_10 == report.rows[1].ndcg_at_10


def test_cli_eval_beir_reuses_an_explicit_home_and_prints_json(mini_beir: Path, home: Path, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CITEWISE_HOME": str(home)}
    report = tmp_path / "beir.html"
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "eval", "--beir", str(mini_beir), "--json", "--report", str(report)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert [r["mode"] for r in payload["beir"]["rows"]] == ["dense", "bm25", "hybrid"]
    assert all(0.0 <= r["ndcg_at_10"] <= 1.0 for r in payload["beir"]["rows"])
    page = report.read_text()
    assert '<table class="beir">' in page and "hybrid" in page
    assert payload["beir"]["ingest_seconds"] == 0.0  # the index in CITEWISE_HOME was reused, not rebuilt
