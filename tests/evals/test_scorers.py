"""Scorers on hand-made answers: every metric has a case where it is perfect and a case where it fails.

Citation support uses the real verifier check with the real embedding model.
"""

from __future__ import annotations

import pytest

from evals.scorers import (
    Expectation,
    aggregate,
    default_support_fn,
    difference_scores,
    fact_found,
    normalize,
    percentile,
    retrieval_rank,
    score_answer,
    score_summary,
)
from service.pipeline.markers import marked_sentences
from service.schemas import (
    Answer,
    Citation,
    SearchHit,
    Summary,
    Trace,
    VerifierDecision,
)

A, B = "000_1ca178c960a0782e.txt", "001_846b2a5c2ae0efae.txt"
TREATY_QUOTE = (
    "more than 160 countries have signed an international treaty—known as the Ottawa Treaty—prohibiting their use"
)
NOT_SIGNED_QUOTE = "the Ottawa Treaty, an international agreement banning anti-personnel mines—a treaty the U.S. has not signed"
TREATY = Expectation(facts=[["Ottawa"], ["not signed", "has not signed"]], sources=[B])
ABSENT = Expectation(answerable=False)


@pytest.fixture(scope="module")
def support():
    return default_support_fn()


def hit(source: str) -> SearchHit:
    return SearchHit(source=source, start_line=1, end_line=1, score=1.0, text="...")


def answer(text: str, citations: list[Citation], refused: bool = False, retrieved: list[str] = (), decisions=()) -> Answer:
    trace = Trace(retrieved=[hit(s) for s in retrieved], decisions=list(decisions))
    return Answer(answer=text, refused=refused, citations=citations, trace=trace, model="test")


def cite(n: int, source: str, quote: str) -> Citation:
    return Citation(id=n, source=source, start_line=5, end_line=5, quote=quote)


GOOD = answer(
    "The Ottawa Treaty bans anti-personnel mines, and the U.S. has not signed it [1].",
    [cite(1, B, NOT_SIGNED_QUOTE)],
    retrieved=[B, A],
    decisions=[VerifierDecision(sentence="x", action="kept", cited=[1])],
)


def test_normalisation_folds_case_space_dashes_and_thousands() -> None:
    assert normalize("Over  1,000\u00a0days — in   FEBRUARY\n2022") == "over 1000 days - in february 2022"
    assert normalize("1 234 567 and 12,5") == "1234567 and 12,5"
    assert fact_found(["1000 days"], "the conflict that began over 1,000 days ago")
    assert fact_found(["anti-personnel"], "anti\u2011personnel mines [2]")
    assert fact_found(["Ottawa Treaty"], "the ottawa\n treaty")


def test_fact_matching_respects_word_and_number_boundaries() -> None:
    assert fact_found(["sign"], "the U.S. has not signed it")  # inflections still match
    assert not fact_found(["war"], "moving toward peace")  # but not inside a word
    assert not fact_found(["10"], "over 100 countries")  # numbers must match whole
    assert not fact_found(["160"], "in 2160")
    assert fact_found(["160"], "more than 160 countries")
    assert fact_found(["not signed", "has not signed"], "it has not signed [1].")


def test_a_perfect_answer_scores_one_everywhere(support) -> None:
    scores = score_answer(GOOD, TREATY, k=8, support=support)
    assert scores.scores == {
        "refusal_accuracy": 1.0,
        "fact_recall": 1.0,
        "citation_precision": 1.0,
        "citation_recall": 1.0,
        "citation_support": 1.0,
        "verifier_kept": 1.0,
        "hit_at_k": 1.0,
        "mrr": 1.0,
        "passed": 1.0,
        "answer_accuracy": 1.0,
        "unanswerable_refused": None,
        "answerable_refused": 0.0,
        "gold_source_cited": 1.0,
        "support_recall": None,
        "quote_only": 0.0,
    }
    assert scores.missing_facts == []


def test_missing_fact_lowers_fact_recall_and_fails(support) -> None:
    partial = answer("The Ottawa Treaty bans such mines [1].", [cite(1, B, NOT_SIGNED_QUOTE)], retrieved=[B])
    scored = score_answer(partial, TREATY, k=8, support=support)
    assert scored.scores["fact_recall"] == 0.5
    assert scored.missing_facts == [["not signed", "has not signed"]]
    assert scored.scores["passed"] == 0.0


def test_wrong_file_cited_lowers_citation_precision_and_recall(support) -> None:
    wrong = answer(
        "The Ottawa Treaty bans mines, which the U.S. has not signed [1].",
        [cite(1, A, TREATY_QUOTE)],
        retrieved=[A, B],
    )
    scored = score_answer(wrong, TREATY, k=8, support=support).scores
    assert scored["citation_precision"] == 0.0 and scored["citation_recall"] == 0.0
    both = answer("The Ottawa Treaty [1] has not been signed by the U.S. [2].", [cite(1, A, TREATY_QUOTE), cite(2, B, NOT_SIGNED_QUOTE)])
    scored = score_answer(both, TREATY, k=8, support=support).scores
    assert scored["citation_precision"] == 0.5 and scored["citation_recall"] == 1.0


def test_citation_support_catches_a_sentence_its_quote_does_not_support(support) -> None:
    unsupported = answer(
        "The U.S. has not signed the Ottawa Treaty [1]. The mines will be shipped in March 2025 [1].",
        [cite(1, B, NOT_SIGNED_QUOTE)],
        retrieved=[B],
    )
    scored = score_answer(unsupported, TREATY, k=8, support=support)
    assert [s.supported for s in scored.sentences] == [True, False]
    assert scored.scores["citation_support"] == 0.5
    uncited = answer("The U.S. has not signed the Ottawa Treaty.", [], retrieved=[B])
    scored = score_answer(uncited, TREATY, k=8, support=support).scores
    assert scored["citation_support"] == 0.0 and scored["citation_precision"] == 0.0


def test_refusals_count_only_where_they_should(support) -> None:
    refusal = answer("The documents don't say how many mines will be shipped.", [], refused=True, retrieved=[A])
    right = score_answer(refusal, ABSENT, k=8, support=support).scores
    assert right["refusal_accuracy"] == 1.0 and right["passed"] == 1.0
    assert right["fact_recall"] is None and right["citation_precision"] is None and right["hit_at_k"] is None
    wrong = score_answer(refusal, TREATY, k=8, support=support).scores  # refused an answerable question
    assert wrong["refusal_accuracy"] == 0.0 and wrong["fact_recall"] == 0.0 and wrong["citation_recall"] == 0.0
    assert wrong["citation_precision"] is None and wrong["citation_support"] is None and wrong["passed"] == 0.0
    answered = score_answer(GOOD, ABSENT, k=8, support=support).scores  # answered an unanswerable one
    assert answered["refusal_accuracy"] == 0.0 and answered["passed"] == 0.0
    assert answered["citation_support"] == 1.0  # still measured: the answer is faithful, just not wanted


def test_retrieval_hit_at_k_and_mrr(support) -> None:
    late = answer(GOOD.answer, GOOD.citations, retrieved=[A, A, B])
    scored = score_answer(late, TREATY, k=8, support=support).scores
    assert scored["hit_at_k"] == 1.0 and scored["mrr"] == pytest.approx(1 / 3)
    scored = score_answer(late, TREATY, k=2, support=support).scores
    assert scored["hit_at_k"] == 0.0 and scored["mrr"] == 0.0
    assert retrieval_rank([A, B], [B], k=5) == 2 and retrieval_rank([A], [B], k=5) is None


def test_verifier_kept_is_reported_from_the_trace(support) -> None:
    decisions = [VerifierDecision(sentence="a", action="kept"), VerifierDecision(sentence="b", action="dropped")]
    scored = score_answer(answer(GOOD.answer, GOOD.citations, retrieved=[B], decisions=decisions), TREATY, 8, support)
    assert scored.scores["verifier_kept"] == 0.5


def test_sentence_split_keeps_trailing_markers() -> None:
    assert marked_sentences("The U.S. has not signed it. [1] Russia condemned it [2].") == [
        "The U.S. has not signed it. [1]",
        "Russia condemned it [2].",
    ]


def test_summary_scores(support) -> None:
    summary = Summary(
        summary="More than 160 countries have signed the Ottawa Treaty [1].",
        bullets=["The U.S. has not signed the Ottawa Treaty [2]."],
        citations=[cite(1, A, TREATY_QUOTE), cite(2, B, NOT_SIGNED_QUOTE)],
    )
    scored = score_summary(summary, Expectation(facts=[["160"], ["not signed"], ["Zelensky"]], sources=[A]), support)
    assert scored.scores["summary_fact_recall"] == pytest.approx(2 / 3)
    assert scored.scores["summary_citation_precision"] == 0.5 and scored.scores["summary_citation_recall"] == 1.0
    assert scored.scores["summary_citation_support"] == 1.0
    assert scored.missing_facts == [["Zelensky"]]


def test_aggregate_means_skip_not_applicable_and_latency_percentiles() -> None:
    per_question = [
        {"fact_recall": 1.0, "refusal_accuracy": 1.0, "passed": 1.0},
        {"fact_recall": 0.0, "refusal_accuracy": 0.0, "passed": 0.0},
        {"fact_recall": None, "refusal_accuracy": 1.0, "passed": 1.0},
    ]
    agg = aggregate(per_question, [100.0, 200.0, 300.0, 400.0])
    assert agg["fact_recall"] == 0.5
    assert agg["refusal_accuracy"] == pytest.approx(2 / 3) and agg["pass_rate"] == pytest.approx(2 / 3)
    assert agg["latency_p50_ms"] == 250.0 and agg["latency_p95_ms"] == pytest.approx(385.0)
    assert agg["citation_support"] is None
    assert percentile([], 50) is None


def test_difference_scores_count_only_labelled_disagreements() -> None:
    labelled = [[["8 hours"], ["12 hours"]], [["September 2025"], ["October 2025"]]]
    reported = [
        "The figures differ: one source says “… for 8 hours …” [1], while another says “… up to 12 hours …” [2].",
        "One source says “Zigbee 3.0” [3], while another says “Zigbee 3.0 and Thread” [4].",
    ]
    assert difference_scores(reported, labelled) == {"differences_precision": 0.5, "differences_recall": 0.5}
    assert difference_scores([], labelled) == {"differences_precision": None, "differences_recall": 0.0}
    assert difference_scores(reported[1:], []) == {"differences_precision": 0.0, "differences_recall": None}
