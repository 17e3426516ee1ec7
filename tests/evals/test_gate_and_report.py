"""Thresholds, baseline regressions and report files, on hand-made results (no model needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evals.report import console_summary, html_report, markdown_report, write_report
from evals.runner import (
    EvalResult,
    QuestionResult,
    check_thresholds,
    compare,
    gate,
    load_result,
    rescore,
)
from evals.scorers import Expectation
from service.errors import CitewiseError, InvalidInput
from service.schemas import Answer, Citation, SearchHit, Trace

B = "001_846b2a5c2ae0efae.txt"
QUOTE = "the Ottawa Treaty, an international agreement banning anti-personnel mines—a treaty the U.S. has not signed"


def make_result(fact_recall: float = 0.9, refusal: float = 1.0, p95: float = 4000.0, thresholds=None) -> EvalResult:
    answer = Answer(
        answer="The U.S. has not signed the Ottawa Treaty [1].",
        refused=False,
        citations=[Citation(id=1, source=B, start_line=5, end_line=5, quote=QUOTE)],
        trace=Trace(retrieved=[SearchHit(source=B, start_line=5, end_line=5, score=1.0, text=QUOTE)]),
    )
    question = QuestionResult(
        id="treaty", question="Has the US signed the Ottawa Treaty?", expected=Expectation(facts=[["not signed"], ["<script>"]], sources=[B]),
        answer=answer, latency_ms=1234.0, scores={"fact_recall": 0.5, "passed": 0.0, "citation_support": 1.0},
        missing_facts=[["<script>"]],
    )
    refused = QuestionResult(
        id="absent", question="How many mines?", expected=Expectation(answerable=False),
        answer=Answer(answer="The documents don't say.", refused=True, citations=[]), latency_ms=800.0,
        scores={"refusal_accuracy": 1.0, "passed": 1.0},
    )
    return EvalResult(
        suite="news", model="SmolLM2", provider="embedded", k=8, thresholds=thresholds or {},
        aggregate={"fact_recall": fact_recall, "refusal_accuracy": refusal, "citation_support": 0.8, "pass_rate": 0.5,
                   "latency_p50_ms": 1000.0, "latency_p95_ms": p95},
        questions=[question, refused],
    )


def test_thresholds_are_minima_and_latency_thresholds_maxima() -> None:
    current = make_result().aggregate
    assert check_thresholds(current, {"fact_recall": 0.9, "latency_p95_ms": 5000}) == []
    failures = check_thresholds(current, {"fact_recall": 0.95, "latency_p95_ms": 3000, "mrr": 0.5})
    assert [(f.metric, f.kind) for f in failures] == [("fact_recall", "threshold"), ("latency_p95_ms", "threshold"), ("mrr", "threshold")]
    assert "not measured" in failures[2].message


def test_baseline_regressions_beyond_tolerance_fail() -> None:
    baseline = make_result(fact_recall=0.96, refusal=1.0, p95=1000.0)
    assert gate(make_result(fact_recall=0.92), baseline, tolerance=0.05) == []  # within tolerance; latency never gates
    failures = gate(make_result(fact_recall=0.90, refusal=0.8), baseline, tolerance=0.05)
    assert [f.metric for f in failures] == ["fact_recall", "refusal_accuracy"]
    assert all(f.kind == "regression" for f in failures)
    rows = {r.metric: r for r in compare(make_result(fact_recall=0.9).aggregate, baseline.aggregate, 0.05)}
    assert rows["fact_recall"].delta == pytest.approx(-0.06) and rows["fact_recall"].regressed
    assert not rows["latency_p95_ms"].regressed


def test_json_round_trip_and_rescore(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(make_result().model_dump_json())
    loaded = load_result(path)
    assert loaded.questions[0].answer.citations[0].source == B
    # Re-scoring recomputes every score from the stored answers and expectations (the real support check).
    again = rescore(path)
    treaty = again.questions[0]
    assert treaty.scores["fact_recall"] == 0.5 and treaty.missing_facts == [["<script>"]]
    assert treaty.scores["citation_support"] == 1.0 and treaty.scores["hit_at_k"] == 1.0
    assert again.aggregate["refusal_accuracy"] == 1.0 and again.aggregate["fact_recall"] == 0.5
    assert again.aggregate["latency_p50_ms"] == pytest.approx(1017.0)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(CitewiseError, match="not a citewise eval JSON result"):
        load_result(tmp_path / "bad.json")


def test_html_report_is_one_page_with_chart_tables_and_highlights(tmp_path: Path) -> None:
    result = make_result(fact_recall=0.8, thresholds={"fact_recall": 0.9})
    failures = gate(result, make_result(fact_recall=0.95), 0.05)
    path = tmp_path / "report.html"
    write_report(path, result, make_result(fact_recall=0.95), failures)
    page = path.read_text()
    assert page.startswith("<!doctype html>") and "<style>" in page
    assert "<script" not in page.replace("&lt;script&gt;", "")  # expected facts are escaped, never executed
    assert re.search(r"<svg[^>]*>.*fact recall.*</svg>", page, re.S)
    chart = page[page.index("<svg") : page.index("</svg>")]
    assert "<title>fact_recall: 0.800</title>" in chart and "<title>baseline fact_recall: 0.950</title>" in chart
    assert "<title>threshold 0.9</title>" in chart and ">baseline</text>" in chart
    assert '<table class="aggregate">' in page and '<table class="questions">' in page
    assert 'class="missing"' in page and "&lt;script&gt;" in page  # the missing fact, highlighted and escaped
    assert 'class="fail" id="q-treaty"' in page and 'class="pass" id="q-absent"' in page
    assert "Gate failed" in page and "fact_recall regressed" in page
    assert "000_" not in page and B in page and "has not signed" in page  # the answer's citation with its quote
    outside = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in outside and "https://" not in outside and "<link" not in outside  # self-contained


def test_markdown_report_and_console_summary(tmp_path: Path) -> None:
    result = make_result(thresholds={"fact_recall": 0.95})
    failures = gate(result)
    write_report(tmp_path / "r.md", result, None, failures)
    text = (tmp_path / "r.md").read_text()
    assert text.startswith("# Eval: news") and "**Gate: FAILED**" in text
    assert "| fact recall | 0.900 |" in text and "| treaty | ❌ |" in text and "missing: <script>" in text
    summary = console_summary(result, None, failures)
    assert "gate: FAILED" in summary and "treaty: missing <script>" in summary
    assert "gate: passed" in console_summary(make_result(), None, [])
    with pytest.raises(InvalidInput):
        write_report(tmp_path / "r.txt", result)
    assert json.loads(make_result().model_dump_json())["questions"][0]["answer"]["citations"][0]["quote"] == QUOTE
    assert markdown_report(result) and html_report(result)


def test_console_summary_leaves_out_metrics_the_suite_has_nothing_for() -> None:
    """A summary-only suite: the question metrics it cannot measure are not printed as rows of dashes; a metric
    with a threshold is shown even without a value (the gate names it)."""
    result = EvalResult(suite="products", k=8, thresholds={"refusal_accuracy": 0.8},
                        aggregate={"fact_recall": None, "summary_fact_recall": 0.804, "differences_precision": 1.0,
                                   "refusal_accuracy": None})
    text = console_summary(result)
    assert "summary fact recall" in text.lower() or "summary_fact_recall" in text
    assert "0.804" in text and "1.000" in text
    rows = [line for line in text.splitlines()[2:] if line.strip() and not line.startswith(("gate", "note", " "))]
    assert not any(line.split()[0] == "fact" and "–" in line for line in rows), text
    assert any("refusal" in line and "0.800" in line for line in rows), text
