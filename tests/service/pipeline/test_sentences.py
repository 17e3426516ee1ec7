"""Sentence spans must be exact: citations quote them verbatim with their line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.pipeline.sentences import sentences_in_lines, split_sentences


def _check_spans(text: str) -> None:
    lines = text.split("\n")
    for s in split_sentences(text):
        assert text[s.start_char : s.end_char] == s.text
        assert s.text == s.text.strip() and s.text
        assert s.text in "\n".join(lines[s.start_line - 1 : s.end_line])
        assert text.count("\n", 0, s.start_char) + 1 == s.start_line
        assert text.count("\n", 0, s.end_char - 1) + 1 == s.end_line


@pytest.mark.parametrize("name", ["000_1ca178c960a0782e.txt", "001_846b2a5c2ae0efae.txt"])
def test_news_sentences_have_exact_spans_and_lines(news_dir: Path, name: str) -> None:
    text = (news_dir / name).read_text(encoding="utf-8")
    _check_spans(text)
    sentences = split_sentences(text)
    # Every line's words are covered, in order, without overlap.
    assert all(a.end_char <= b.start_char for a, b in zip(sentences, sentences[1:]))
    assert "".join(s.text for s in sentences).replace(" ", "") == "".join(text.split())


def test_abbreviations_do_not_end_sentences(news_dir: Path) -> None:
    text = (news_dir / "001_846b2a5c2ae0efae.txt").read_text(encoding="utf-8")
    treaty = [s for s in split_sentences(text) if "Ottawa Treaty" in s.text]
    assert len(treaty) == 1
    assert treaty[0].text.endswith("a treaty the U.S. has not signed.")
    assert treaty[0].start_line == treaty[0].end_line == 5


def test_titles_and_lines_end_sentences_but_wrapped_prose_is_joined() -> None:
    text = (
        "A Title Without A Full Stop\n"
        "The first paragraph is wrapped at a narrow\n"
        "width, so its sentences run across\n"
        "lines. A second sentence follows here.\n"
        "\n"
        "One line.\n"
        "Another line.\n"
    )
    _check_spans(text)
    got = [(s.text, s.start_line, s.end_line) for s in split_sentences(text)]
    assert got[0] == ("A Title Without A Full Stop", 1, 1)
    assert got[1] == ("The first paragraph is wrapped at a narrow\nwidth, so its sentences run across\nlines.", 2, 4)
    assert got[2] == ("A second sentence follows here.", 4, 4)
    assert got[3:] == [("One line.", 6, 6), ("Another line.", 7, 7)]


def test_sentences_in_lines_returns_whole_sentences_overlapping_the_span() -> None:
    text = "Alpha one.\nBeta two starts here\nand wraps on. Gamma three.\nDelta four.\n"
    picked = [s.text for s in sentences_in_lines(text, 3, 3)]
    assert picked == ["Beta two starts here\nand wraps on.", "Gamma three."]
    assert [s.text for s in sentences_in_lines(text, 4, 9)] == ["Delta four."]


def test_a_short_heading_on_its_own_line_is_never_glued_to_the_next_sentence() -> None:
    # what the HTML loader makes of <h2>2. Support load</h2><p>Kim Tran reported …</p><h3>Pricing</h3>…
    text = "2. Support load\nKim Tran reported 1,340 tickets in the second quarter.\nPricing\nLumen Plus costs $4.99 per month."
    _check_spans(text)
    assert [s.text for s in split_sentences(text)] == [
        "2. Support load", "Kim Tran reported 1,340 tickets in the second quarter.", "Pricing",
        "Lumen Plus costs $4.99 per month.",
    ]


def test_table_rows_are_lines_of_their_own() -> None:
    text = ("Distributor price list\n\n| Product | Distributor price |\n|---|---|\n| Lumen Hub 2 | $84 per unit |\n"
            "| Lumen Smart Plug | $14 per unit |\nOrders of more than 1,000 hubs receive a discount.")
    _check_spans(text)
    rows = [s.text for s in split_sentences(text) if s.text.startswith("|")]
    assert rows == ["| Product | Distributor price |", "|---|---|", "| Lumen Hub 2 | $84 per unit |",
                    "| Lumen Smart Plug | $14 per unit |"]


def test_an_article_before_a_calibre_ends_no_sentence() -> None:
    """The quality model wrote "… began firing 10 rounds from a.357 Magnum, officials said [2]." and pysbd cut it
    after "a.357", leaving an uncited half. An article ends no sentence; a full stop after a word does ("…
    alcohol.59 Emotional tone …": a footnote)."""
    text = "He began firing from a.357 Magnum, officials said. It was the.45 pistol. We saw alcohol.59 Tone differed."
    _check_spans(text)
    assert [s.text for s in split_sentences(text)] == [
        "He began firing from a.357 Magnum, officials said.", "It was the.45 pistol.", "We saw alcohol.59", "Tone differed.",
    ]
