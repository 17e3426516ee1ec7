"""Evidence passages for capable models: widening the best sentences to their neighbours, and narrowing a verified
claim's citation back to the sentences it rests on (real embedder; texts written here)."""

from __future__ import annotations

from index.embeddings import MiniLMEmbedder
from service.pipeline.evidence import RankedEvidence
from service.pipeline.passages import build_passages, narrow

SHOW = (
    "Streaming news\n\n"
    "“The Lantern Hours” is coming back for a third season.\n\n"
    "Streamly confirmed on Monday that the acclaimed mystery series was renewed.\n\n"
    "Filming starts in March in Tromsø, the company said.\n\n"
    "## Other news\n\n"
    "A second series, “Low Tide”, was cancelled after one season. Its cast had not been told.\n"
)
TEXTS = {"show.md": SHOW, "other.md": "The weather was mild all week.\n\nRain is expected on Friday."}


def sentence(source: str, text: str, score: float, number: int = 0) -> RankedEvidence:
    document = TEXTS[source]
    line = document[: document.index(text)].count("\n") + 1
    return RankedEvidence(number=number, source=source, start_line=line, end_line=line, text=text, score=score)


def test_the_best_sentence_is_widened_to_its_paragraph_neighbours() -> None:
    best = sentence("show.md", "Streamly confirmed on Monday that the acclaimed mystery series was renewed.", 0.8, 1)
    passages = build_passages([best], TEXTS.__getitem__, passages=5, sentences=3, tokens=700)
    assert len(passages) == 1
    passage = passages[0]
    assert [m.text for m in passage.members] == [
        "“The Lantern Hours” is coming back for a third season.",
        best.text,
        "Filming starts in March in Tromsø, the company said.",
    ]
    assert passage.members[passage.seed] is best and passage.number == 1
    assert passage.text in SHOW and passage.start_line == 3 and passage.end_line == 7  # the exact span, verbatim


def test_neighbours_stop_at_a_heading_and_a_seed_inside_a_passage_adds_none() -> None:
    first = sentence("show.md", "Filming starts in March in Tromsø, the company said.", 0.7, 1)
    inside = sentence("show.md", "Streamly confirmed on Monday that the acclaimed mystery series was renewed.", 0.6, 2)
    other = sentence("other.md", "Rain is expected on Friday.", 0.5, 3)
    passages = build_passages([first, inside, other], TEXTS.__getitem__, passages=5, sentences=3, tokens=700)
    assert [p.source for p in passages] == ["show.md", "other.md"]
    assert "## Other news" not in passages[0].text and "Low Tide" not in passages[0].text
    assert [p.number for p in passages] == [1, 2]
    # the budget: a second passage that does not fit is left out, the first is always there
    assert len(build_passages([first, other], TEXTS.__getitem__, passages=5, sentences=3, tokens=10)) == 1
    assert len(build_passages([first, other], TEXTS.__getitem__, passages=1, sentences=3, tokens=700)) == 1


def test_a_claim_cites_only_the_sentences_it_rests_on(embedder: MiniLMEmbedder) -> None:
    best = sentence("show.md", "Streamly confirmed on Monday that the acclaimed mystery series was renewed.", 0.8, 1)
    passage = build_passages([best], TEXTS.__getitem__, passages=5, sentences=3, tokens=700)[0]
    assert [m.text for m in narrow("Filming of the show begins in March.", passage, embedder)] == [passage.members[2].text]
    both = narrow("The series from Streamly, “The Lantern Hours”, returns for a third season.", passage, embedder)
    assert [m.text for m in both] == [m.text for m in passage.members[:2]]  # the name in one, the renewal in the other
    assert narrow("Nothing here says this.", passage, embedder)[0].text == passage.members[0].text
    # a claim joining two sources: this passage answers for the names it holds ("Nordvik" is the other source's)
    joined = narrow("The series from Streamly was sold to Nordvik Pictures.", passage, embedder)
    assert [m.text for m in joined] == [passage.members[1].text]


def test_a_claim_drawn_from_several_sentences_quotes_them_all(embedder: MiniLMEmbedder) -> None:
    """A capable model listed three offers of one paragraph in one sentence; only the sentence holding its name and
    figure was quoted, so the reader saw "$5,000" and not the loan car or the warranty it was also shown as citing."""
    paragraph = (
        "Arlo Motors has not yet found the fault. Arlo Motors is offering customers the free use of another car until "
        "the fault is fixed. Arlo Motors is also offering owners $5,000 toward their car payments. Arlo Motors will "
        "also extend the factory warranty by the time the cars were out of service."
    )
    texts = {"recall.md": f"Recall\n\n{paragraph}\n"}
    offer = "Arlo Motors is also offering owners $5,000 toward their car payments."
    seed = RankedEvidence(number=1, source="recall.md", start_line=3, end_line=3, text=offer, score=0.8)
    passage = build_passages([seed], texts.__getitem__, passages=5, sentences=4, tokens=700)[0]
    claim = ("Arlo Motors offered owners the free use of another car, $5,000 toward their car payments, and an "
             "extended factory warranty.")
    assert [m.text for m in narrow(claim, passage, embedder)] == [m.text for m in passage.members[1:4]]
    # a claim of one sentence's words still quotes that sentence alone
    assert [m.text for m in narrow("Arlo Motors offered owners $5,000 toward car payments.", passage, embedder)] == [offer]


def test_a_prompt_with_a_worked_example_is_sent_as_turns() -> None:
    """prompts/answer_passages.txt: the instructions as the system message, a worked example (user, assistant),
    then the real sources and question; a prompt without "---" lines stays one user message."""
    from service.pipeline.answering import answer_messages
    from service.schemas import Evidence

    evidence = [Evidence(number=1, source="a.md", start_line=1, end_line=1, text="The Kestrel Bridge opened in 1998.")]
    turns = answer_messages("When did the bridge open?", evidence, "answer_passages")
    assert [m.role for m in turns] == ["system", "user", "assistant", "user"]
    assert "[1]" in turns[2].content  # the example answer cites, as the real one must
    assert turns[-1].content.endswith("Question: When did the bridge open?")
    assert "[1] The Kestrel Bridge opened in 1998." in turns[-1].content
    single = answer_messages("When?", evidence)
    assert [m.role for m in single] == ["user"]
    # verbatim, trailing newline included: the tiny model's drafts change with it (the examples suite lost 3 facts)
    assert single[0].content.endswith("Answer:\n")
