"""`citewise eval` end to end with the real embedded model: a 3-question suite, the JSON contract, the report,
re-scoring, and the exit codes of the threshold and baseline gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evals.runner import rescore

pytestmark = pytest.mark.slow  # the real embedded model, end to end

REPO = Path(__file__).resolve().parents[2]
NEWS = REPO.parent / "shared" / "corpus" / "news"
A, B = "000_1ca178c960a0782e.txt", "001_846b2a5c2ae0efae.txt"

THREE = f"""
name: three
docs: {NEWS}
thresholds: {{refusal_accuracy: 0.0}}
questions:
  - id: signatories
    question: How many countries have signed the Ottawa Treaty?
    facts: [["160"]]
    sources: [{A}]
  - id: pledge
    question: When did the Biden administration pledge to limit the use of anti-personnel mines?
    facts: [["June 2022"]]
    sources: [{B}]
  - id: cost
    question: How much did the landmines shipped to Ukraine cost?
    answerable: false
"""

ONE = f"""
name: one
docs: {NEWS}
questions:
  - id: signatories
    question: How many countries have signed the Ottawa Treaty?
    facts: [["160"]]
    sources: [{A}]
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("eval-home")


def citewise(args: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEWISE_", "OPENAI_"))}
    env["CITEWISE_HOME"] = str(home)  # explicit: the runs share one index (ingested once)
    env["CITEWISE_LLM_TIMEOUT_S"] = "600"  # a shared, busy CI machine: slow is fine, a timeout is not the point here
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=1200
    )


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def three_run(home: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    folder = tmp_path_factory.mktemp("three")
    suite = write(folder / "three.yaml", THREE)
    done = citewise(["eval", str(suite), "--json", "--report", str(folder / "report.html")], home, folder)
    (folder / "result.json").write_text(done.stdout)
    return done, folder


def test_three_question_suite_json_contract(three_run) -> None:
    done, folder = three_run
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["suite"] == "three" and result["model"]
    for metric in ("fact_recall", "citation_precision", "citation_recall", "citation_support", "refusal_accuracy",
                   "hit_at_k", "mrr", "latency_p50_ms", "latency_p95_ms"):
        assert metric in result["aggregate"], metric
    assert [q["id"] for q in result["questions"]] == ["signatories", "pledge", "cost"]
    texts = {name: (NEWS / name).read_text(encoding="utf-8").splitlines() for name in (A, B)}
    for q in result["questions"]:
        answer = q["answer"]
        assert answer is not None, q["error"]
        assert {"answer", "refused", "citations"} <= set(answer)
        assert set(q["scores"]) >= {"refusal_accuracy", "fact_recall", "passed"}
        for c in answer["citations"]:  # the contract the scores rely on: quotes are verbatim within their lines
            span = " ".join(texts[c["source"]][c["start_line"] - 1 : c["end_line"]])
            assert " ".join(c["quote"].split()) in " ".join(span.split())
        assert 0 < q["latency_ms"]
    signatories = result["questions"][0]
    assert signatories["scores"]["hit_at_k"] == 1.0  # the one file that says it is easy to retrieve
    print("\nthree-question suite:", json.dumps(result["aggregate"], indent=1))


def test_report_and_rescore_of_the_saved_result(three_run) -> None:
    done, folder = three_run
    page = (folder / "report.html").read_text()
    assert "<svg" in page and '<table class="questions">' in page and "signatories" in page
    saved = json.loads((folder / "result.json").read_text())
    again = rescore(folder / "result.json")
    for metric, value in saved["aggregate"].items():
        assert again.aggregate[metric] == pytest.approx(value), metric


def test_threshold_and_baseline_exit_codes(three_run, home: Path, tmp_path: Path) -> None:
    """The gate on the real run's saved result, re-scored by `citewise eval --rescore` (no second model run)."""
    done, folder = three_run
    assert done.returncode == 0  # the real run met its (trivial) threshold: exit 0
    saved = json.loads((folder / "result.json").read_text())

    impossible = dict(saved, thresholds={"latency_p95_ms": 1})  # 1 ms: cannot be met
    (tmp_path / "slow.json").write_text(json.dumps(impossible))
    done = citewise(["eval", "--rescore", str(tmp_path / "slow.json")], home, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gate: FAILED" in done.stdout and "latency_p95_ms" in done.stdout

    baseline = json.loads(json.dumps(saved))
    baseline["aggregate"]["refusal_accuracy"] = 2.0  # a baseline no run can match: a regression by construction
    (tmp_path / "baseline.json").write_text(json.dumps(baseline))
    args = ["eval", "--rescore", str(folder / "result.json"), "--baseline", str(tmp_path / "baseline.json")]
    done = citewise([*args, "--report", str(tmp_path / "r.md")], home, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "refusal_accuracy regressed" in done.stdout
    assert "refusal_accuracy regressed" in (tmp_path / "r.md").read_text()

    done = citewise([*args, "--tolerance", "5"], home, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gate: passed" in done.stdout


def test_bad_suite_is_one_line_and_exit_1(tmp_path: Path, home: Path) -> None:
    suite = write(tmp_path / "bad.yaml", ONE.replace("    sources:", "    colour: red\n    sources:"))
    done = citewise(["eval", str(suite)], home, tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {suite}:7: unknown key 'colour' (at questions.0.colour)"
