"""Deterministic scores for one answer (or summary) against a suite's expectations, and their aggregation.

How each metric counts (None = "does not apply", left out of the mean):

| metric              | answerable question                                   | unanswerable question |
|---------------------|-------------------------------------------------------|-----------------------|
| fact_recall         | share of expected facts found in the answer; refused → 0 | None               |
| citation_precision  | cited files that are expected ÷ cited files; answered without citations → 0; refused → None | None |
| citation_recall     | expected files cited ÷ expected files; refused → 0    | None                  |
| citation_support    | answer sentences supported by their cited quotes ÷ sentences (our own check, not the verifier's); refused → None | same, if it answered |
| verifier_kept       | draft sentences the verifier kept ÷ draft sentences (from the trace); refused → None | same |
| refusal_accuracy    | 1 if not refused                                      | 1 if refused          |
| hit_at_k            | 1 if an expected file is among the top-k retrieved chunks | None              |
| mrr                 | 1 / rank of the first retrieved chunk from an expected file (0 if none in top k) | None |
| passed              | refusal right, all facts found, and an expected file cited | refusal right    |

A fact is found when any of its alternatives occurs in the answer text after normalisation (Unicode NFKC, case
folding, whitespace folding, unicode dashes → "-", thousands separators removed, citation markers removed). An
alternative must start at a word boundary, and a numeric one must also end at one ("10" does not match "100"),
so "sign" still matches "signed" but "war" does not match "toward".
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import numpy as np
from pydantic import BaseModel, Field

from service.pipeline.markers import marked_sentences, markers_in, strip_markers
from service.schemas import Answer, Citation, Summary

Scores = dict[str, float | None]
# (sentence, cited quotes) → supported?  The default is the verifier's check_support with the real embedder.
SupportFn = Callable[[str, list[str]], bool]

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_QUOTES = {ord("\u2018"): "'", ord("\u2019"): "'", ord("\u201c"): '"', ord("\u201d"): '"'}
_THOUSANDS = re.compile(r"(?<=\d)[,\u00a0\u202f\u2009 '](?=\d{3}(?!\d))")


# --- text normalisation and fact matching -----------------------------------------------------------


def normalize(text: str) -> str:
    """Text as facts are compared: NFKC, casefolded, one space, plain dashes/quotes, no thousands separators."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES).casefold()
    text = re.sub(r"\s+", " ", text)
    # Repeat: "1,234,567" has overlapping separator contexts.
    while True:
        collapsed = _THOUSANDS.sub("", text)
        if collapsed == text:
            return text.strip()
        text = collapsed


@lru_cache(maxsize=4096)
def _alternative_pattern(alternative: str) -> re.Pattern[str]:
    alt = normalize(alternative)
    start = r"(?<!\w)" if alt[:1].isalnum() else ""
    end = r"(?!\d)" if alt[-1:].isdigit() else ""
    return re.compile(start + re.escape(alt) + end)


def fact_found(fact: Sequence[str], text: str) -> bool:
    normalized = normalize(strip_markers(text))
    return any(_alternative_pattern(alt).search(normalized) for alt in fact if alt.strip())


def missing_facts(facts: Sequence[Sequence[str]], text: str) -> list[list[str]]:
    return [list(fact) for fact in facts if not fact_found(fact, text)]


def fact_recall(facts: Sequence[Sequence[str]], text: str) -> float:
    if not facts:
        return 1.0
    return 1.0 - len(missing_facts(facts, text)) / len(facts)


# --- citations ------------------------------------------------------------------------------------


def cited_sources(citations: Iterable[Citation]) -> set[str]:
    return {c.source for c in citations}


def citation_precision(citations: Sequence[Citation], expected: Sequence[str]) -> float:
    cited = cited_sources(citations)
    if not cited:
        return 0.0
    return len(cited & set(expected)) / len(cited)


def citation_recall(citations: Sequence[Citation], expected: Sequence[str]) -> float:
    if not expected:
        return 1.0
    return len(cited_sources(citations) & set(expected)) / len(set(expected))


class SentenceSupport(BaseModel):
    """Our own judgement of one answer sentence: is it supported by the quotes it cites?"""

    sentence: str
    cited: list[int] = Field(default_factory=list)
    supported: bool


def default_support_fn() -> SupportFn:
    """The verifier's support check with the real embedder (imported lazily: it loads the model)."""
    from index.embeddings import get_embedder
    from service.pipeline.verifier import check_support

    embedder = get_embedder()
    return lambda sentence, quotes: bool(check_support(sentence, quotes, embedder).supported)


def sentence_support(text: str, citations: Sequence[Citation], support: SupportFn) -> list[SentenceSupport]:
    """ALCE-style citation support: each sentence against the concatenation of the quotes it cites.

    A sentence citing nothing, or only ids with no citation, is unsupported.
    """
    by_id = {c.id: c for c in citations}
    results = []
    for sentence in marked_sentences(text):
        ids = markers_in(sentence)
        quotes = [by_id[i].quote for i in ids if i in by_id]
        claim = strip_markers(sentence)
        if not claim:
            continue
        supported = bool(quotes) and support(claim, quotes)
        results.append(SentenceSupport(sentence=claim, cited=ids, supported=supported))
    return results


def support_share(checks: Sequence[SentenceSupport]) -> float | None:
    return sum(c.supported for c in checks) / len(checks) if checks else None


def verifier_kept(answer: Answer) -> float | None:
    """Share of the draft's sentences the verifier kept (as is, re-attributed or extracted), from the trace."""
    decisions = answer.trace.decisions if answer.trace else []
    if not decisions:
        return None
    return sum(d.action != "dropped" for d in decisions) / len(decisions)


# --- retrieval ------------------------------------------------------------------------------------


def retrieval_rank(retrieved_sources: Sequence[str], expected: Sequence[str], k: int) -> int | None:
    """1-based rank of the first of the top-k retrieved chunks whose file is expected; None if none."""
    wanted = set(expected)
    for rank, source in enumerate(retrieved_sources[:k], start=1):
        if source in wanted:
            return rank
    return None


# --- one answer -----------------------------------------------------------------------------------


class Expectation(BaseModel):
    """What a correct answer contains: saved with every result so a result can be re-scored on its own."""

    facts: list[list[str]] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    answerable: bool = True


class AnswerScores(BaseModel):
    scores: Scores
    missing_facts: list[list[str]] = Field(default_factory=list)
    sentences: list[SentenceSupport] = Field(default_factory=list)


def score_answer(answer: Answer, expected: Expectation, k: int, support: SupportFn | None) -> AnswerScores:
    """All deterministic scores of one answer (see the module docstring for how each counts).

    `support=None` skips citation support (reported as None).
    """
    scores: Scores = {}
    refused = answer.refused
    scores["refusal_accuracy"] = 1.0 if refused == (not expected.answerable) else 0.0

    missing: list[list[str]] = []
    if expected.answerable:
        missing = [list(f) for f in expected.facts] if refused else missing_facts(expected.facts, answer.answer)
        scores["fact_recall"] = 0.0 if refused else fact_recall(expected.facts, answer.answer)
        scores["citation_precision"] = None if refused else citation_precision(answer.citations, expected.sources)
        scores["citation_recall"] = 0.0 if refused else citation_recall(answer.citations, expected.sources)
    else:
        scores["fact_recall"] = scores["citation_precision"] = scores["citation_recall"] = None

    sentences: list[SentenceSupport] = []
    if not refused and support is not None:
        sentences = sentence_support(answer.answer, answer.citations, support)
    scores["citation_support"] = support_share(sentences) if not refused and support is not None else None
    scores["verifier_kept"] = None if refused else verifier_kept(answer)

    retrieved = [hit.source for hit in answer.trace.retrieved] if answer.trace else []
    if expected.answerable and answer.trace is not None and answer.trace.retrieved:
        rank = retrieval_rank(retrieved, expected.sources, k)
        scores["hit_at_k"] = 1.0 if rank else 0.0
        scores["mrr"] = 1.0 / rank if rank else 0.0
    else:
        scores["hit_at_k"] = scores["mrr"] = None

    if expected.answerable:
        passed = (not refused) and not missing and bool(scores["citation_recall"])
    else:
        passed = refused
    scores["passed"] = 1.0 if passed else 0.0
    return AnswerScores(scores=scores, missing_facts=missing, sentences=sentences)


def summary_text(summary: Summary) -> str:
    return "\n".join([summary.summary, *summary.bullets, *summary.differences])


def score_summary(summary: Summary, expected: Expectation, support: SupportFn | None) -> AnswerScores:
    """A summary scored like an answer over its summary, bullets and differences (never a refusal)."""
    text = summary_text(summary)
    scores: Scores = {
        "summary_fact_recall": fact_recall(expected.facts, text),
        "summary_citation_precision": citation_precision(summary.citations, expected.sources)
        if expected.sources
        else None,
        "summary_citation_recall": citation_recall(summary.citations, expected.sources) if expected.sources else None,
    }
    sentences = sentence_support(text, summary.citations, support) if support is not None else []
    scores["summary_citation_support"] = support_share(sentences)
    return AnswerScores(scores=scores, missing_facts=missing_facts(expected.facts, text), sentences=sentences)


# --- aggregation ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linearly interpolated; None for no values. The one percentile of evals/."""
    return float(np.percentile(values, q)) if len(values) else None


def mean_scores(per_case: Iterable[Scores]) -> dict[str, float | None]:
    """Mean of each metric over the cases where it applies (None where it applied to none)."""
    values: dict[str, list[float]] = {}
    for scores in per_case:
        for metric, value in scores.items():
            bucket = values.setdefault(metric, [])
            if value is not None:
                bucket.append(float(value))
    return {metric: (statistics.fmean(v) if v else None) for metric, v in values.items()}


def aggregate(per_question: Sequence[Scores], latencies_ms: Sequence[float], per_summary: Sequence[Scores] = ()) -> dict[str, float | None]:
    """Suite-level figures: means of the per-case scores, pass rate, latency p50/p95 and counts."""
    means = mean_scores(per_question)
    result: dict[str, float | None] = {
        metric: means.get(metric)
        for metric in (
            "fact_recall",
            "citation_precision",
            "citation_recall",
            "citation_support",
            "verifier_kept",
            "refusal_accuracy",
            "hit_at_k",
            "mrr",
        )
    }
    if "judge_faithfulness" in means:
        result["judge_faithfulness"] = means["judge_faithfulness"]
    result["pass_rate"] = means.get("passed")
    result["latency_p50_ms"] = percentile(latencies_ms, 50)
    result["latency_p95_ms"] = percentile(latencies_ms, 95)
    result.update(mean_scores(per_summary))
    return result
