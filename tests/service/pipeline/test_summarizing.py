"""Summaries with the real index, embedder and embedded model: whole-document coverage, corpus overview with
"Where the sources differ", focus topics, documents longer than the model's context, and clear errors.

Every summary is checked for the citation contract: each [n] has a citation, each citation is used, and each
quote is verbatim text of its source within its lines.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.records import Chunk
from service.config import Settings
from service.engine import Engine
from service.errors import InvalidInput, UnknownSource
from service.llm import LLMClient
from service.pipeline.citations import CitationBook
from service.pipeline.sentences import Sentence
from service.pipeline.summaries.plan import Candidate, Point, group_budget_chars, plan_groups
from service.pipeline.summaries.summarize import BULLETS, corpus_bullets, render_point
from service.schemas import Summary

NEWS_A = "000_1ca178c960a0782e.txt"
NEWS_B = "001_846b2a5c2ae0efae.txt"
MARKER = re.compile(r"\[(\d+)\]")
PRODUCTS = Path(__file__).resolve().parents[3] / "evals" / "corpora" / "products"


# --- helpers -------------------------------------------------------------------------------------------
def texts_of(summary: Summary) -> list[str]:
    return [summary.summary, *summary.bullets, *summary.differences]


def assert_citation_contract(engine: Engine, summary: Summary) -> None:
    """Every marker resolves, every citation is used, every quote is verbatim within its lines."""
    ids = [c.id for c in summary.citations]
    assert ids == list(range(1, len(ids) + 1)), "citation ids are 1..n"
    used = {int(n) for text in texts_of(summary) for n in MARKER.findall(text)}
    assert used == set(ids), f"markers {sorted(used)} vs citations {ids}"
    for c in summary.citations:
        lines = engine.document_text(c.source).split("\n")[c.start_line - 1 : c.end_line]
        assert c.quote and c.quote in "\n".join(lines), f"quote not verbatim in {c.source}:{c.start_line}-{c.end_line}"


def cited_sources(summary: Summary, text: str) -> set[str]:
    by_id = {c.id: c.source for c in summary.citations}
    return {by_id[int(n)] for n in MARKER.findall(text)}


def long_document() -> str:
    """~30k characters of plain prose with distinct facts at its beginning and end (written for this test)."""
    opening = (
        "The Harbour Valley Water Board was founded in 1952 by the engineer Martha Klein to bring clean water "
        "to the valley's eleven villages. Its first reservoir, at Stonebridge, held four million cubic metres.\n\n"
    )
    sections = []
    for i, year in enumerate(range(2001, 2025)):
        sections.append(
            f"In {year} the board replaced {12 + i * 3} kilometres of old cast-iron pipe and inspected "
            f"{140 + i * 7} pumping stations across the valley. Rainfall that year reached {610 + i * 11} "
            f"millimetres, and the reservoirs ended the summer at {55 + (i * 7) % 40} percent of capacity. "
            f"Customer complaints about pressure fell to {300 - i * 9} over the twelve months, while the "
            f"laboratory at Millford tested {2000 + i * 150} water samples for lead and bacteria. "
            f"The board's apprentices, {8 + i % 5} of them that year, trained on the new telemetry system. "
            f"Repairs after the spring storms cost {1.2 + i * 0.1:.1f} million euros, paid from the "
            f"maintenance reserve rather than from higher tariffs. Volunteers planted {400 + i * 25} trees "
            f"along the river banks to reduce erosion near the intake works.\n\n"
        )
    closing = (
        "In its final decision of the period, the board approved a budget of 48 million euros for a new "
        "desalination plant at Greyhaven, to be completed in 2029. The chair, Tomas Reyes, said the plant "
        "would secure supply for the next fifty years.\n"
    )
    text = opening + "".join(sections)
    while len(text) < 29_000:  # repeat the yearly reports once more if the prose came out short
        text += "".join(sections[:4])
    return text + closing


# --- fixtures (real components) ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine(news_engine: Engine) -> Engine:
    """The session's news engine and its one embedded model (tests/service/conftest.py)."""
    return news_engine


@pytest.fixture(scope="module")
def long_engine(tmp_path_factory: pytest.TempPathFactory, llm: LLMClient) -> Iterator[tuple[Engine, str]]:
    """An index holding one ~30k-character document (more than the model's context), borrowing the model."""
    folder = tmp_path_factory.mktemp("long-doc")
    (folder / "water_board_history.txt").write_text(long_document(), encoding="utf-8")
    # the model is borrowed: the session's news engine owns and closes it
    long = Engine(Settings(home=tmp_path_factory.mktemp("long-home") / "citewise-home"), llm=llm)
    report = long.ingest([folder])
    assert report.count("added") == 1, report
    try:
        yield long, "water_board_history.txt"
    finally:
        long.close()


@pytest.fixture(scope="module")
def products(tmp_path_factory: pytest.TempPathFactory, llm: LLMClient) -> Iterator[Engine]:
    """The products corpus (evals/corpora/products: two planted disagreements, several traps), borrowing the model."""
    engine = Engine(Settings(home=tmp_path_factory.mktemp("products-home") / "citewise-home"), llm=llm)
    report = engine.ingest([PRODUCTS])
    assert report.count("added") == 5, report
    try:
        yield engine
    finally:
        engine.close()


# --- one document --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_document_summary_streams_covers_both_ends_and_cites_only_that_document(engine: Engine) -> None:
    events = list(engine.summarize_stream(source=NEWS_A, length="medium"))
    kinds = [e.event for e in events]
    assert kinds[-2:] == ["summary", "done"] and "progress" in kinds, kinds
    summary = events[-2].data
    assert isinstance(summary, Summary)
    assert 3 <= len(summary.bullets) <= 7
    assert summary.summary and all(MARKER.search(b) for b in summary.bullets), "every bullet cites"
    assert {c.source for c in summary.citations} == {NEWS_A}
    assert_citation_contract(engine, summary)
    chunks: list[Chunk] = engine.corpus.chunks_for(NEWS_A)
    assert any(c.start_line <= chunks[0].end_line for c in summary.citations), "beginning covered"
    assert any(c.end_line >= chunks[-1].start_line for c in summary.citations), "end covered"


@pytest.mark.slow
def test_long_document_beyond_the_context_is_summarized_end_to_end(long_engine: tuple[Engine, str]) -> None:
    engine, source = long_engine
    text = engine.document_text(source)
    assert len(text) > engine.settings.llm_context_tokens * 4, "the document must exceed the model's context"
    summary = engine.summarize(source=source, length="long")
    assert summary.trace is not None and summary.trace.groups[source] >= 2, "map over several chunk groups"
    assert 3 <= len(summary.bullets) <= BULLETS["long"]
    assert_citation_contract(engine, summary)
    chunks = engine.corpus.chunks_for(source)
    assert any(c.start_line <= chunks[0].end_line for c in summary.citations), "the founding paragraph is covered"
    assert any(c.end_line >= chunks[-1].start_line for c in summary.citations), "the closing decision is covered"
    written = " ".join(texts_of(summary))
    assert "1952" in written or "Martha Klein" in written
    assert any(fact in written for fact in ("Greyhaven", "48 million", "Tomas Reyes", "fifty years"))


# --- the corpus ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_corpus_summary_cites_every_document_and_differences_cite_both_sides(engine: Engine) -> None:
    progress: list[tuple[str, int, int]] = []
    summary = engine.summarize(progress=lambda *step: progress.append(step))
    assert progress and progress[-1][1] == progress[-1][2], "progress reaches its total"
    assert_citation_contract(engine, summary)
    assert {c.source for c in summary.citations} == {NEWS_A, NEWS_B}
    assert BULLETS["medium"] < len(summary.bullets) <= corpus_bullets("medium", 2)
    for difference in summary.differences:  # the articles' one disagreement is how long the mines stay dangerous
        assert "days or weeks" in difference and "for years" in difference, difference
        assert cited_sources(summary, difference) == {NEWS_A, NEWS_B}, difference


@pytest.mark.slow
def test_differences_are_the_real_disagreements_only(products: Engine) -> None:
    summary = products.summarize(length="long")
    assert_citation_contract(products, summary)
    assert len(summary.differences) == 2, summary.differences
    battery, firmware = sorted(summary.differences, key=lambda d: "hours" not in d)
    assert "8 hours" in battery and "12 hours" in battery
    assert "September 2025" in firmware and "October 2025" in firmware and firmware.startswith("The dates differ")
    assert cited_sources(summary, battery) == {"product-brief.md", "customer-faq.md"}
    assert cited_sources(summary, firmware) == {"product-brief.md", "roadmap-update.txt"}
    # the tiny profile quotes: no model wording, and the trace says why
    assert summary.model is None and summary.trace is not None and summary.trace.profile == "tiny"
    assert not summary.trace.drafts


PIER = {  # three reports of one event, written for this test; b.txt carries a.txt's repair sentence verbatim
    "a.txt": "PORT ELLIS, Maine (AP) — Harbor officials in Port Ellis closed the north pier on Monday after divers found cracks in three of its "
             "support columns. The pier, built in 1958, carries about 400 trucks a day to the container terminal. "
             "Repairs are expected to cost $12 million and take eight months. Local fishermen said the closure forces "
             "them to unload their catch at the smaller south dock.\n",
    "b.txt": "The north pier in Port Ellis was shut on Monday because of cracked support columns. Repairs are expected "
             "to cost $12 million and take eight months. Truck traffic to the container terminal will go through the "
             "east gate until the work is done. The harbor authority said no one was hurt when the cracks were found.\n",
    "c.txt": "Port Ellis closed its north pier this week after inspectors discovered cracked columns under the deck. "
             "The bakery on Water Street, across from the pier, has baked rye bread since 1921. Its owner bakes the "
             "bread every morning at four and sells the loaves from a cart on the quay. The bakery also sells a "
             "famous honey cake on Sundays.\n",
}


@pytest.mark.slow
def test_corpus_summary_says_a_shared_sentence_once_and_cites_every_copy(settings: Settings, tmp_path: Path) -> None:
    """A sentence two documents carry verbatim is one bullet citing both (each document's best sentence is
    required, and here both bests are that sentence); no two sentences of the summary say the same thing; the
    overview is a document's opening sentence, without its dateline (which its citation still quotes)."""
    from service.pipeline.evidence import embed
    from service.pipeline.sentences import split_sentences
    from service.pipeline.summaries.plan import DUPLICATE_COSINE

    docs = tmp_path / "pier"
    docs.mkdir()
    for name, text in PIER.items():
        (docs / name).write_text(text, encoding="utf-8")
    with Engine(settings) as engine:
        engine.ingest([docs])
        summary = engine.summarize(extractive=True)
        assert_citation_contract(engine, summary)
        said = [s.text for t in [summary.summary, *summary.bullets] for s in split_sentences(t)]
        repairs = [t for t in said if t.startswith("Repairs are expected to cost $12 million")]
        assert len(repairs) == 1, said
        assert cited_sources(summary, repairs[0]) == {"a.txt", "b.txt"}
        assert not any(t.startswith("The north pier in Port Ellis was shut") for t in said), "restates the overview"
        assert {c.source for c in summary.citations} == set(PIER), "every document is still cited"
        openings = [split_sentences(t)[0].text for t in PIER.values()]
        overview = re.sub(r"\s*\[\d+\]", "", said[0]).rstrip(".")
        assert any(overview in opening for opening in openings), said[0]
        assert not any("(AP)" in t for t in said), said
        assert any(c.quote.startswith("PORT ELLIS, Maine (AP) — Harbor officials") for c in summary.citations) == (
            any(t.startswith("Harbor officials in Port Ellis") for t in said))
        vectors = embed(engine.corpus.embedder, [MARKER.sub("", t) for t in said])
        similar = vectors @ vectors.T
        assert all(similar[i, j] < DUPLICATE_COSINE for i in range(len(said)) for j in range(i)), said
    (docs / "c.txt").unlink()  # two documents: their shared repair sentence is the most salient, yet no opening
    with Engine(Settings(home=tmp_path / "two")) as engine:
        engine.ingest([docs])
        summary = engine.summarize(extractive=True)
        assert_citation_contract(engine, summary)
        overview = re.sub(r"\s*\[\d+\]", "", summary.summary).rstrip(".")
        assert any(overview in split_sentences(PIER[name])[0].text for name in ("a.txt", "b.txt")), summary.summary


def test_corpus_salience_favours_what_the_other_documents_say_too(embedder) -> None:
    """What several documents state outranks what one document dwells on, even late in that document; the
    bakery sentences are the most central of c.txt by its own centroid."""
    from service.pipeline.evidence import embed
    from service.pipeline.sentences import split_sentences
    from service.pipeline.summaries.plan import DocumentPlan, corpus_salience, unit_centroid

    def plan(source: str, texts: list[str]) -> DocumentPlan:
        sentences = [s for t in texts for s in split_sentences(t)]
        vectors = embed(embedder, [s.text for s in sentences])
        candidates = [Candidate(source=source, sentence=s, position=i, chunk=0, vector=v)
                      for i, (s, v) in enumerate(zip(sentences, vectors))]
        return DocumentPlan(source=source, chunks=[], candidates=candidates, groups=[[0]])

    bakery = [s.text for s in split_sentences(PIER["c.txt"])][1:]
    shared = "Repairs to the cracked north pier will cost $12 million and take eight months."
    c = plan("c.txt", [*bakery, shared])
    own = unit_centroid(np.stack([x.vector for x in c.candidates]))
    assert max(float(x.vector @ own) for x in c.candidates[:3]) > float(c.candidates[-1].vector @ own)
    lone = plan("c.txt", [*bakery, shared])
    for x in lone.candidates:
        x.salience = 0.5
    corpus_salience([lone])
    assert {x.salience for x in lone.candidates} == {0.5}, "a corpus of one document keeps its salience"

    corpus_salience([plan("a.txt", [PIER["a.txt"]]), plan("b.txt", [PIER["b.txt"]]), c])
    ranked = sorted(c.candidates, key=lambda x: x.salience, reverse=True)
    assert ranked[0].text == shared, [(x.text[:40], round(x.salience, 3)) for x in ranked]


def test_selection_never_repeats_a_sentence_nor_what_was_seen(embedder) -> None:
    from service.pipeline.evidence import embed
    from service.pipeline.summaries.plan import select_diverse

    texts = ["Repairs are expected to cost $12 million and take eight months.",
             "Repairs are expected to cost $12 million and take eight months.",
             "Truck traffic will go through the east gate.",
             "The harbor authority said no one was hurt."]
    vectors = embed(embedder, texts)
    candidates = [Candidate(source=f"{i}.txt", sentence=Sentence(text=t, start_char=0, end_char=len(t), start_line=1,
                                                                  end_line=1), position=0, chunk=0, vector=v)
                  for i, (t, v) in enumerate(zip(texts, vectors))]
    scores = {id(c): s for c, s in zip(candidates, [3.0, 3.0, 1.0, 0.5])}
    picked = select_diverse(candidates, 3, lambda c: scores[id(c)], must=candidates[:2])
    assert [c.text for c in picked] == [texts[0], texts[2], texts[3]], "the copy is dropped, even when required"
    after = select_diverse(candidates[1:], 3, lambda c: scores[id(c)], seen=candidates[:1])
    assert [c.text for c in after] == [texts[2], texts[3]], "nothing repeats the overview"


def test_a_document_whose_best_point_restates_another_is_covered_by_its_next_best(embedder) -> None:
    """A document no bullet cites joins the overview with its best point that says something new; with nothing
    new, its best still (a document is not left out for agreeing), unless that is the same sentence again."""
    from service.pipeline.evidence import embed
    from service.pipeline.summaries.phrasing import points_of
    from service.pipeline.summaries.summarize import _pick_bullets, uncovered_documents

    texts = [("a.txt", "Repairs are expected to cost $12 million and take eight months.", 1.0),
             ("d.txt", "Repairs to the pier are expected to cost $12 million and will take eight months.", 0.9),
             ("d.txt", "The bakery on Water Street has baked rye bread since 1921.", 0.2),
             ("e.txt", "Repairs are expected to cost $12 million and take eight months.", 0.9)]
    vectors = embed(embedder, [t for _, t, _ in texts])
    points = points_of([Candidate(source=s, sentence=Sentence(text=t, start_char=0, end_char=len(t), start_line=1,
                                                              end_line=1), position=0, chunk=0, vector=v, salience=w)
                        for (s, t, w), v in zip(texts, vectors)])
    assert uncovered_documents(["a.txt", "d.txt", "e.txt"], points, points[:1]) == [points[2]]
    assert uncovered_documents(["a.txt", "d.txt"], points, points[1:2]) == [points[0]], "nothing new: its best"
    assert uncovered_documents(["a.txt", "e.txt"], points, points[3:]) == [], "the same sentence is not said twice"
    # the bullets after that overview: d.txt by its bakery sentence; e.txt's copy and d.txt's restatement not again
    assert _pick_bullets(points[1:], 3, cover_sources=True, seen=points[:1]) == [points[2]]


@pytest.mark.parametrize(("restatement", "kept"), [
    ("The north pier in Port Ellis was shut on Monday because of cracked support columns.", False),
    ("The north pier in Port Ellis was shut on Monday because of 3 cracked support columns.", True),  # adds a figure
])
def test_a_restatement_is_dropped_unless_it_adds_a_figure(embedder, restatement: str, kept: bool) -> None:
    from service.pipeline.evidence import embed
    from service.pipeline.summaries.plan import RESTATEMENT_COSINE, is_duplicate

    overview = "Port Ellis closed its north pier this week after inspectors discovered cracked columns under the deck."
    a, b = [Candidate(source=f"{i}.txt", sentence=Sentence(text=t, start_char=0, end_char=len(t), start_line=1,
                                                           end_line=1), position=0, chunk=0, vector=v)
            for i, (t, v) in enumerate(zip([overview, restatement], embed(embedder, [overview, restatement])))]
    assert float(a.vector @ b.vector) >= RESTATEMENT_COSINE
    assert is_duplicate(b, [a]) is not kept


# --- focus ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_focus_covers_a_price_table_read_with_its_header(products: Engine) -> None:
    summary = products.summarize(focus="pricing")
    assert_citation_contract(products, summary)
    written = " ".join(texts_of(summary))
    assert "Lumen Hub 2: distributor price $84 per unit, suggested retail price $129" in written
    assert "$4.99" in written and "$129" in written
    table = [c for c in summary.citations if c.quote.startswith("| Product |")]
    assert table and all(c.source == "distributor-agreement.txt" for c in table)
    assert summary.differences == [], "the prices agree everywhere"


@pytest.mark.slow
def test_focus_summary_stays_on_topic(engine: Engine) -> None:
    summary = engine.summarize(focus="Ottawa Treaty")
    assert_citation_contract(engine, summary)
    assert summary.citations and any("Ottawa" in c.quote for c in summary.citations)
    on_topic = re.compile(r"treaty|ottawa|ban|prohibit|signed", re.IGNORECASE)
    quotes = [c.quote for c in summary.citations]
    assert sum(bool(on_topic.search(q)) for q in quotes) >= len(quotes) / 2, quotes

    off_topic = engine.summarize(focus="football world cup final")
    assert off_topic.bullets == [] and off_topic.citations == []
    assert "don't say" in off_topic.summary


@pytest.mark.slow
def test_focus_on_one_document_cites_only_it(engine: Engine) -> None:
    summary = engine.summarize(source=NEWS_B, focus="civilian risk of the mines", length="short")
    assert summary.citations and {c.source for c in summary.citations} == {NEWS_B}
    assert len(summary.bullets) <= BULLETS["short"]
    assert_citation_contract(engine, summary)


@pytest.mark.slow
def test_length_sets_the_number_of_bullets(engine: Engine) -> None:
    short = engine.summarize(source=NEWS_A, length="short")
    long = engine.summarize(source=NEWS_A, length="long")
    assert 1 <= len(short.bullets) <= BULLETS["short"] < len(long.bullets) <= BULLETS["long"]
    for summary in (short, long):
        assert_citation_contract(engine, summary)


@pytest.mark.slow
def test_cli_corpus_summary_shows_bullets_differences_and_sources(products: Engine) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "summarize", "--length", "short"],
        capture_output=True, text=True, timeout=600,
        env={"CITEWISE_HOME": str(products.settings.home), "CITEWISE_LLM_THREADS": "1", "PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).resolve().parents[3],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count(" • ") >= 2 and "Where the sources differ" in out
    sources = out.split("Sources", 1)[1]
    assert "product-brief.md" in sources and "customer-faq.md" in sources
    assert {int(n) for n in MARKER.findall(out.split("Sources", 1)[0])} <= {int(n) for n in MARKER.findall(sources)}


# --- errors --------------------------------------------------------------------------------------------
def test_unknown_source_is_a_clear_error(news_settings: Settings) -> None:
    with Engine(news_settings) as engine:
        with pytest.raises(UnknownSource, match="no-such.txt"):
            engine.summarize(source="no-such.txt")
        with pytest.raises(UnknownSource):
            engine.summarize(source="no-such.txt", focus="mines")
        with pytest.raises(InvalidInput, match="length"):
            engine.summarize(source=NEWS_A, length="huge")
        events = list(engine.summarize_stream(source="no-such.txt"))
        assert [e.event for e in events] == ["error", "done"] and events[0].data["code"] == "unknown_source"


def test_cli_unknown_source_prints_one_line_and_fails(news_settings: Settings) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "summarize", "no-such.txt", "--json"],
        capture_output=True, text=True, timeout=300,
        env={"CITEWISE_HOME": str(news_settings.home), "PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).resolve().parents[3],
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "no-such.txt" in lines[0]


# --- the parts (no model) ------------------------------------------------------------------------------
def _chunk(i: int, start: int, end: int) -> Chunk:
    return Chunk(id=str(i), source="d", text="x" * (end - start), start_char=start, end_char=end,
                 start_line=i + 1, end_line=i + 1, chunk_index=i, content_hash="h", doc_sha256="s")


def test_plan_groups_packs_consecutive_chunks_within_the_budget() -> None:
    chunks = [_chunk(i, i * 850, i * 850 + 1000) for i in range(30)]  # 150 characters of overlap
    budget = group_budget_chars(4096)
    groups = plan_groups(chunks, budget)
    assert [i for g in groups for i in g] == list(range(30)), "every chunk once, in order"
    assert len(groups) >= 2
    for g in groups:
        assert chunks[g[-1]].end_char - chunks[g[0]].start_char <= budget or len(g) == 1


def test_citation_book_numbers_in_order_of_use_and_marks_before_the_full_stop() -> None:
    def cand(line: int, text: str) -> Candidate:
        return Candidate(source="a.txt", sentence=Sentence(text=text, start_char=0, end_char=len(text),
                                                           start_line=line, end_line=line), position=line, chunk=0)

    first, second = cand(3, "Mines were sent."), cand(1, "Russia objected.")
    book = CitationBook()
    assert render_point(book, Point(text="Mines were sent.", cites=[first, second], score=1, phrased=False)) == "Mines were sent [1][2]."
    assert render_point(book, Point(text="Russia objected", cites=[second], score=1, phrased=False)) == "Russia objected [2]."
    assert [(c.id, c.start_line) for c in book.citations] == [(1, 3), (2, 1)]
    composed = Point(text="Mines were sent. Russia objected.", cites=[first, second], score=1, phrased=True,
                     parts=[("Mines were sent.", [first]), ("Russia objected.", [first, second])])
    assert render_point(book, composed) == "Mines were sent [1]. Russia objected [1][2]."  # each sentence its own


# --- HTTP ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_http_summarize_streams_progress_then_the_summary(engine: Engine, news_settings: Settings) -> None:
    import json

    from fastapi.testclient import TestClient

    from service.http.app import create_app

    app = create_app(news_settings.model_copy(update={"api_key": None}), engine)
    with TestClient(app) as client:
        missing = client.post("/v1/summarize", json={"source": "no-such.txt", "stream": True})
        assert missing.status_code == 404, missing.text
        response = client.post("/v1/summarize", json={"source": NEWS_B, "length": "short", "stream": True})
        assert response.status_code == 200
        events = re.findall(r"^event: (\w+)\r?\ndata: (.*)$", response.text, flags=re.MULTILINE)
    names = [name for name, _ in events]
    assert "progress" in names and names[-2:] == ["summary", "done"], names
    summary = Summary.model_validate(json.loads(events[-2][1]))
    assert summary.bullets and {c.source for c in summary.citations} == {NEWS_B}
    assert_citation_contract(engine, summary)
