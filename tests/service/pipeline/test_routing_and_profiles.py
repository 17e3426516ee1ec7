"""Routing (corpus and document questions → summaries), model profiles, headings and role pairing.

The routing table and the profile choice are pure functions; the routed answer and the profile in the trace run
through the real engine and model over the news corpus."""

from __future__ import annotations

import pytest

from service.engine import Engine
from service.pipeline.routing import route_question
from service.pipeline.sentences import is_heading
from service.pipeline.verifier import check_support, unpaired_names
from service.profiles import PROFILES, choose_profile, profile_from_model

SOURCES = ["board-minutes-2025-01-14.txt", "budget-memo-2025-02-03.txt", "customer-faq.html", "project-overview.md"]


@pytest.mark.parametrize(
    ("question", "kind", "source", "focus"),
    [
        ("What is this collection of documents about?", "summary", None, None),
        ("What are these documents about?", "summary", None, None),
        ("What are the main points?", "summary", None, None),
        ("Summarize the budget memo", "summary", "budget-memo-2025-02-03.txt", None),
        ("What are the main points of the board minutes?", "summary", "board-minutes-2025-01-14.txt", None),
        ("What is the project overview about?", "summary", "project-overview.md", None),
        ("Summarize what the documents say about pricing", "summary", None, "pricing"),
        ("What is the Ottawa Treaty about?", "answer", None, None),
        ("What does the FAQ say about boil-water notices?", "answer", None, None),
        ("What is the population of Calder Falls?", "answer", None, None),
    ],
)
def test_route_table(question: str, kind: str, source: str | None, focus: str | None) -> None:
    route = route_question(question, SOURCES)
    assert (route.kind, route.source, route.focus) == (kind, source, focus), route


def test_a_follow_up_about_this_is_not_a_corpus_summary() -> None:
    assert route_question("What is this about?", SOURCES).kind == "summary"
    assert route_question("What is this about?", SOURCES, follow_up=True).kind == "answer"


def test_profiles_are_chosen_from_the_model_and_overridable() -> None:
    assert choose_profile(None, embedded_model="tiny", model_id="SmolLM2-135M-Instruct").name == "tiny"
    assert choose_profile(None, embedded_model="quality", model_id="qwen2.5-coder-1.5b").name == "small"
    assert profile_from_model("Qwen/Qwen2.5-7B-Instruct").name == "large"
    assert profile_from_model("gpt-4o-mini").name == "large"
    assert profile_from_model("llama-3.2-1b-instruct").name == "small"
    assert profile_from_model("SmolLM2-135M-Instruct").name == "tiny"  # `citewise llm-server` serving the default
    assert profile_from_model("SmolLM2-360M-Instruct", context_tokens=8192).name == "tiny"
    assert profile_from_model("some-model").name == "small"
    assert profile_from_model("m", context_tokens=131072).name == "large"
    assert choose_profile("large", embedded_model="tiny", model_id="SmolLM2").name == "large"
    tiny, small = PROFILES["tiny"], PROFILES["small"]
    assert tiny.paraphrase == "lexical" and not tiny.synthesis
    assert small.paraphrase == "semantic" and small.synthesis and small.draft_tokens > tiny.draft_tokens


def test_headings_titles_and_address_lines_are_not_sentences() -> None:
    for line in ["Calder Falls Water Utility", "Calder Falls Water Utility.", "Firmware 3.3 Release Notes",
                 "To: Priya Nandakumar, P.E., Project Manager, Calder Falls Water Utility.",
                 "Big Hero 6 (film)", "Lover Come Back (1961 film)",
                 "2. Award of the Northgate Reservoir construction contract", "3.1 Scope of work", "IV. Findings"]:  # fmt: skip  # a disambiguating note ends no sentence
        assert is_heading(line), line
    for line in ["Inspection date: October 22, 2024.", "The mines were banned in 1997.", "Mines were banned.",
                 "He played for the Philadelphia Eagles (1941).", "The cost rose (see Table 2)",
                 "3.5 million people were displaced", "2. Submit the signed form to the office by Friday."]:  # fmt: skip
        assert not is_heading(line), line


def test_a_web_page_s_link_tag_and_credit_lines_are_not_sentences() -> None:
    """Multi-News pages: "Read more about: Mitt Romney, Women, Marco Rubio" was the evidence quoted for "What did
    Marco Rubio say about Romnesia?", and the tiny model drafted "The office of the Texas Governor is Wendy Davis"
    from "MORE: Wendy Davis Eyes Texas Governor Run". A label the page furniture uses, then names in title case."""
    for line in ["Read more about: Mitt Romney, Women, Marco Rubio", "MORE: Wendy Davis Eyes Texas Governor Run",
                 "RELATED: Best Places To Live In The World 2016", "Photo: Getty Images", "Contributing: The Associated Press"]:  # fmt: skip
        assert is_heading(line), line
    # a label with a statement after it, or a label that is content ("Incumbent", RealTime QA's Senate races)
    for line in ["Related: the city council voted 5-2 to approve the plan.", "Incumbent: Republican Ron Johnson",
                 "Photo: the crowd gathered outside the court."]:  # fmt: skip
        assert not is_heading(line), line


def test_a_name_tied_to_the_wrong_role_is_not_supported(news_engine: Engine) -> None:
    cited = ["Staff present: General Manager Robert Lindqvist, Project Manager Priya Nandakumar and Finance Director Luis Ferreira."]
    assert unpaired_names("Robert Lindqvist is the project manager.", cited) == ["Robert Lindqvist"]
    assert unpaired_names("Priya Nandakumar is the project manager.", cited) == []
    assert unpaired_names("The finance director is Luis Ferreira.", cited) == []
    wrong = check_support("Robert Lindqvist is the project manager.", cited, news_engine.corpus.embedder)
    right = check_support("Priya Nandakumar is the project manager.", cited, news_engine.corpus.embedder)
    assert not wrong.supported and wrong.unpaired == ["Robert Lindqvist"]
    assert right.supported or right.lexical < 0.75  # only the pairing rule differs between the two


def test_a_role_a_persons_own_text_gives_by_he_or_she_is_tied_to_that_person() -> None:
    """A page about someone names them once, then says "He …": the role is theirs. A text that does not open
    with the name gives its "She …" to nobody in particular."""
    page = "Orla Venn (born 1931) is a Norwegian architect. She later served as the jury chair of the Kessa Prize."
    assert unpaired_names("Orla Venn was the jury chair of the Kessa Prize.", [page]) == []
    minutes = "Staff present: Orla Venn and Paul Ek. She is the jury chair this year."
    assert unpaired_names("Orla Venn is the jury chair.", [minutes]) == ["Orla Venn"]
    assert unpaired_names("Paul Ek was the jury chair.", [page]) == []  # no Paul Ek in the page: the name check's job


@pytest.mark.slow
def test_a_corpus_question_is_answered_by_a_cited_summary(news_engine: Engine) -> None:
    answer = news_engine.ask("What is this collection of documents about?")
    assert answer.route == "summary" and not answer.refused
    assert answer.citations and {c.source for c in answer.citations} == {
        "000_1ca178c960a0782e.txt", "001_846b2a5c2ae0efae.txt"
    }  # fmt: skip
    text = news_engine.document_text
    assert all(c.quote in "\n".join(text(c.source).split("\n")[c.start_line - 1 : c.end_line]) for c in answer.citations)
    assert all(f"[{c.id}]" in answer.answer for c in answer.citations)


@pytest.mark.slow
def test_the_trace_names_the_profile_and_a_refusal_echoes_the_standalone_question(news_engine: Engine) -> None:
    answer = news_engine.ask("Which treaty bans antipersonnel mines?")
    assert answer.trace is not None and answer.trace.profile == "tiny" and answer.route == "answer"
    refused = news_engine.ask("How many goals did the football team score in the final?")
    assert refused.refused and refused.trace is not None
    assert refused.trace.standalone_question in refused.answer
