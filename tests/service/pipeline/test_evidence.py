"""Evidence selection on hand-made retrieval hits over the news articles (real embedder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.embeddings import MiniLMEmbedder
from service.pipeline.evidence import (
    answer_type_bonus,
    best_for_parts,
    candidate_sentences,
    question_parts,
    rank_evidence,
    select_evidence,
)
from service.pipeline.places import asked_place, places_in
from service.schemas import SearchHit

NEWS_A = "000_1ca178c960a0782e.txt"
NEWS_B = "001_846b2a5c2ae0efae.txt"


@pytest.fixture(scope="module")
def docs(news_dir: Path) -> dict[str, str]:
    return {name: (news_dir / name).read_text(encoding="utf-8") for name in (NEWS_A, NEWS_B)}


def _chunk_hits(docs: dict[str, str], size: int = 700, overlap: int = 150) -> list[SearchHit]:
    """Character chunks that cut sentences (and overlap), as a real chunker may."""
    hits = []
    for source, text in docs.items():
        for start in range(0, len(text), size - overlap):
            piece = text[start : start + size]
            first = text.count("\n", 0, start) + 1
            hits.append(SearchHit(source=source, start_line=first, end_line=first + piece.count("\n"), score=1.0, text=piece))
    return hits


def test_candidates_are_whole_distinct_sentences_even_when_chunks_cut_them(docs: dict[str, str]) -> None:
    hits = _chunk_hits(docs)
    candidates = candidate_sentences(hits, docs.get)
    keys = [(h.source, s.start_char) for h, s in candidates]
    assert len(keys) == len(set(keys)), "overlapping chunks must not duplicate sentences"
    for hit, sentence in candidates:
        text = docs[hit.source]
        assert text[sentence.start_char : sentence.end_char] == sentence.text
        assert sentence.text in "\n".join(text.split("\n")[sentence.start_line - 1 : sentence.end_line])
    # Without the document text the chunk's own sentences are used, still with document line numbers.
    alone = candidate_sentences(hits[:1], None)
    assert alone and all(docs[NEWS_A].split("\n")[s.start_line - 1].find(s.text) >= 0 for _, s in alone[1:-1])


@pytest.mark.parametrize(
    ("question", "source", "needle"),
    [
        ("Where did Ukraine rank among the countries most affected by antipersonnel mines?", NEWS_A, "ranked third"),
        ("When did the Biden administration pledge to limit anti-personnel mines?", NEWS_B, "June 2022"),
        ("Which long-range missiles had Biden authorized Kyiv to use?", NEWS_A, "ATACMS"),
        ("What do proponents argue about providing these mines?", NEWS_B, "proponents argue"),
    ],
)
def test_the_answering_sentence_ranks_first(
    embedder: MiniLMEmbedder, docs: dict[str, str], question: str, source: str, needle: str
) -> None:
    ranked = rank_evidence(question, _chunk_hits(docs), embedder, docs.get)
    assert ranked[0].source == source and needle in ranked[0].text
    assert [e.number for e in ranked] == list(range(1, len(ranked) + 1))
    assert all(a.score >= b.score for a, b in zip(ranked, ranked[1:]))


def test_select_evidence_limits_the_count_and_scores_unrelated_questions_low(
    embedder: MiniLMEmbedder, docs: dict[str, str]
) -> None:
    hits = _chunk_hits(docs)
    assert len(select_evidence("Which treaty bans antipersonnel mines?", hits, embedder, docs.get, max_evidence=3)) == 3
    related = select_evidence("Which treaty bans antipersonnel mines?", hits, embedder, docs.get)
    unrelated = select_evidence("What is the boiling point of water?", hits, embedder, docs.get)
    assert related[0].score > 0.6 > 0.3 > unrelated[0].score
    assert select_evidence("anything", [], embedder, docs.get) == []


def test_compound_question_is_split_into_parts_that_can_be_ranked_alone() -> None:
    assert question_parts("How many panels were cracked, and what does Change Order No. 2 cost?") == [
        "How many panels were cracked?",
        "what does Change Order No. 2 cost?",
    ]
    # a part with too few content words to rank on its own is left out; a simple question has no parts
    assert question_parts("When was the dive inspection done, and which company did it?") == [
        "When was the dive inspection done?"
    ]
    assert question_parts("Which treaty bans anti-personnel mines?") == []
    assert question_parts("Did Ukraine and Russia sign the treaty?") == []  # "and" between names is no break


def test_each_part_of_a_compound_question_gets_its_own_best_sentence(examples_dir: Path, embedder: MiniLMEmbedder) -> None:
    """Ranked for the whole question, the budget total outranks the yearly payment; ranked per part, each part
    finds its answer; a part the documents do not address adds nothing."""
    docs = {
        name: (examples_dir / name).read_text(encoding="utf-8")
        for name in ("budget-memo-2025-02-03.txt", "project-overview.md")
    }
    hits = _chunk_hits(docs)
    question = "How is the $6.8 million project budget funded, and how large is the yearly loan payment?"
    whole = select_evidence(question, hits, embedder, max_evidence=3)
    assert not any("254,000" in e.text for e in whole)  # the gap this fills
    parts = best_for_parts(question, hits, embedder)
    assert len(parts) == 2
    assert "254,000" in parts[1].text
    assert best_for_parts("How is the budget funded, and how many whales live in the reservoir?", hits, embedder)[1:] == []



def test_a_numbered_section_heading_is_never_evidence(examples_dir: Path, embedder: MiniLMEmbedder) -> None:
    """"2. Award of the Northgate Reservoir construction contract" names everything the question names, so it
    ranked first and was quoted as the answer; a heading is no claim."""
    docs = {name: (examples_dir / name).read_text(encoding="utf-8") for name in ("board-minutes-2025-01-14.txt",)}
    ranked = rank_evidence("How did the board vote on the Northgate Reservoir contract?", _chunk_hits(docs), embedder, docs.get)
    assert any(e.text.startswith("The motion passed 4-1") for e in ranked)
    assert not any(e.text.startswith(("1. Approval", "2. Award", "3. Proposed")) for e in ranked)


def test_a_document_s_title_line_is_never_evidence_even_with_a_colon(embedder: MiniLMEmbedder) -> None:
    """HotpotQA's page "Act of War: Direct Action" names everything the question names, so its title line ranked
    first and the tiny model's answer was that title, quoted. The colon keeps "Note: …" lines sentences; it does
    not make a title one. A sentence-case first line (a news headline) stays evidence."""
    docs = {
        "game.txt": "Act of War: Direct Action\n\nAct of War: Direct Action is a strategy game. Its story was written by Dale Brown.\n",
        "news.txt": "Floods close the coastal road near Tarvik\n\nThe road reopened on Monday after the floods.\n",
        "film.txt": "Escape from the Dark\n\nEscape from the Dark is a 1976 British family film about pit ponies.\n",
    }
    ranked = rank_evidence('Who wrote the story of "Act of War: Direct Action"?', _chunk_hits(docs), embedder, docs.get)
    assert ranked and not any(e.text == "Act of War: Direct Action" for e in ranked), ranked
    film = rank_evidence("Is Escape from the Dark an animated feature?", _chunk_hits(docs), embedder, docs.get)
    assert film and not any(e.text == "Escape from the Dark" for e in film), film  # small words in a title
    assert any("Dale Brown" in e.text for e in ranked)
    headline = rank_evidence("Which road did the floods close?", _chunk_hits(docs), embedder, docs.get)
    assert any(e.text.startswith("Floods close the coastal road") for e in headline), headline


def test_the_page_titled_by_a_name_in_the_question_is_that_name_s_evidence(embedder: MiniLMEmbedder) -> None:
    """"Ardmore Ceramic Institute" says "situated … province" like the question; "Ardmore" is the town's own page.
    For a question about Ardmore the town's page leads, and a page titled by no name of the question gains nothing."""
    docs = {
        "ardmore.txt": "Ardmore\n\nArdmore is a market town in the Vell province.\n",
        "institute.txt": "Ardmore Ceramic Institute\n\nThe Ardmore Ceramic Institute is situated in Ardmore town in Vell province.\n",
        "brisk.txt": "Brisk\n\nBrisk is a port city in the Osk province.\n",
    }
    question = "Are Brisk and Ardmore situated in the same province?"
    ranked = rank_evidence(question, _chunk_hits(docs), embedder, docs.get)
    assert {e.source for e in ranked[:2]} == {"ardmore.txt", "brisk.txt"}, ranked
    untitled = rank_evidence(question, _chunk_hits(docs), embedder)  # no document texts: no titles, no lift
    institute = next(e for e in ranked if e.source == "institute.txt")
    assert institute.score == next(e for e in untitled if e.source == "institute.txt").score
    assert next(e for e in untitled if e.source == "institute.txt").score > next(e for e in untitled if e.source == "ardmore.txt").score
    # the lift only orders: how relevant the evidence is (the verifier's off-question floor) is the score without it
    ardmore = next(e for e in ranked if e.source == "ardmore.txt")
    assert ardmore.title_lift > 0 and institute.title_lift == 0
    assert ardmore.relevance == pytest.approx(next(e for e in untitled if e.source == "ardmore.txt").score)


def test_a_question_for_a_country_or_state_ranks_the_sentence_naming_one_first(embedder: MiniLMEmbedder) -> None:
    """RealTime QA: "A volcano eruption in which country recently prompted a Level 5 alert …?" was answered with "JMA
    announced a Level 5 alert – the highest level – …": the sentence saying the question's words outranked the one
    naming the country. A sentence naming a country (a state, for "which state") the question does not name gets the
    lift a date gets for "when" (without it, the alert sentence leads here by 0.02)."""
    docs = {"volcano.txt": "Volcano alert raised\n\nThe agency announced a Level 5 alert and told people to evacuate. "
                           "The volcano in Japan erupted on Sunday, prompting evacuations.\n"}  # fmt: skip
    question = "A volcano eruption in which country prompted a Level 5 alert, the highest level?"
    ranked = rank_evidence(question, _chunk_hits(docs), embedder, docs.get)
    assert "Japan" in ranked[0].text and ranked[0].score - answer_type_bonus(question, ranked[0].text) < ranked[1].score, ranked
    flood = "Everyone has been found in the rural Virginia county hit by the downpour."
    assert answer_type_bonus("People were missing after flooding in which state?", flood) > 0
    assert answer_type_bonus("People were missing after flooding in which country?", flood) == 0
    assert asked_place("Which European nations joined the alliance?") == "country"
    assert asked_place("What is the state of the road?") is None
    # a place the question names is not its answer
    assert answer_type_bonus("Which country did Japan's prime minister visit?", "Japan's prime minister left Tokyo.") == 0
    assert answer_type_bonus("Which country did Japan's prime minister visit?", "He arrived in South Korea.") > 0
    assert places_in("state", "West Virginia and New York") == {"West Virginia", "New York"}
