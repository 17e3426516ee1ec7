"""Two-hop questions: the answer's second half is in a document the question never names, linked to the first by a
title (service.pipeline.bridging). Real index, real embedder, real local model over a small corpus written here:
seven titled pages: a bridge, the firm that designed it, and five firms headquartered elsewhere that designed other bridges, so "headquartered" alone does
not find the right firm's page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.config import Settings
from service.engine import Engine
from service.llm import LLMClient
from service.pipeline.answering import focus_terms, names_focus, with_antecedents
from service.pipeline.bridging import bridges, names_in, second_hop
from service.pipeline.evidence import RankedEvidence
from service.pipeline.sentences import title_of
from service.schemas import SearchHit

PAGES = {
    "kestrel-bridge.md": "# Kestrel Bridge\n\nThe Kestrel Bridge is a cable-stayed bridge over the Arlen River, designed by "
    "the engineering firm Halvorsen & Brandt and opened in 1998. It carries four lanes of traffic and a cycle path.\n",
    "halvorsen-brandt.md": "# Halvorsen & Brandt\n\nHalvorsen & Brandt was founded in 1961 by two naval architects. "
    "Its headquarters are in Tromsø, Norway, and it employs about 300 people.\n",
}
for firm, city, work in [("Norvik Consulting", "Oslo", "Pell Bridge"), ("Aster Partners", "Bergen", "Tessel Bridge"),
                         ("Lindqvist Group", "Gothenburg", "Vane Bridge"), ("Corran Works", "Aberdeen", "Selby Bridge"),
                         ("Mora Engineering", "Uppsala", "Kestrel Tower")]:  # fmt: skip
    PAGES[f"{firm.lower().replace(' ', '-')}.md"] = (
        f"# {firm}\n\n{firm} is an engineering firm headquartered in {city}. The firm designed the {work}.\n"
    )
QUESTION = "In which city is the engineering firm that designed the Kestrel Bridge headquartered?"


@pytest.fixture(scope="module")
def bridges_engine(tmp_path_factory: pytest.TempPathFactory, llm: LLMClient) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("multihop")
    docs = root / "docs"
    docs.mkdir()
    for name, text in PAGES.items():
        (docs / name).write_text(text, encoding="utf-8")
    with Engine(Settings(home=root / "home"), llm=llm) as engine:
        engine.ingest([docs])
        yield engine


def test_the_first_retrieval_alone_does_not_reach_the_second_document(bridges_engine: Engine) -> None:
    """The premise of the test below: without the bridge name the right firm's page is not among the hits."""
    hits = bridges_engine.retrieve(QUESTION, 3)
    assert "halvorsen-brandt.md" not in {h.source for h in hits}


def test_a_two_hop_question_cites_both_documents(bridges_engine: Engine) -> None:
    answer = bridges_engine.ask(QUESTION, k=3)
    assert not answer.refused, answer.answer
    assert {c.source for c in answer.citations} == {"kestrel-bridge.md", "halvorsen-brandt.md"}, answer.answer
    assert "Tromsø" in answer.answer
    for c in answer.citations:  # quotes verbatim, as every citation
        assert c.quote in bridges_engine.document_text(c.source)


def test_no_second_hop_when_the_best_evidence_answers(bridges_engine: Engine) -> None:
    answer = bridges_engine.ask("Which river does the Kestrel Bridge cross?")
    assert {c.source for c in answer.citations} == {"kestrel-bridge.md"}, answer.answer


# --- the parts, without the model ---------------------------------------------------------------------------


def test_names_and_titles() -> None:
    text = "Jagdish Mali (18 January 1954 – 13 May 2013) was a photographer. He was the father of actress Antara Mali."
    assert names_in(text) == ["Jagdish Mali", "Antara Mali"]
    assert names_in("The part was played by Ann B. Davis for Two Dollar Radio.") == ["Ann B. Davis", "Two Dollar Radio"]
    assert title_of("# Halvorsen & Brandt\n\nText.") == "Halvorsen & Brandt"
    assert title_of("Big Hero 6 (film)\n\nBig Hero 6 is a film.") == "Big Hero 6"
    assert title_of("CNN —\n\nA news article.") is None  # a dateline, not a title
    assert title_of("The bridge opened in 1998. It carries four lanes.") is None


def test_bridges_leave_out_what_the_question_names() -> None:
    best = RankedEvidence(number=1, source="a.md", start_line=3, end_line=3, score=0.6,
                          text="He was runner-up in the 1999 championship, driving for Scuderia Ferrari.")  # fmt: skip
    document = "Eddie Irvine\n\nHe was runner-up in the 1999 championship, driving for Scuderia Ferrari."
    assert bridges("Who was runner-up in the 1999 championship?", best, document) == ["Eddie Irvine", "Scuderia Ferrari"]
    assert bridges("Did Eddie Irvine drive for Scuderia Ferrari?", best, document) == []


def test_documents_without_titles_never_hop(embedder) -> None:
    """News articles (a dateline, no title): nothing links them, so a single-document question is left alone."""
    texts = {"a.txt": "CNN —\n\nThe mayor opened the Arlen bridge on Monday. It was designed by Halvorsen & Brandt.",
             "b.txt": "CNN —\n\nHalvorsen & Brandt said its office in Tromsø would hire 40 engineers."}  # fmt: skip
    best = RankedEvidence(number=1, source="a.txt", start_line=3, end_line=3, score=0.7, text="It was designed by Halvorsen & Brandt.")
    hits = [SearchHit(source=s, start_line=1, end_line=3, score=1.0, text=t) for s, t in texts.items()]
    hop = second_hop("Where is the office of the firm that designed the Arlen bridge?", [best], hits,
                     retrieve=lambda query, k: hits, encoder=embedder, text_of=texts.__getitem__)  # fmt: skip
    assert hop.evidence is None and "linked" in hop.reason


def test_an_answer_led_by_the_show_gets_the_sentence_that_names_it() -> None:
    """"Which acclaimed mystery series was renewed?" — the best sentence says "the acclaimed mystery series"; the
    sentence before it names the series."""
    text = "CNN —\n\n“The Lantern Hours” is coming back for a third season.\n\nStreamly confirmed on Monday that the acclaimed mystery series was renewed."
    question = "Which acclaimed mystery series was renewed this week?"
    assert focus_terms(question) == {"acclaim", "mysteri", "seri"}
    best = RankedEvidence(number=1, source="s.txt", start_line=5, end_line=5, score=0.8,
                          text="Streamly confirmed on Monday that the acclaimed mystery series was renewed.")  # fmt: skip
    assert names_focus(best.text, focus_terms(question))
    evidence = [best]
    chosen = with_antecedents(question, [best], evidence, lambda source: text)
    assert [e.text for e in chosen] == ["“The Lantern Hours” is coming back for a third season.", best.text]
    assert chosen[0].number == 2 and evidence[-1] is chosen[0]  # joined the evidence with the next number
    # a sentence that names nothing new before it is no antecedent; nor is a question that asks for no thing
    assert with_antecedents("Who renewed the series?", [best], [best], lambda source: text) == [best]
    plain = "CNN —\n\nIt rained all week.\n\nStreamly confirmed on Monday that the acclaimed mystery series was renewed."
    assert with_antecedents(question, [best], [best], lambda source: plain) == [best]
