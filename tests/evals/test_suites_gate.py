"""The CI gate the eval issue asks for: the hand-written suites (news, examples; products for summaries), run
with the embedded model through the runner, must meet their `thresholds:`. Results (JSON and an HTML report) go to test-artifacts/evals/ for inspection."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.report import console_summary, write_report
from evals.runner import gate, run_suite
from evals.suite import load_suite
from service.config import Settings
from service.engine import Engine

pytestmark = pytest.mark.slow  # the real embedded model, end to end

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "evals"


@pytest.mark.timeout(5400)  # ~80 questions with a 135M model on 2 shared cores
@pytest.mark.parametrize("name", ["news", "examples", "products"])
def test_suite_meets_its_thresholds(name: str, tmp_path: Path) -> None:
    suite = load_suite(REPO / "evals" / "suites" / f"{name}.yaml")
    assert suite.thresholds, f"{name}.yaml sets no thresholds: the gate would be empty"
    with Engine(Settings(home=tmp_path / "home", llm_timeout_s=600)) as engine:  # busy shared CI machine
        report = engine.ingest([suite.docs_dir])
        assert not report.failed_paths and report.count("failed") == 0, report.summary_line()
        result = run_suite(engine, suite)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(result.model_dump_json(indent=1), encoding="utf-8")
    failures = gate(result)
    write_report(ARTIFACTS / f"{name}.html", result, None, failures)
    print("\n" + console_summary(result, None, failures))
    assert not failures, "\n".join(f.message for f in failures)
