"""The dataset scorers on hand-built answers: SQuAD normalisation, gold-answer containment, quote-only, the outcome
metrics (accuracy, refusals, gold source cited, support recall), their aggregation and the ceiling gate."""

from __future__ import annotations

import pytest

from evals.runner import EvalResult, check_thresholds, compare
from evals.scorers import (
    Expectation,
    aggregate,
    is_quote_only,
    percentile,
    score_answer,
    squad_answer_found,
    squad_normalize,
)
from service.schemas import Answer, Citation

SENTENCE = "Netflix announced Sunday that the wildly popular South Korean show is green lit for a second season."
OTHER = "“Squid Game” is officially coming back."
PASSAGE = f"{OTHER} {SENTENCE}"


def cite(quote: str, n: int = 1, source: str = "a.txt") -> Citation:
    return Citation(id=n, source=source, start_line=1, end_line=1, quote=quote)


def answer(text: str, *citations: Citation, refused: bool = False) -> Answer:
    return Answer(answer=text, refused=refused, citations=list(citations))


REFUSAL = answer("The documents don't say — nothing in them answers “x”.", refused=True)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("“Squid Game”", "squid game"),
        ("The  Tony   Awards!", "tony awards"),
        ("An apple, a pear", "apple pear"),
        ("10,000", "10000"),
        ("$5", "5"),
        ("60%", "60"),
        ("Ｆｕｌｌ-width", "full width"),  # NFKC; a dash separates words
        ("the United Kingdom’s crisis", "united kingdom crisis"),  # a possessive keeps its word
    ],
)
def test_squad_normalize(raw: str, normalised: str) -> None:
    assert squad_normalize(raw) == normalised


def test_gold_answer_found_as_whole_tokens_any_alternative() -> None:
    assert squad_answer_found(["“Squid Game”"], "Netflix renewed Squid Game for a second season [1].")
    assert squad_answer_found(["Europe", "the EU"], "The EU will require it [1].")
    assert squad_answer_found(["10,000"], "About 10000 people came [1].")
    assert squad_answer_found(["United Kingdom"], "It tackles the United Kingdom’s crisis [1].")
    assert squad_answer_found(["military-style"], "a ban on military style rifles [1].")
    assert not squad_answer_found(["6"], "It happened on June 16 [1].")  # "6" is not in "16"
    assert squad_answer_found(["6"], "His detention was extended six months [1].")  # a count in words is its digits
    assert squad_answer_found(["three"], "3 people were hurt [1].")
    assert not squad_answer_found(["1"], "It is one of the largest [1].")  # "one" is as often a pronoun
    assert not squad_answer_found(["6"], "It lasted sixty days [1].")
    assert not squad_answer_found(["1"], "It was the first time [1].")  # a citation marker is not an answer
    assert not squad_answer_found(["Ban on military-style assault weapons"], "A ban on rifles [1].")
    assert squad_answer_found(["Ban on military-style assault weapons"],
                              "It does not include a federal ban on military-style assault weapons [1].")
    assert not squad_answer_found([], "anything")
    assert not squad_answer_found(["the"], "the")  # a gold answer that normalises to nothing never matches


def test_yes_no_gold_must_be_the_first_word() -> None:
    assert squad_answer_found(["no"], "No, they are from different countries [1].")
    assert not squad_answer_found(["no"], "There is no record of that [1].")
    assert squad_answer_found(["yes"], "Yes [1].")


@pytest.mark.parametrize(
    ("text", "quotes", "expected"),
    [
        (f"“{SENTENCE[:-1]}” [1].", [SENTENCE], True),  # the extractive fallback: one quoted sentence
        (f"{SENTENCE[:-1]} [1].", [SENTENCE], True),  # verbatim without quote marks is still only a quote
        (f"“{OTHER[:-1]}” [1]. “{SENTENCE[:-1]}” [2].", [OTHER, SENTENCE], True),  # two quotes
        (f"“{SENTENCE[:-1]}” [1].", [PASSAGE], True),  # one sentence of a cited passage
        (f"“{PASSAGE}” [1].", [PASSAGE], True),  # the whole passage
        (f"“{SENTENCE[:-1]}” [1] and “{OTHER[:-1]}” [2].", [SENTENCE, OTHER], False),  # one word of its own
        ("Squid Game is coming back for a second season [1].", [SENTENCE], False),  # prose
        ("Europe [1].", [SENTENCE], False),  # a short answer is not a quote even when its word is in the source
        (f"“{SENTENCE[:40]}” [1].", [SENTENCE], False),  # a fragment of a sentence is not a whole quote
        (SENTENCE, [], False),  # no citations: never quote-only
        ("[1].", [SENTENCE], False),  # no words
    ],
)
def test_quote_only(text: str, quotes: list[str], expected: bool) -> None:
    citations = [cite(q, i) for i, q in enumerate(quotes, start=1)]
    assert is_quote_only(text, citations) is expected


def test_outcome_scores_of_an_answerable_dataset_case() -> None:
    expected = Expectation(facts=[["Europe"]], sources=["gold.txt"], answers=["Europe"])
    right = score_answer(answer("Europe will require it [1].", cite("In Europe ...", source="gold.txt")), expected, 8, None)
    assert right.scores["answer_accuracy"] == right.scores["fact_recall"] == 1.0
    assert right.scores["gold_source_cited"] == 1.0 and right.scores["answerable_refused"] == 0.0
    assert right.scores["quote_only"] == 0.0 and right.scores["unanswerable_refused"] is None
    assert right.scores["support_recall"] is None  # only HotpotQA cases report it
    wrong = score_answer(answer("Asia will [1].", cite("Asia ...", source="other.txt")), expected, 8, None)
    assert wrong.scores["answer_accuracy"] == 0.0 and wrong.scores["gold_source_cited"] == 0.0
    assert wrong.scores["citation_precision"] == 0.0 and wrong.missing_facts == [["Europe"]]
    refused = score_answer(REFUSAL, expected, 8, None)
    assert refused.scores["answer_accuracy"] == 0.0 and refused.scores["answerable_refused"] == 1.0
    assert refused.scores["gold_source_cited"] == 0.0 and refused.scores["quote_only"] is None


def test_outcome_scores_of_an_unanswerable_case() -> None:
    expected = Expectation(sources=["article.txt"], answerable=False, answers=[])
    refused = score_answer(REFUSAL, expected, 8, None)
    assert refused.scores["unanswerable_refused"] == 1.0 and refused.scores["refusal_accuracy"] == 1.0
    assert refused.scores["answer_accuracy"] is None and refused.scores["answerable_refused"] is None
    answered = score_answer(answer(f"“{SENTENCE[:-1]}” [1].", cite(SENTENCE)), expected, 8, None)
    assert answered.scores["unanswerable_refused"] == 0.0 and answered.scores["quote_only"] == 1.0
    assert answered.scores["gold_source_cited"] is None and answered.scores["citation_precision"] is None


def test_support_recall_counts_the_gold_paragraphs_cited() -> None:
    expected = Expectation(facts=[["Jack Owens"]], sources=["p1.txt", "p2.txt"], answers=["Jack Owens"], support_recall=True)
    one = score_answer(answer("Jack Owens wrote it [1].", cite("Jack Owens ...", source="p1.txt")), expected, 8, None)
    assert one.scores["support_recall"] == 0.5 and one.scores["gold_source_cited"] == 1.0
    both = score_answer(
        answer("Jack Owens wrote it [1] in Laie [2].", cite("Jack Owens", 1, "p1.txt"), cite("Laie", 2, "p2.txt")),
        expected, 8, None,
    )
    assert both.scores["support_recall"] == 1.0 and both.scores["citation_precision"] == 1.0
    assert score_answer(REFUSAL, expected, 8, None).scores["support_recall"] == 0.0


def test_suite_questions_get_answer_accuracy_from_all_their_facts() -> None:
    expected = Expectation(facts=[["Ottawa"], ["160"]], sources=["a.txt"])
    half = score_answer(answer("The Ottawa Treaty [1].", cite("Ottawa Treaty")), expected, 8, None)
    assert half.scores["fact_recall"] == 0.5 and half.scores["answer_accuracy"] == 0.0
    full = score_answer(answer("160 signed the Ottawa Treaty [1].", cite("160 ... Ottawa")), expected, 8, None)
    assert full.scores["answer_accuracy"] == 1.0


def test_aggregate_means_and_numpy_percentiles() -> None:
    expected = Expectation(facts=[["Europe"]], sources=["g.txt"], answers=["Europe"])
    unanswerable = Expectation(answerable=False, answers=[])
    per_case = [
        score_answer(answer("Europe [1].", cite("In Europe, the rule applies.", source="g.txt")), expected, 8, None).scores,
        score_answer(REFUSAL, expected, 8, None).scores,
        score_answer(REFUSAL, unanswerable, 8, None).scores,
        score_answer(answer(f"{SENTENCE} [1]", cite(SENTENCE)), unanswerable, 8, None).scores,
    ]
    agg = aggregate(per_case, [100.0, 200.0, 300.0, 1000.0])
    assert agg["answer_accuracy"] == 0.5 and agg["answerable_refused"] == 0.5
    assert agg["unanswerable_refused"] == 0.5 and agg["gold_source_cited"] == 0.5
    assert agg["quote_only"] == 0.5  # of the two answers given, one is only a quote
    assert agg["latency_p50_ms"] == pytest.approx(250.0) and agg["latency_p95_ms"] == pytest.approx(895.0)
    assert percentile([], 50) is None


def test_ceiling_metrics_gate_as_maxima_and_regress_upwards() -> None:
    current = {"answerable_refused": 0.3, "quote_only": 0.1, "answer_accuracy": 0.6}
    failures = check_thresholds(current, {"answerable_refused": 0.2, "quote_only": 0.2, "answer_accuracy": 0.5})
    assert [f.metric for f in failures] == ["answerable_refused"] and "maximum" in failures[0].message
    rows = {r.metric: r for r in compare(current, {"answerable_refused": 0.1, "quote_only": 0.3, "answer_accuracy": 0.7}, 0.05)}
    assert rows["answerable_refused"].regressed and not rows["quote_only"].regressed
    assert rows["answer_accuracy"].regressed
    assert EvalResult(suite="x", k=8, dataset="squad2", split="dev", limit=4).model_dump()["dataset"] == "squad2"
