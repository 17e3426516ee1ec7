"""A capable model's two-hop answer cites where its fact is; the sentence that makes it the asked one is quoted
beside it (service.pipeline.bridging.linking_sentence)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from service.config import Settings
from service.engine import Engine
from service.pipeline.answering import LINK_LEAD
from service.pipeline.bridging import linking_sentence
from service.pipeline.evidence import RankedEvidence
from service.pipeline.terms import content_terms
from service.profiles import PROFILES
from tests.service.pipeline.scripted import CitingModel

# Two invented pages, titled as encyclopaedia pages are: the architect's, and the prize's that names her.
PAGES = {
    "Orla_Venn.txt": "Orla Venn\n\nOrla Venn (born 14 March 1931) is a retired Norwegian architect.\n"
    "She designed the harbour library in Tromsø.\n",
    "Kessa_Prize_1988.txt": "Kessa Prize, 1988\n\nThe Kessa Prize for coastal architecture was awarded in Bergen in "
    "May 1988, after Orla Venn withdrew from the jury.\nThe jury chose a design by Paul Ek.\n",
}
QUESTION = "In what year was the Norwegian architect who withdrew from the jury of the Kessa Prize, 1988 born?"
BORN = "Orla Venn (born 14 March 1931) is a retired Norwegian architect."
WITHDREW = "The Kessa Prize for coastal architecture was awarded in Bergen in May 1988, after Orla Venn withdrew from the jury."


def _evidence(number: int, source: str, text: str) -> RankedEvidence:
    return RankedEvidence(number=number, source=source, start_line=3, end_line=3, text=text, score=1.0 - number / 10)


def test_the_sentence_tying_an_answer_to_the_rest_of_the_question_is_found() -> None:
    born = _evidence(1, "Orla_Venn.txt", BORN)
    withdrew = _evidence(2, "Kessa_Prize_1988.txt", WITHDREW)
    other = _evidence(3, "Kessa_Prize_1988.txt", "The jury chose a design by Paul Ek.")
    evidence = [born, withdrew, other]
    found = linking_sentence(QUESTION, "Orla Venn was born in 1931 [1].", [born], evidence, PAGES.__getitem__)
    assert found is not None
    sentence, terms = found
    assert sentence is withdrew and content_terms("jury Kessa Prize 1988 withdrew") <= terms
    # the linking sentence must name what the answer names: the jury's other sentence does not
    assert linking_sentence(QUESTION, "Paul Ek designed it [1].", [born], evidence, PAGES.__getitem__) is None
    # nothing is left out when the answer already cites the prize's page
    assert linking_sentence(QUESTION, "Orla Venn was born in 1931 [1].", [born, withdrew], evidence, PAGES.__getitem__) is None
    # a shared word is no link: a two-letter acronym, or a name the sentence has only as an ordinary word
    common = _evidence(4, "Kessa_Prize_1988.txt", "The US jury of the Kessa Prize, 1988 withdrew its medal.")
    assert linking_sentence(QUESTION, "The US architect was born in 1931 [1].", [born], [born, common], PAGES.__getitem__) is None
    lowercase = _evidence(4, "Kessa_Prize_1988.txt", "The Kessa Prize jury of 1988 withdrew its medal for design.")
    assert linking_sentence(QUESTION, "She won the Design Medal in 1931 [1].", [born], [born, lowercase], PAGES.__getitem__) is None
    capitalised = lowercase.model_copy(update={"text": "The Kessa Prize jury of 1988 withdrew its Design Medal."})
    assert linking_sentence(QUESTION, "She won the Design Medal in 1931 [1].", [born], [born, capitalised], PAGES.__getitem__)
    # a question the cited sentence covers needs no link
    covered = "When was the Norwegian architect Orla Venn born?"
    assert linking_sentence(covered, "Orla Venn was born in 1931 [1].", [born], evidence, PAGES.__getitem__) is None


@pytest.fixture(scope="module")
def pages_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    folder = tmp_path_factory.mktemp("pages")
    for name, text in PAGES.items():
        (folder / name).write_text(text, encoding="utf-8")
    engine = Engine(Settings(home=Path(tmp_path_factory.mktemp("pages-home")) / "citewise-home"), llm=CitingModel("Orla Venn was born in 1931", fact="born 14 March 1931"))
    engine.ingest([folder])
    try:
        yield engine
    finally:
        engine.close()


def test_a_two_hop_answer_quotes_what_ties_it_to_the_question(pages_engine: Engine) -> None:
    pipeline = replace(pages_engine.answers(), profile=PROFILES["small"])
    answer = pipeline.answer(QUESTION)
    assert not answer.refused, answer.answer
    assert answer.answer.startswith("Orla Venn was born in 1931 [1]."), answer.answer
    assert f"{LINK_LEAD}“{WITHDREW[:-1]}” [2]" in answer.answer, answer.answer
    assert {c.source for c in answer.citations} == set(PAGES)
    assert any("ties the answer" in d.reason for d in answer.trace.decisions)
    # the streamed answer shows the same sentences
    events = list(pipeline.stream(QUESTION))
    shown = [e.data["text"] for e in events if e.event == "sentence"]
    assert " ".join(shown) == answer.answer
    # the tiny profile quotes its evidence itself: no link is added to it
    tiny = replace(pages_engine.answers(), profile=PROFILES["tiny"]).answer(QUESTION)
    assert LINK_LEAD not in tiny.answer
