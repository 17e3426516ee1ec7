"""Runs a suite through the engine (the same `Engine.ask` the CLI and HTTP API use), scores it, and gates it.

The result (`EvalResult`) keeps every full answer JSON next to what was expected, so a saved result can be
re-scored later (`rescore`) without the suite file or the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from evals.scorers import (
    AnswerScores,
    Expectation,
    Scores,
    SentenceSupport,
    SupportFn,
    aggregate,
    default_support_fn,
    failed_outcome_scores,
    score_answer,
    score_summary,
)
from evals.suite import CEILING_METRICS, LATENCY_METRICS, MAXIMUM_METRICS, QUALITY_METRICS, Suite
from service.errors import CitewiseError, LLMUnavailable
from service.schemas import Answer, ChatMessage, Summary

if TYPE_CHECKING:
    from evals.datasets import Dataset, DatasetCase
    from service.cli.remote import RemoteEngine
    from service.engine import Engine

ProgressCallback = Callable[[str, int, int], None]  # (label, done, total)
JudgeFn = Callable[[str, Answer], float | None]  # (question, answer) → faithfulness in 0..1


class _ScoredCase(BaseModel):
    """What every scored case carries, question or summary: expectations, outcome, scores."""

    id: str
    expected: Expectation
    error: str | None = None
    latency_ms: float | None = None
    scores: Scores = Field(default_factory=dict)
    missing_facts: list[list[str]] = Field(default_factory=list)
    sentences: list[SentenceSupport] = Field(default_factory=list)


class QuestionResult(_ScoredCase):
    question: str
    history: list[ChatMessage] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    answer: Answer | None = None
    error_kind: str | None = None


class SummaryResult(_ScoredCase):
    source: str | None = None
    focus: str | None = None
    length: str = "medium"
    summary: Summary | None = None


class EvalResult(BaseModel):
    """The `citewise eval --json` document."""

    suite: str
    model: str | None = None
    provider: str | None = None
    k: int
    docs: str | None = None
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    aggregate: dict[str, float | None] = Field(default_factory=dict)
    thresholds: dict[str, float] = Field(default_factory=dict)
    questions: list[QuestionResult] = Field(default_factory=list)
    summaries: list[SummaryResult] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    # Set for `--dataset` runs (evals/datasets.py): which dataset, split and sample size were asked.
    dataset: str | None = None
    split: str | None = None
    limit: int | None = None


# --- running --------------------------------------------------------------------------------------


def _failed_scores(expected: Expectation) -> Scores:
    """Scores of a question whose answer could not be produced: every applicable metric fails."""
    zero_if = (lambda cond: 0.0 if cond else None)  # noqa: E731
    return {
        "refusal_accuracy": 0.0,
        "fact_recall": zero_if(expected.answerable),
        "citation_precision": None,
        "citation_recall": zero_if(expected.answerable),
        "citation_support": None,
        "verifier_kept": None,
        "hit_at_k": None,
        "mrr": None,
        "passed": 0.0,
        **failed_outcome_scores(expected),
    }


def _apply(result: QuestionResult | SummaryResult, scored: AnswerScores) -> None:
    result.scores = scored.scores
    result.missing_facts = scored.missing_facts
    result.sentences = scored.sentences


def run_question(
    engine: Engine | RemoteEngine, case_id: str, question: str, history: list[ChatMessage], tags: list[str],
    expected: Expectation, k: int, support: SupportFn | None, judge: JudgeFn | None = None,
) -> QuestionResult:
    result = QuestionResult(id=case_id, question=question, history=history, tags=tags, expected=expected)
    started = time.perf_counter()
    try:
        result.answer = engine.ask(question, history=history, k=k)
    except CitewiseError as e:  # LLMUnavailable included: run_suite decides whether to go on
        result.error = str(e)
        result.error_kind = type(e).__name__
        result.scores = _failed_scores(expected)
        return result
    finally:
        result.latency_ms = (time.perf_counter() - started) * 1000
    _apply(result, score_answer(result.answer, expected, k, support))
    if judge is not None and not result.answer.refused:
        result.scores["judge_faithfulness"] = judge(question, result.answer)
    return result


def run_summary_case(engine: Engine | RemoteEngine, case, support: SupportFn | None) -> SummaryResult:  # case: SummaryCase
    differences = None if case.differences is None else [[list(a), list(b)] for a, b in case.differences]
    expected = Expectation(facts=case.facts, sources=case.sources, differences=differences)
    result = SummaryResult(id=case.id, source=case.source, focus=case.focus, length=case.length, expected=expected)
    started = time.perf_counter()
    try:
        result.summary = engine.summarize(source=case.source, focus=case.focus, length=case.length)
    except LLMUnavailable:
        raise
    except CitewiseError as e:
        result.error = str(e)
        result.scores = {"summary_fact_recall": 0.0}
        return result
    finally:
        result.latency_ms = (time.perf_counter() - started) * 1000
    _apply(result, score_summary(result.summary, expected, support))
    return result


MAX_LLM_FAILURES = 2  # consecutive: one timeout on a busy machine is scored as a failure; more means the server is gone


def _llm_down(questions: list[QuestionResult]) -> bool:
    recent = questions[-MAX_LLM_FAILURES:]
    return len(recent) == MAX_LLM_FAILURES and all(q.error_kind == LLMUnavailable.__name__ for q in recent)


def _provider(engine: Engine | RemoteEngine) -> str:
    from service.cli.remote import RemoteEngine

    if isinstance(engine, RemoteEngine):
        return f"citewise serve: {engine.url}"
    settings = engine.settings
    return "embedded" if settings.uses_embedded_llm else f"openai-compatible: {settings.llm_base_url}"


def _configured_model(engine: Engine | RemoteEngine) -> str | None:
    """The model named in the settings, for a result whose answers name none (all failed); a server's is unknown."""
    from service.cli.remote import RemoteEngine

    return None if isinstance(engine, RemoteEngine) else engine.settings.llm_model


def _top_k(engine: Engine | RemoteEngine) -> int:
    """The configured chunks per question: the engine's settings, or this process's for a server's engine."""
    from service.cli.remote import RemoteEngine
    from service.config import get_settings

    return get_settings().top_k if isinstance(engine, RemoteEngine) else engine.settings.top_k


def run_suite(
    engine: Engine | RemoteEngine,
    suite: Suite,
    k: int | None = None,
    support: SupportFn | None = None,
    judge: JudgeFn | None = None,
    progress: ProgressCallback | None = None,
) -> EvalResult:
    """Ask every question (and run every summary case) of an already-ingested suite, and score the answers.

    `support` defaults to the verifier's support check with the real embedder.
    """
    k = k or _top_k(engine)
    support = support or default_support_fn()
    result = EvalResult(
        suite=suite.title, k=k, docs=str(suite.docs_dir) if suite.docs_dir else suite.docs,
        thresholds=suite.thresholds, provider=_provider(engine),
    )
    total = len(suite.questions) + len(suite.summaries)
    done = 0
    for question in suite.questions:
        if progress:
            progress(f"asking {question.id}", done, total)
        expected = Expectation(facts=question.facts, sources=question.sources, answerable=question.answerable)
        answered = run_question(engine, question.id, question.question, question.history, question.tags, expected, k, support, judge)
        result.questions.append(answered)
        done += 1
        if _llm_down(result.questions):
            raise LLMUnavailable(f"stopping the eval after {MAX_LLM_FAILURES} LLM failures in a row: {answered.error}")
    for case in suite.summaries:
        if progress:
            progress(f"summarizing {case.id}", done, total)
        result.summaries.append(run_summary_case(engine, case, support))
        done += 1
    if progress:
        progress("done", done, total)
    result.model = next((q.answer.model for q in result.questions if q.answer and q.answer.model), None) or (
        _configured_model(engine)
    )
    result.aggregate = _aggregate(result)
    return result


def run_dataset(
    engine: Engine,
    dataset: Dataset,
    cases: list[DatasetCase],
    k: int | None = None,
    support: SupportFn | None = None,
    progress: ProgressCallback | None = None,
    split: str = "all",
    limit: int | None = None,
) -> EvalResult:
    """Ask the selected cases of a dataset whose documents are already ingested (file names = `Document.name`),
    through `Engine.ask` like a suite, and score them (gold answers SQuAD-style; see evals/scorers.py)."""
    k = k or engine.settings.top_k
    support = support or default_support_fn()
    result = EvalResult(
        suite=f"{dataset.name} ({split}{f', {limit}' if limit else ''})", k=k, docs=dataset.path,
        provider=_provider(engine), dataset=dataset.name, split=split, limit=limit,
    )
    for done, case in enumerate(cases):
        if progress:
            progress(f"asking {case.id}", done, len(cases))
        expected = Expectation(
            facts=[list(case.answers)] if case.answerable else [], sources=list(case.sources),
            answerable=case.answerable, answers=list(case.answers), support_recall=dataset.support_recall,
        )
        answered = run_question(engine, case.id, case.question, [], list(case.tags), expected, k, support)
        result.questions.append(answered)
        if _llm_down(result.questions):
            raise LLMUnavailable(f"stopping the eval after {MAX_LLM_FAILURES} LLM failures in a row: {answered.error}")
    if progress:
        progress("done", len(cases), len(cases))
    result.model = next((q.answer.model for q in result.questions if q.answer and q.answer.model), None) or (
        _configured_model(engine)
    )
    result.aggregate = _aggregate(result)
    return result


def _aggregate(result: EvalResult) -> dict[str, float | None]:
    return aggregate(
        [q.scores for q in result.questions],
        [q.latency_ms for q in result.questions if q.latency_ms is not None],
        [s.scores for s in result.summaries],
    )


def rescore(saved: EvalResult | dict | Path | str, support: SupportFn | None = None, k: int | None = None) -> EvalResult:
    """Score a saved result again from its stored answers and expectations (e.g. after changing a scorer).

    Needs neither the suite file nor the model; judge scores, latencies and errors are kept as they were.
    """
    if isinstance(saved, (str, Path)):
        result = EvalResult.model_validate_json(Path(saved).read_text(encoding="utf-8"))
    elif isinstance(saved, dict):
        result = EvalResult.model_validate(saved)
    else:
        result = saved.model_copy(deep=True)
    result.k = k or result.k
    support = support or default_support_fn()
    for question in result.questions:
        if question.answer is None:
            continue
        judge = question.scores.get("judge_faithfulness")
        _apply(question, score_answer(question.answer, question.expected, result.k, support))
        if judge is not None:
            question.scores["judge_faithfulness"] = judge
    for case in result.summaries:
        if case.summary is not None:
            _apply(case, score_summary(case.summary, case.expected, support))
    result.aggregate = _aggregate(result)
    return result


# --- the gate: thresholds and baseline ------------------------------------------------------------


class Comparison(BaseModel):
    metric: str
    current: float | None
    baseline: float | None
    delta: float | None
    regressed: bool


class GateFailure(BaseModel):
    metric: str
    kind: Literal["threshold", "regression"]
    value: float | None
    limit: float | None
    message: str


def compare(current: dict[str, float | None], baseline: dict[str, float | None], tolerance: float) -> list[Comparison]:
    """Every metric present in either run; a quality metric regresses when it drops by more than `tolerance`.

    Latency is shown but never gates against a baseline (too noisy on a shared machine; use a threshold).
    """
    rows = []
    for metric in [*current, *(m for m in baseline if m not in current)]:
        now, before = current.get(metric), baseline.get(metric)
        delta = now - before if now is not None and before is not None else None
        if metric in CEILING_METRICS:  # lower is better
            regressed = before is not None and (now is None or now - before > tolerance + 1e-9)
        else:
            regressed = metric in QUALITY_METRICS and before is not None and (now is None or before - now > tolerance + 1e-9)
        rows.append(Comparison(metric=metric, current=now, baseline=before, delta=delta, regressed=regressed))
    return rows


def check_thresholds(current: dict[str, float | None], thresholds: dict[str, float]) -> list[GateFailure]:
    """Quality thresholds are minima, latency and ceiling-rate thresholds maxima; a metric not measured fails."""
    failures = []
    for metric, limit in thresholds.items():
        value = current.get(metric)
        if value is None:
            failures.append(GateFailure(metric=metric, kind="threshold", value=None, limit=limit, message=f"{metric} was not measured (threshold {limit:g})"))
        elif metric in MAXIMUM_METRICS and value > limit + (0 if metric in LATENCY_METRICS else 1e-9):
            shown = f"{value:.0f}" if metric in LATENCY_METRICS else f"{value:.3f}"
            failures.append(GateFailure(metric=metric, kind="threshold", value=value, limit=limit, message=f"{metric} {shown} > maximum {limit:g}"))
        elif metric not in MAXIMUM_METRICS and value < limit - 1e-9:
            failures.append(GateFailure(metric=metric, kind="threshold", value=value, limit=limit, message=f"{metric} {value:.3f} < threshold {limit:g}"))
    return failures


def gate(result: EvalResult, baseline: EvalResult | None = None, tolerance: float = 0.05) -> list[GateFailure]:
    """Why this run should fail CI (empty: it passes): thresholds from the suite, regressions from a baseline."""
    failures = check_thresholds(result.aggregate, result.thresholds)
    if baseline is not None:
        for row in compare(result.aggregate, baseline.aggregate, tolerance):
            if row.regressed:
                now = "not measured" if row.current is None else f"{row.current:.3f}"
                failures.append(GateFailure(
                    metric=row.metric, kind="regression", value=row.current, limit=row.baseline,
                    message=f"{row.metric} regressed: {now} vs baseline {row.baseline:.3f} (tolerance {tolerance:g})",
                ))
    return failures


def load_result(path: Path) -> EvalResult:
    """A saved `citewise eval --json` result (for --baseline and rescore)."""
    try:
        return EvalResult.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise CitewiseError(f"{path}: cannot read result: {e.strerror or e}") from None
    except ValueError as e:
        raise CitewiseError(f"{path}: not a citewise eval JSON result ({str(e).splitlines()[0]})") from None
