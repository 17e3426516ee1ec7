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
| answer_accuracy     | 1 if the answer is right: dataset cases — a gold answer contained after SQuAD normalisation (`squad_answer_found`); suite questions — every expected fact found; refused → 0 | None |
| unanswerable_refused| None                                                  | 1 if refused          |
| answerable_refused  | 1 if refused (lower is better)                        | None                  |
| gold_source_cited   | 1 if any expected file is cited; refused → 0          | None                  |
| support_recall      | (HotpotQA cases only) = citation_recall: gold supporting paragraphs cited ÷ gold paragraphs | None |
| quote_only          | 1 if the answer is made only of verbatim citation quotes (`is_quote_only`; lower is better); refused → None | same, if it answered |

A fact is found when any of its alternatives occurs in the answer text after normalisation (Unicode NFKC, case
folding, whitespace folding, unicode dashes → "-", thousands separators removed, citation markers removed). An
alternative must start at a word boundary, and a numeric one must also end at one ("10" does not match "100"),
so "sign" still matches "signed" but "war" does not match "toward".

Dataset cases (evals/datasets.py) carry gold `answers` instead of hand-written facts; they are matched the
SQuAD way (`squad_normalize`: lowercase, punctuation and symbols removed — but possessive 's and dashes/slashes
become word breaks, and "two" … "twenty" are their digits — articles removed, whitespace collapsed), as whole tokens: the gold's tokens must occur as a contiguous run of the answer's tokens, so "6" does
not match "16" (the "has answer" test of open-domain QA, e.g. DPR). Citation markers are removed first, so "[1]"
never matches a gold "1". For those cases fact_recall equals answer_accuracy.
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
# Per-answer outcome metrics shared by suites and dataset cases (`outcome_scores`), in report order.
OUTCOME_METRICS = (
    "answer_accuracy",
    "unanswerable_refused",
    "answerable_refused",
    "gold_source_cited",
    "support_recall",
    "quote_only",
)
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


# --- SQuAD-style answers (dataset cases) ----------------------------------------------------------

_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
# A third departure: a count written as a word is the same answer as its digits ("extended six months" answers a
# gold "6"). Two to twenty only: "one" is as often a pronoun ("one of the …") as a count.
_NUMBER_WORDS = {word: str(n) for n, word in enumerate(
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen"
    " nineteen twenty".split(), start=2)}
_YES_NO = ("yes", "no")


def _strip_punctuation(text: str) -> str:
    """Unicode punctuation (P*) and symbols (S*) → nothing: SQuAD's `string.punctuation` covers only ASCII, but
    RealTime QA's gold answers carry curly quotes (“Squid Game”)."""
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "S")))


def squad_normalize(text: str) -> str:
    """The official SQuAD `normalize_answer` (lowercase, remove punctuation, remove articles, collapse
    whitespace), with NFKC first and Unicode punctuation/symbols. Thousands separators go with the punctuation:
    "10,000" and "10000" match. See the comments for the three departures."""
    text = unicodedata.normalize("NFKC", text).casefold()
    # Two departures from SQuAD, both for containment in a longer answer: a possessive keeps its word ("the United
    # Kingdom's crisis" contains "United Kingdom", SQuAD would make it "kingdoms"), and dashes and slashes separate
    # words ("military-style" = "military style").
    text = re.sub(r"['\u2019]s\b", " ", text)
    text = re.sub(r"[-\u2010-\u2015\u2212/]", " ", text)
    text = _strip_punctuation(text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(_NUMBER_WORDS.get(token, token) for token in text.split())


def _contains_run(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def squad_answer_found(gold_answers: Sequence[str], text: str) -> bool:
    """True when any gold answer's normalised tokens occur as a contiguous run of the normalised answer's tokens
    (citation markers removed first). A gold "yes"/"no" (HotpotQA comparison questions) must be the answer's
    first word: "no" somewhere inside a sentence is not an answer to a yes/no question."""
    tokens = squad_normalize(strip_markers(text)).split()
    for gold in gold_answers:
        wanted = squad_normalize(gold).split()
        if not wanted:
            continue
        if len(wanted) == 1 and wanted[0] in _YES_NO:
            if tokens[:1] == wanted:
                return True
        elif _contains_run(tokens, wanted):
            return True
    return False


# --- quote-only answers ---------------------------------------------------------------------------


def _quote_tokens(text: str) -> list[str]:
    """Word tokens as quote-only compares them: NFKC, casefolded, runs of letters/digits (so quotation marks,
    other punctuation and whitespace never count), citation markers removed."""
    return re.findall(r"\w+", unicodedata.normalize("NFKC", strip_markers(text)).casefold())


def is_quote_only(text: str, citations: Sequence[Citation]) -> bool:
    """Is this answer made only of verbatim citation quotes?

    Precisely: remove the citation markers, tokenise the answer and every cited quote into words (`_quote_tokens`:
    quote marks and punctuation are dropped), and let the "quote units" be each citation's whole quote and each
    sentence of it (so quoting one sentence of a multi-sentence passage counts). The answer is quote-only when it
    has at least one word and its word sequence splits entirely into consecutive quote units (any order, repeats
    allowed). A single word of the model's own ("Europe [1]." where the quote is a whole sentence, or "and"
    joining two quotes) makes it not quote-only; an answer with no citations is never quote-only.
    """
    words = _quote_tokens(text)
    if not words or not citations:
        return False
    units: set[tuple[str, ...]] = set()
    for citation in citations:
        for piece in [citation.quote, *marked_sentences(citation.quote)]:
            unit = tuple(_quote_tokens(piece))
            if unit:
                units.add(unit)
    lengths = sorted({len(u) for u in units})
    reachable = [False] * (len(words) + 1)
    reachable[0] = True
    for start in range(len(words)):
        if not reachable[start]:
            continue
        for length in lengths:
            end = start + length
            if end <= len(words) and tuple(words[start:end]) in units:
                reachable[end] = True
    return reachable[len(words)]


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
    # Dataset cases: gold answers scored SQuAD-style (any one counts); None for suite questions (facts are used).
    answers: list[str] | None = None
    support_recall: bool = False  # HotpotQA: report citation recall of the gold paragraphs as support_recall
    # Summary cases: the real disagreements between documents, each two facts (one per side); None: not labelled,
    # []: the documents do not disagree (every reported difference is wrong).
    differences: list[list[list[str]]] | None = None


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
        if expected.answers is not None:  # a dataset case: one fact, its alternatives the gold answers
            right = not refused and squad_answer_found(expected.answers, answer.answer)
            missing = [] if right else [list(expected.answers)]
            scores["fact_recall"] = 1.0 if right else 0.0
        else:
            missing = [list(f) for f in expected.facts] if refused else missing_facts(expected.facts, answer.answer)
            scores["fact_recall"] = 0.0 if refused else fact_recall(expected.facts, answer.answer)
        scores["citation_precision"] = None if refused else citation_precision(answer.citations, expected.sources)
        scores["citation_recall"] = 0.0 if refused else citation_recall(answer.citations, expected.sources)
    else:
        scores["fact_recall"] = scores["citation_precision"] = scores["citation_recall"] = None
    scores.update(outcome_scores(answer, expected, missing))

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


def outcome_scores(answer: Answer, expected: Expectation, missing: Sequence[Sequence[str]]) -> Scores:
    """answer_accuracy, unanswerable_refused, answerable_refused, gold_source_cited, support_recall, quote_only
    (see the module docstring); `missing` = the expected facts the answer lacks (as score_answer found them)."""
    refused = answer.refused
    answerable = expected.answerable
    cited = cited_sources(answer.citations)
    return {
        "answer_accuracy": (0.0 if refused or missing else 1.0) if answerable else None,
        "unanswerable_refused": None if answerable else (1.0 if refused else 0.0),
        "answerable_refused": (1.0 if refused else 0.0) if answerable else None,
        "gold_source_cited": (0.0 if refused else float(bool(cited & set(expected.sources))))
        if answerable and expected.sources
        else None,
        "support_recall": (0.0 if refused else citation_recall(answer.citations, expected.sources))
        if answerable and expected.support_recall
        else None,
        "quote_only": None if refused else (1.0 if is_quote_only(answer.answer, answer.citations) else 0.0),
    }


def failed_outcome_scores(expected: Expectation) -> Scores:
    """The outcome scores of a question whose answer could not be produced (an error is not a refusal)."""
    return {
        "answer_accuracy": 0.0 if expected.answerable else None,
        "unanswerable_refused": None if expected.answerable else 0.0,
        "answerable_refused": None,
        "gold_source_cited": 0.0 if expected.answerable and expected.sources else None,
        "support_recall": 0.0 if expected.answerable and expected.support_recall else None,
        "quote_only": None,
    }


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
    if expected.differences is not None:
        scores.update(difference_scores(summary.differences, expected.differences))
    return AnswerScores(scores=scores, missing_facts=missing_facts(expected.facts, text), sentences=sentences)


def difference_matches(line: str, pair: Sequence[Sequence[str]]) -> bool:
    """A reported difference states a labelled disagreement: a fact of each side occurs in it."""
    return all(fact_found(side, line) for side in pair)


def difference_scores(reported: Sequence[str], expected: Sequence[Sequence[Sequence[str]]]) -> Scores:
    """Precision: the share of reported differences that state a labelled disagreement (None when none was
    reported); recall: the share of labelled disagreements reported (None when none is labelled)."""
    correct = sum(any(difference_matches(line, pair) for pair in expected) for line in reported)
    found = sum(any(difference_matches(line, pair) for line in reported) for pair in expected)
    return {
        "differences_precision": correct / len(reported) if reported else None,
        "differences_recall": found / len(expected) if expected else None,
    }


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
            *OUTCOME_METRICS,
        )
    }
    if "judge_faithfulness" in means:
        result["judge_faithfulness"] = means["judge_faithfulness"]
    result["pass_rate"] = means.get("passed")
    result["latency_p50_ms"] = percentile(latencies_ms, 50)
    result["latency_p95_ms"] = percentile(latencies_ms, 95)
    result.update(mean_scores(per_summary))
    return result
