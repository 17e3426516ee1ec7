"""The summary's rule-based parts, without a model: which sentence pairs contradict each other (the claims
checks behind "Where the sources differ"), how a table row reads, and which sentences are summary material.

The contradiction cases are the kinds seen when the product was tried: real disagreements (a date moved, a
figure that differs for the same thing) and pairs that are not (one adds a value, different things, different
times, a figure that follows from the other, the same statement with a different apostrophe)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.pipeline.claims import claims_in, contradicting_values
from service.pipeline.contradictions import classify_difference
from service.pipeline.markers import with_markers
from service.pipeline.summaries.plan import is_summary_material, summary_reading
from service.pipeline.summaries.summarize import BULLETS, corpus_bullets
from service.pipeline.summaries.tables import table_rows

CONTRADICTIONS = [
    ("The firmware 3.0 release is planned for September 2025.",
     "To fix them, the firmware 3.0 release has moved to October 2025.", "date"),
    ("A built-in battery keeps the hub running for 8 hours during a power cut.",
     "The hub's battery keeps it running for up to 12 hours, so automations keep working.", "duration"),
    ("Casualties rose 22% to 5,757 victims.", "Casualties rose 18% to 4,710 victims.", "count:victim"),
]
COMPATIBLE = [
    # one source adds a value to the same claim
    ("The reservoir is planned to return to service by September 30, 2025.",
     "The reservoir will be taken offline on April 7, 2025, and is planned to return to service by September 30, 2025."),
    # figures about different things: a minimum order, a quantity shipped
    ("The minimum order is 200 hubs per quarter.", "Brightwell shipped 4,120 hubs last year."),
    # different times, different figures
    ("Brightwell shipped 4,120 hubs in the second quarter.", "The company expects to ship 5,000 hubs in the third quarter."),
    # a figure that follows from the other's
    ("For a typical household the monthly bill would rise by $1.69.",
     "A typical household bill goes from $48.20 to $49.89 per month."),
    # dates of two events (a hearing; the start of a rate)
    ("Staff recommend that the Board adopt the rate increase after the public hearing on February 11, 2025.",
     "The Board adopted a 3.5 percent rate increase that starts on July 1, 2025."),
    # two rates: an interest rate is not a rate increase
    ("The proposed rate increase of 3.5 percent takes effect on July 1.", "The loan has an interest rate of 1.9 percent."),
    # "may" the verb and "March" in "marks" are not months
    ("The plan may change and marks a decision.", "The plan changed in October."),
    # a duration without a number and the same unit with one (Multi-News validation cluster 46)
    ("The pilot has been stranded on the island for years.", "The pilot has been stranded on the island for nearly 30 years."),
    # one duration in two units
    ("The beta lasts two weeks for every tester.", "The beta lasts 14 days for every tester."),
    # hedged figures close to each other
    ("More than 160 countries have signed the treaty.", "164 countries have signed the treaty."),
]


@pytest.mark.parametrize(("a", "b", "kind"), CONTRADICTIONS)
def test_values_that_cannot_both_be_true_contradict(a: str, b: str, kind: str) -> None:
    found = contradicting_values(a, b)
    assert found is not None and found[0].kind == kind and found[1].kind == kind, found
    assert contradicting_values(b, a) is not None, "symmetric"


@pytest.mark.parametrize(("a", "b"), COMPATIBLE)
def test_values_that_can_both_be_true_do_not_contradict(a: str, b: str) -> None:
    assert contradicting_values(a, b) is None, claims_in(a) + claims_in(b)


def test_claims_read_amounts_with_their_scale_and_counts_with_their_unit() -> None:
    claims = {c.kind: c for c in claims_in("The contract of $5.9 million covers 2,300 meters of pipe from March 3.")}
    assert claims["money"].number == 5_900_000
    assert claims["count:meter"].number == 2300
    assert claims["date"].value == "mar 3"


def test_a_rare_shared_term_is_needed_when_the_corpus_weights_are_given() -> None:
    a, b = CONTRADICTIONS[0][:2]
    assert classify_difference(a, b, 0.8) == "dates"
    common = {"firmwar": 0.5, "releas": 0.5}  # the corpus' general subject, in every other sentence
    assert classify_difference(a, b, 0.8, common) is None
    assert classify_difference(a, b, 0.5) is None, "only a date differs: the same event needs close sentences"


def test_polarity_needs_the_same_statement_and_reads_both_apostrophes() -> None:
    assert classify_difference("The US has signed the treaty banning mines.",
                               "The US has not signed the treaty banning mines.", 0.95) == "polarity"
    same = ("“I don’t expect Mitch McConnell to say that is the case today,” the president said.",
            "\"I don't expect Mitch McConnell to say that is the case today,\" the president said.")
    assert classify_difference(*same, 0.99) is None
    assert classify_difference("The men failed to return from the swim at 5:30 p.m.",
                               "The men did not return from the swim at 5:30 p.m.", 0.95) is None
    assert classify_difference("The mines carry risks.", "The mines carry risks.", 0.99) is None
    extra = ("Business is looking better than ever, stock market at an all-time high, Trump tweeted.",  # cluster 19
             "Business is looking better than ever, stock market at an all-time high. That doesn't just happen! he tweeted.")
    assert classify_difference(*extra, 0.95) is None


def test_a_table_row_reads_with_its_header_and_quotes_header_through_row() -> None:
    text = ("Price list\n| Product | Distributor price | Retail |\n|---|---|---|\n| Lumen Hub 2 | $84 per unit | $129 |\n"
            "| Smart Plug | $14 per unit | – |\n\n| not a table |\n")
    rows = table_rows(text)
    assert [r.reading for r in rows] == ["Lumen Hub 2: distributor price $84 per unit, retail $129.",
                                         "Smart Plug: distributor price $14 per unit."]
    first = rows[0]
    assert (first.start_line, first.end_line) == (2, 4)
    assert first.quote == text[first.start_char : first.end_char] and first.quote.endswith("| $129 |")


@pytest.mark.parametrize(("text", "material"), [
    ("Effective date: 1 April 2025.", False),
    ("Inspection date: October 22, 2024.", False),
    ("The meeting was called to order at 6:30 p.m. in Room 204 by Chair Margaret Osei.", False),
    ("Just fill in your contact details in the form below to join our mailing list.", False),
    ("Progress to date: The reservoir was drained and taken offline on April 7, 2025, as planned.", True),
    ("The board approved a budget of 48 million euros for a new plant.", True),
])
def test_form_fields_procedure_and_boilerplate_are_not_summary_material(text: str, material: bool) -> None:
    assert is_summary_material(text) is material


@pytest.mark.parametrize(("text", "reading"), [
    ("WASHINGTON (AP) — The Senate passed the bill on Tuesday by a vote of 68 to 32.",
     "The Senate passed the bill on Tuesday by a vote of 68 to 32."),
    ("FLORENCE, Italy, Feb. 25 (UPI) -- Raffaele Sollecito has stood by his former girlfriend.",
     "Raffaele Sollecito has stood by his former girlfriend."),
    ("(CNN) -- The winter storm moved east on Friday night, bringing snow.", "The winter storm moved east on Friday night, bringing snow."),
    ("Progress to date: The reservoir was drained and taken offline on April 7, 2025, as planned.",
     "The reservoir was drained and taken offline on April 7, 2025, as planned."),
    ("2. Interior coating: The coating has failed over about 30 percent of the wall area.",
     "The coating has failed over about 30 percent of the wall area."),
    ("John Smith: We will not raise the rates this year at all.", None),  # a speaker, not a label
    ("The logic seems sound: the more tickets you buy, the better your odds.", None),
    ("NASA said the launch — its third this year — went well on Monday.", None),
    ("WASHINGTON (AP) — Yes.", None),  # nothing left to read
])
def test_a_summary_reads_a_sentence_without_its_dateline_or_label(text: str, reading: str | None) -> None:
    assert summary_reading(text) == reading


@pytest.mark.parametrize("length", ["short", "medium", "long"])
def test_a_corpus_summary_is_longer_than_a_documents_and_grows_with_the_corpus(length: str) -> None:
    # Human multi-document summaries run ~230 words (Multi-News); five bullets and an overview made ~190.
    assert corpus_bullets(length, 1) == BULLETS[length]
    assert BULLETS[length] < corpus_bullets(length, 2) <= corpus_bullets(length, 3) <= corpus_bullets(length, 20)
    assert corpus_bullets("medium", 2) < corpus_bullets("medium", 3)  # one more per document
    assert corpus_bullets(length, 20) <= 2 * BULLETS[length]  # bounded: a big folder is not a bullet per file


def test_markers_keep_a_quotation_closed() -> None:
    # a whole quotation quoted from a document: its closing mark stays, the marker goes before the full stop
    assert with_markers("“It always breaks. I have to look out for him.”", [6]) == "“It always breaks. I have to look out for him” [6]."
    assert with_markers('He said "no more."', [1]) == 'He said "no more" [1].'
    assert with_markers("Prices rose (by 5%).", [1, 2]) == "Prices rose (by 5%) [1][2]."
    assert with_markers("Mines were sent.", [1]) == "Mines were sent [1]."


class Texts:
    """Documents as the summaries read them: texts only, no chunks."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts

    def text(self, source: str) -> str:
        return self.texts[source]

    def chunks_for(self, source: str) -> list:
        return []

    @classmethod
    def of_folder(cls, folder: Path) -> Texts:
        return cls({path.name: path.read_text(encoding="utf-8") for path in folder.iterdir() if path.is_file()})


def test_a_sentence_leaning_on_an_opening_question_loses_salience(embedder) -> None:
    """"Hoping to bring some mustard home? It might be the last place you'll find some …": the question is no
    summary material, so the sentence leaning on it came first among the candidates and was exempt from the
    leaning penalty — and became the document's bullet in a corpus summary."""
    from service.pipeline.summaries.plan import LEANING_PENALTY, plan_document

    body = ("It might be the last place you will find any mustard at the moment. The famous condiment is running out "
            "in every shop of the country, and there is no sign of its return to the shelves.\n")
    texts = Texts({"asked.txt": f"Dijon Daily —\n\nHoping to bring some mustard home? {body}", "plain.txt": body})
    asked, plain = (plan_document(name, documents=texts, encoder=embedder, context_tokens=2048).candidates[0]
                    for name in ("asked.txt", "plain.txt"))
    assert asked.text == plain.text and asked.text.startswith("It might")
    assert asked.salience == pytest.approx(plain.salience - LEANING_PENALTY, abs=1e-4)


class ScriptedModel:
    """The capable model's replies, scripted (parsing and verification logic only): the bullets, then "yes"."""

    model_name = "scripted"

    def __init__(self, bullets: str) -> None:
        self.bullets, self.judged = bullets, []

    def stream(self, messages, max_tokens=None, usage=None):  # noqa: ANN001, ANN201 - ChatModel.stream's shape
        yield self.bullets

    def complete(self, messages, max_tokens=None, usage=None) -> str:  # noqa: ANN001 - ChatModel.complete's shape
        self.judged.append(messages[-1].content)
        return "yes"


def test_composed_bullets_keep_only_verified_sentences_and_lose_no_chosen_point(embedder, news_dir) -> None:
    """A capable model's bullets: a bullet joining two sentences is kept with each sentence's own citation; an
    invented bullet (its names and date in no sentence) is dropped; a chosen sentence no kept bullet cites
    comes back quoted; a line that is not a bullet is ignored."""
    from service.pipeline.citations import CitationBook
    from service.pipeline.evidence import embed
    from service.pipeline.sentences import split_sentences
    from service.pipeline.summaries.phrasing import SummaryRun, compose_bullets, points_of
    from service.pipeline.summaries.plan import Candidate
    from service.pipeline.summaries.summarize import render_point

    def candidate(name: str, starts: str) -> Candidate:
        s = next(s for s in split_sentences((news_dir / name).read_text(encoding="utf-8")) if s.text.startswith(starts))
        return Candidate(source=name, sentence=s, position=s.start_line, chunk=0, vector=embed(embedder, [s.text])[0],
                         salience=1.0)

    a, b = "000_1ca178c960a0782e.txt", "001_846b2a5c2ae0efae.txt"
    chosen = points_of([candidate(a, "Ukraine ranked third"), candidate(a, "Earlier, Biden had also authorized"),
                        candidate(b, "The move contrasts with a pledge")])
    model = ScriptedModel(
        "- Ukraine ranked third among the countries most affected by antipersonnel mines, with 580 casualties "
        "this year [1]. Earlier, Biden had also let Kyiv use long-range ATACMS missiles against Russian territory [2].\n"
        "- The council approved the new budget on 4 March [3].\n"
        "A closing remark that is no bullet [1]."
    )
    run = SummaryRun(documents=Texts.of_folder(news_dir), retrieve=None, encoder=embedder, llm=model, context_tokens=2048, top_k=8,
                     locate=None, progress=None)
    run.judge = run.timed_judge(model)
    bullets = compose_bullets(run, chosen, 5, what="2 documents")
    book = CitationBook()
    rendered = [render_point(book, p) for p in bullets]
    assert len(rendered) == 2 and rendered[0].startswith("Ukraine ranked third") and rendered[0].count("[") == 2
    assert "[1]. Earlier, Biden had also let Kyiv" in rendered[0] and rendered[0].endswith("territory [2].")
    assert bullets[0].phrased and not bullets[1].phrased
    assert rendered[1] == f"{chosen[2].main.text.rstrip('.')} [3]."  # quoted: no kept bullet cited it
    assert not any("council" in r for r in rendered)
    assert any(d.action == "dropped" and "council" in d.sentence for d in run.decisions)


def test_a_composed_sentence_that_strays_from_its_words_is_quoted_instead(embedder, news_dir) -> None:
    """The answer verifier would keep this paraphrase (semantic 0.83, half its words in the source); a summary
    sentence must keep 70% of its words from what it cites, so the source sentence is quoted instead."""
    from service.pipeline.evidence import embed
    from service.pipeline.sentences import split_sentences
    from service.pipeline.summaries.phrasing import SUMMARY_LEXICAL_MIN, SummaryRun, compose_bullets, points_of
    from service.pipeline.summaries.plan import Candidate

    name = "000_1ca178c960a0782e.txt"
    s = next(s for s in split_sentences((news_dir / name).read_text(encoding="utf-8"))
             if s.text.startswith("Earlier, Biden had also authorized"))
    chosen = points_of([Candidate(source=name, sentence=s, position=1, chunk=0, vector=embed(embedder, [s.text])[0])])
    model = ScriptedModel("- Biden earlier quietly permitted Kyiv to fire ATACMS missiles deep into Russian territory, "
                          "in a major shift [1].")
    run = SummaryRun(documents=Texts.of_folder(news_dir), retrieve=None, encoder=embedder, llm=model, context_tokens=2048, top_k=8,
                     locate=None, progress=None)
    bullets = compose_bullets(run, chosen, 3, what="1 document")
    assert [b.text for b in bullets] == [s.text] and not bullets[0].phrased
    assert any(d.action == "dropped" and f"{SUMMARY_LEXICAL_MIN:.0%}" in d.reason for d in run.decisions)
