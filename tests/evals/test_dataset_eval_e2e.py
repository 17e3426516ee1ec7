"""`citewise eval --dataset` end to end with the real engine and the real embedded model: a one-article SQuAD 2.0
file (cut in tmp from the shared dev set) and 4 of its questions, answerable and not, give the eval JSON with the
dataset metrics and the HTML report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evals.datasets import load_squad2, select_cases

pytestmark = pytest.mark.slow  # the real embedded model, end to end

REPO = Path(__file__).resolve().parents[2]
SQUAD = REPO.parent / "shared" / "datasets" / "squad2" / "dev_articles_odd.json"


def one_article(tmp_path: Path) -> Path:
    """The first article with only its first 3 paragraphs (real text, kept in tmp: a short ingest)."""
    data = json.loads(SQUAD.read_text(encoding="utf-8"))
    article = data["data"][0]
    small = {"version": data["version"], "data": [{**article, "paragraphs": article["paragraphs"][:3]}]}
    path = tmp_path / "squad-one-article.json"
    path.write_text(json.dumps(small), encoding="utf-8")
    return path


def test_eval_dataset_squad2_json_and_report(tmp_path: Path) -> None:
    path = one_article(tmp_path)
    cases = select_cases(load_squad2(path).cases, "all", 4)
    assert {c.answerable for c in cases} == {True, False}  # the sample holds both kinds
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEWISE_", "OPENAI_"))}
    env["CITEWISE_HOME"] = str(tmp_path / "not-used")  # an explicit home is NOT reused for a dataset
    env["CITEWISE_LLM_TIMEOUT_S"] = "600"
    report = tmp_path / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "eval", "--dataset", "squad2", str(path), "--limit", "4", "--json",
         "--report", str(report)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["dataset"] == "squad2" and result["split"] == "all" and result["limit"] == 4
    assert [q["id"] for q in result["questions"]] == [c.id for c in cases]
    for metric in ("answer_accuracy", "unanswerable_refused", "answerable_refused", "gold_source_cited",
                   "citation_precision", "quote_only", "latency_p50_ms", "latency_p95_ms"):
        assert metric in result["aggregate"], metric
    assert result["aggregate"]["support_recall"] is None  # HotpotQA only
    for question in result["questions"]:
        answer, scores = question["answer"], question["scores"]
        assert answer is not None and question["expected"]["answers"] is not None
        if question["expected"]["answerable"]:
            assert scores["answer_accuracy"] in (0.0, 1.0) and scores["unanswerable_refused"] is None
        else:
            assert scores["unanswerable_refused"] == (1.0 if answer["refused"] else 0.0)
        for citation in answer["citations"]:  # sources are the written article file
            assert citation["source"] == "01_Computational_complexity_theory.txt"
    assert not (tmp_path / "not-used").exists()
    page = report.read_text(encoding="utf-8")
    assert "answer accuracy" in page and "quote-only" in page


def test_eval_dataset_bad_input_is_one_line(tmp_path: Path) -> None:
    for args, message, code in (  # options that do not fit: a usage error (2); a missing file: a failure (1)
        (["--dataset", "nq", "x"], "--dataset nq: use one of realtimeqa, squad2, hotpotqa", 2),
        (["--dataset", "squad2", str(tmp_path / "missing.json")], "no such file or folder", 1),
        (["--dataset", "squad2", str(SQUAD), "--split", "train"], "--split train: use one of dev, test, all", 2),
        ([str(SQUAD), "--limit", "3"], "--limit and --split apply to --dataset runs", 2),
        (["--dataset", "squad2", str(SQUAD), "--limit", "0"], "Invalid value for '--limit'", 2),
    ):
        done = subprocess.run([sys.executable, "-m", "service.cli", "eval", *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == code and message in done.stderr, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
