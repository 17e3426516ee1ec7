"""Citations that lead to the passage in the original file: PDF page, HTML/txt file lines, DOCX table row.

Real ingest, real embedded Chroma, the real model (the session's, borrowed): the citation's location fields are
checked against the files themselves (the PDF's page text via pypdf, the HTML/txt file's lines, python-docx's
table), and the human output and the document-text endpoint show them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from service.cli.render import print_answer, print_search
from service.config import Settings
from service.engine import Engine
from service.llm import LLMClient
from service.schemas import Answer, Citation
from tests.index.test_line_maps import HTML_PAGE, write_docx_with_table, write_pages_pdf

# Page 1 is long enough (with the blank line between pages) that page 2 starts a chunk of its own.
PDF_PAGES = [
    ["Inspection report for the ferry Skerry Star.", "The hull plating is sound and needs no work."]
    + [f"Cabin {n} on deck {n % 3 + 1} was inspected on the morning of the survey and no fault was found." for n in range(1, 12)],
    ["The starboard propeller shaft is bent by 4 millimetres.", "It must be replaced before the summer season."],
]
NOTES = b"\r\n\r\nHarbor notes\r\n\r\n\r\nThe breakwater lamp was replaced on 3 March.\r\nIts new bulb is an LED.\r\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("located-docs")
    write_pages_pdf(root / "report.pdf", PDF_PAGES)
    (root / "timetable.html").write_text(HTML_PAGE, encoding="utf-8")
    write_docx_with_table(root / "prices.docx")
    (root / "notes.txt").write_bytes(NOTES)
    return root


@pytest.fixture(scope="module")
def engine(folder: Path, tmp_path_factory: pytest.TempPathFactory, llm: LLMClient) -> Iterator[Engine]:
    # the model is borrowed: the session's news engine owns and closes it
    engine = Engine(Settings(home=tmp_path_factory.mktemp("located-home") / "citewise-home", llm_threads=1), llm=llm)
    report = engine.ingest([folder])
    assert report.count("added") == 4, report
    try:
        yield engine
    finally:
        engine.close()


def _squash(text: str) -> str:
    return " ".join(text.split())


def _cited(answer: Answer, source: str) -> Citation:
    found = [c for c in answer.citations if c.source == source]
    assert found, answer.model_dump_json(indent=1)
    return found[0]


def _in_file_lines(path: Path, c: Citation) -> str:
    """The text of the cited file lines (markup removed, entities decoded, whitespace collapsed)."""
    assert c.file_start_line is not None and c.file_end_line is not None, c
    with path.open(encoding="utf-8", newline=None) as f:  # universal newlines, as an editor counts lines
        lines = f.read().split("\n")
    return _squash(html.unescape(re.sub(r"<[^>]*>", " ", " ".join(lines[c.file_start_line - 1 : c.file_end_line]))))


def _pdf_page_text(path: Path, page: int) -> str:
    from pypdf import PdfReader

    return _squash(PdfReader(str(path)).pages[page - 1].extract_text())


def test_pdf_search_hit_and_citation_carry_the_page(engine: Engine, folder: Path) -> None:
    hit = next(h for h in engine.search("starboard propeller shaft bent", k=4).results if h.source == "report.pdf")
    assert "propeller shaft" in hit.text and hit.page == 2, hit
    answer = engine.ask("By how much is the starboard propeller shaft bent?")
    assert not answer.refused, answer.answer
    c = _cited(answer, "report.pdf")
    assert c.page == 2, c
    assert _squash(c.quote) in _pdf_page_text(folder / "report.pdf", c.page)
    assert c.file_start_line is None and c.docx_paragraph is None
    assert set(c.model_dump()) >= {"page"} and "file_start_line" not in c.model_dump()  # absent, not null
    out = Console(record=True, width=200)
    print_answer(out, answer)
    assert "report.pdf p.2" in out.export_text()


def test_html_citation_points_at_the_file_lines_holding_the_quote(engine: Engine, folder: Path) -> None:
    answer = engine.ask("When does the winter ferry to Skerry Island leave?")
    assert not answer.refused, answer.answer
    c = _cited(answer, "timetable.html")
    assert _squash(c.quote) in _in_file_lines(folder / "timetable.html", c)
    assert c.file_start_line > c.start_line  # type: ignore[operator]  # the two numberings really differ here
    out = Console(record=True, width=200)
    print_answer(out, answer)
    assert f"timetable.html:{c.file_start_line}" in out.export_text()
    assert "Home" not in engine.document_text("timetable.html")  # the navigation is not document text


def test_docx_answer_from_a_table_cites_the_table_row(engine: Engine) -> None:
    answer = engine.ask("How much does the lighthouse lemonade cost?")
    assert not answer.refused, answer.answer
    c = _cited(answer, "prices.docx")
    assert "3.20" in c.quote
    assert (c.docx_table, c.docx_row, c.docx_paragraph) == (1, 3, None), c
    out = Console(record=True, width=200)
    print_answer(out, answer)
    assert "prices.docx table 1 row 3" in out.export_text()


def test_crlf_text_search_hits_map_to_file_lines(engine: Engine, folder: Path) -> None:
    hits = [h for h in engine.search("breakwater lamp replaced", k=4).results if h.source == "notes.txt"]
    assert hits
    hit = hits[0]
    assert (hit.start_line, hit.file_start_line) == (1, 3)  # two leading blank lines are not extracted lines
    cited = Citation(id=1, source=hit.source, start_line=hit.start_line, end_line=hit.end_line, quote=hit.text,
                     file_start_line=hit.file_start_line, file_end_line=hit.file_end_line)  # fmt: skip
    assert _squash(hit.text) == _in_file_lines(folder / "notes.txt", cited)
    out = Console(record=True, width=200)
    print_search(out, engine.search("breakwater lamp replaced", k=1))
    assert f"notes.txt:{hit.file_start_line}-{hit.file_end_line}" in out.export_text()


def test_document_text_endpoint_gives_both_line_systems(engine: Engine, folder: Path) -> None:
    from fastapi.testclient import TestClient

    from service.http.app import create_app

    with TestClient(create_app(engine.settings, engine)) as client:
        body = client.get("/v1/documents/timetable.html/text").json()
        first = body["lines"][0]
        assert first["text"] == "Winter timetable" and first["n"] == 1
        assert first["file_start_line"] == first["file_end_line"] == HTML_PAGE.split("\n").index(
            "<header><h1>Winter timetable</h1></header>") + 1  # fmt: skip
        pdf = client.get("/v1/documents/report.pdf/text").json()["lines"]
        pages = {line["text"]: line.get("page") for line in pdf if line["text"]}
        assert pages["The starboard propeller shaft is bent by 4 millimetres."] == 2
        assert pages["Inspection report for the ferry Skerry Star."] == 1
        blank = [line for line in pdf if not line["text"]]
        assert blank and all(set(line) == {"n", "text"} for line in blank)  # no location: fields absent
        docx = client.get("/v1/documents/prices.docx/text").json()["lines"]
        assert docx[4] == {"n": 5, "text": "Lighthouse lemonade | 3.20 euros", "docx_table": 1, "docx_row": 3}
