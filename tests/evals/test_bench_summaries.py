"""The Multi-News benchmark's own parts: the lead-3 and LexRank baselines and the text ROUGE is computed on."""

from __future__ import annotations

import pytest

from evals.bench_summaries import lead3, lexrank, paired_margin, summary_text
from service.schemas import Summary


def test_lead3_takes_the_first_three_sentences_of_each_article() -> None:
    a = "One happened. Two followed. Three ended it. Four is late."
    b = "Alpha began. Beta went on."
    assert lead3([a, b]) == "One happened. Two followed. Three ended it. Alpha began. Beta went on."


def test_summary_text_is_overview_and_bullets_without_markers() -> None:
    summary = Summary(summary="Mines were sent [1].", bullets=["Russia objected [2][3].", "Kyiv agreed [1]."],
                      differences=["A says 5 [1]; B says 6 [2]."], citations=[])
    text = summary_text(summary)
    assert "[" not in text and "Mines were sent" in text and "Kyiv agreed" in text
    assert "says 5" not in text, "the differences section is not part of the scored summary"


def test_lexrank_picks_the_sentences_the_others_share_words_with_within_the_budget() -> None:
    a = "The storm hit the coast on Monday. Officials closed the coast road after the storm. A bakery sold bread."
    b = "The storm flooded homes along the coast. Stocks rose."
    picked = lexrank([a, b], words_budget=12)
    assert "storm" in picked and "bakery" not in picked and "Stocks" not in picked
    assert len(picked.split()) < 12 + 10  # stops once the budget is reached (whole sentences)
    assert lexrank([], 10) == ""


def test_paired_margin_is_the_mean_difference_with_a_bootstrap_interval_around_it() -> None:
    mean, lo, hi = paired_margin([0.5, 0.4, 0.6, 0.5], [0.4, 0.4, 0.5, 0.5])
    assert mean == pytest.approx(0.05) and 0.0 <= lo <= mean <= hi <= 0.1
    assert paired_margin([0.5, 0.4, 0.6, 0.5], [0.4, 0.4, 0.5, 0.5]) == (mean, lo, hi), "fixed seed"
    assert paired_margin([0.3] * 5, [0.3] * 5) == (0.0, 0.0, 0.0)
    assert paired_margin([], []) == (0.0, 0.0, 0.0)
