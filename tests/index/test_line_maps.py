"""Where extracted lines are in the original file: per-format line maps, HTML boilerplate, DOCX reading order,
and the line map stored beside the text (real ingest, real embedded Chroma; old indexes without maps still load)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.corpus import Corpus
from index.loaders import extract
from index.locations import LineMap, Location, Where
from service.config import Settings

HTML_PAGE = """<!DOCTYPE html>
<html>
<head>
<title>Harbor timetable</title>
<script>var nav = "<p>Home | Docs</p>";</script>
</head>
<body>
<header><a href="/">Home</a> | <a href="/docs">Docs</a></header>
<nav><ul><li>Home</li><li>Timetables</li></ul></nav>
<div role="navigation"><div>Skip to content</div></div>
<main>
<article>
<header><h1>Winter timetable</h1></header>

<p>The winter ferry to Skerry Island
leaves at 7:40 from pier 3.</p>
<form><label>Email</label><input name="e"><button>Subscribe</button></form>
<table>
  <tr><th>Day</th><th>Last return</th></tr>
  <tr><td>Sunday</td><td>16:20</td></tr>
</table>
<p hidden>Draft note: do not publish.</p>
</article>
</main>
<aside>Related: summer timetable</aside>
<footer>Copyright 2025 Harbor Board</footer>
</body>
</html>
"""


def write_pages_pdf(path: Path, pages: list[list[str]]) -> None:
    """A PDF with one page per list of lines (fpdf2)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def write_docx_with_table(path: Path) -> None:
    """Paragraph, table (header + 2 rows), paragraph, signature — the table in the middle of the body."""
    from docx import Document

    document = Document()
    document.add_paragraph("Harbor cafe price list.")
    document.add_paragraph("Prices include tax.")
    table = document.add_table(rows=3, cols=2)
    for row, (item, price) in zip(table.rows, [("Item", "Price"), ("Herring sandwich", "7.50 euros"),
                                               ("Lighthouse lemonade", "3.20 euros")]):  # fmt: skip
        row.cells[0].text, row.cells[1].text = item, price
    document.add_paragraph("Prices change every April.")
    document.add_paragraph("Signed, Mara Quist, harbor master.")
    document.save(str(path))


def _file_lines(path: Path) -> list[str]:
    """The file's lines as an editor shows them (universal newlines: \\n, \\r\\n, \\r)."""
    with path.open(encoding="utf-8", newline=None) as f:
        return f.read().split("\n")


# --- loaders --------------------------------------------------------------------------------------------------


def test_html_boilerplate_is_not_text_and_lines_map_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "timetable.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    extracted = extract(path, path.read_bytes())
    lines = extracted.text.split("\n")
    assert lines == [
        "Winter timetable",  # an article's own <header> is its title, not page chrome
        "The winter ferry to Skerry Island",
        "leaves at 7:40 from pier 3.",
        "Day | Last return",
        "Sunday | 16:20",
    ]
    for word in ("Home", "Docs", "Skip to content", "Subscribe", "Email", "Related", "Copyright", "Draft"):
        assert word not in extracted.text
    source = _file_lines(path)
    for n, line in enumerate(lines, start=1):
        where = extracted.line_map.where(n)
        assert where is not None and where.file_start == where.file_end
        file_line = source[where.file_start - 1]
        assert all(cell in file_line for cell in line.split(" | ")), (line, file_line)
    assert extracted.line_map.locate(2, 3) == Location(file_start_line=15, file_end_line=16)


def test_a_whole_page_form_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "webforms.html"
    path.write_text("<html><body><form id=f1>\n<main><p>Ferries run hourly.</p></main>\n</form></body></html>")
    assert extract(path, path.read_bytes()).text == "Ferries run hourly."


def test_text_file_lines_survive_crlf_lone_cr_blank_lines_and_form_feeds(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"\r\n\r\n  \r\nTide tables.\r\n\r\n\r\nHigh water at 6:12.\rLow water at 12:30.\n\x0cPage two: storms.  \r\n\r\n")
    extracted = extract(path, path.read_bytes())
    assert extracted.text == "Tide tables.\n\n\nHigh water at 6:12.\nLow water at 12:30.\n\x0cPage two: storms."
    source = _file_lines(path)
    for n, line in enumerate(extracted.text.split("\n"), start=1):
        where = extracted.line_map.where(n)
        assert where is not None and source[where.file_start - 1].rstrip() == line
    assert extracted.line_map.locate(1, 1).file_start_line == 4  # three leading blank lines are dropped
    assert extracted.line_map.locate(4, 6) == Location(file_start_line=7, file_end_line=9)
    assert len(extracted.line_map.spans) == 1  # a text file is one linear span, however long


def test_pdf_lines_know_their_page(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    write_pages_pdf(path, [["Inspection report", "The hull is sound."], ["The starboard propeller shaft is bent."],
                           [], ["Repairs are due by March."]])  # fmt: skip
    extracted = extract(path, path.read_bytes())
    lines = extracted.text.split("\n")
    pages = {line: extracted.line_map.where(n).page for n, line in enumerate(lines, start=1) if line}  # type: ignore[union-attr]
    assert pages == {"Inspection report": 1, "The hull is sound.": 1, "The starboard propeller shaft is bent.": 2,
                     "Repairs are due by March.": 4}  # fmt: skip
    shaft = lines.index("The starboard propeller shaft is bent.") + 1
    assert extracted.line_map.locate(shaft, shaft) == Location(page=2)


def test_docx_tables_stay_in_reading_order_with_their_position(tmp_path: Path) -> None:
    path = tmp_path / "prices.docx"
    write_docx_with_table(path)
    extracted = extract(path, path.read_bytes())
    assert extracted.text.split("\n") == [
        "Harbor cafe price list.",
        "Prices include tax.",
        "Item | Price",
        "Herring sandwich | 7.50 euros",
        "Lighthouse lemonade | 3.20 euros",
        "Prices change every April.",
        "Signed, Mara Quist, harbor master.",
    ]
    located = [extracted.line_map.locate(n, n) for n in range(1, 8)]
    assert [(x.docx_paragraph, x.docx_table, x.docx_row) for x in located] == [
        (1, None, None), (2, None, None), (None, 1, 1), (None, 1, 2), (None, 1, 3), (3, None, None), (4, None, None),
    ]  # fmt: skip
    from docx import Document  # the positions are python-docx's own indexes into the file

    document = Document(str(path))
    assert document.paragraphs[located[5].docx_paragraph - 1].text == "Prices change every April."  # type: ignore[operator]
    assert document.tables[0].rows[2].cells[0].text == "Lighthouse lemonade"


def test_line_map_round_trips_and_unknown_lines_locate_nowhere() -> None:
    line_map = LineMap.build([Where(3, 3), None, Where(5, 6), Where(6, 7), Where(page=2)])
    assert LineMap.from_json(line_map.to_json()) == line_map
    assert line_map.locate(2, 2) == Location()
    assert line_map.locate(1, 4) == Location(file_start_line=3, file_end_line=7)
    assert line_map.locate(99, 100) == Location()
    assert Location().fields() == {} and Location(page=2).fields() == {"page": 2}


# --- stored beside the text, through a real ingest --------------------------------------------------------------


@pytest.fixture
def located_corpus(tmp_path: Path, settings: Settings) -> tuple[Corpus, Path]:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "timetable.html").write_text(HTML_PAGE, encoding="utf-8")
    (folder / "notes.txt").write_bytes(b"\r\n\r\nTide tables.\r\n\r\nHigh water at 6:12.\r\n")
    write_pages_pdf(folder / "report.pdf", [["Inspection report"], ["The starboard propeller shaft is bent."]])
    write_docx_with_table(folder / "prices.docx")
    corpus = Corpus(settings)
    report = corpus.ingest([folder])
    assert report.count("added") == 4, report
    return corpus, folder


def test_ingest_stores_the_line_map_and_old_indexes_without_one_still_load(
    located_corpus: tuple[Corpus, Path], settings: Settings
) -> None:
    corpus, folder = located_corpus
    try:
        text = corpus.text("report.pdf").split("\n")
        shaft = text.index("The starboard propeller shaft is bent.") + 1
        assert corpus.locate("report.pdf", shaft, shaft) == Location(page=2)
        assert corpus.locate("notes.txt", 3, 3) == Location(file_start_line=5, file_end_line=5)
        assert corpus.locate("prices.docx", 5, 5) == Location(docx_table=1, docx_row=3)
        assert "Home" not in corpus.text("timetable.html")
        assert corpus.locate("nope.txt", 1, 1) == Location()
    finally:
        corpus.close()
    maps = list(settings.texts_path.glob("*.lines.json"))
    assert len(maps) == 4
    for path in maps:  # an index from before line maps: texts only
        path.unlink()
    reopened = Corpus(settings)
    try:
        assert reopened.locate("report.pdf", shaft, shaft) == Location()  # unknown, not an error
        assert reopened.text("report.pdf").split("\n")[shaft - 1] == "The starboard propeller shaft is bent."
        report = reopened.ingest([folder])
        assert report.count("unchanged") == 4, report  # the sha256 skip stays
        (folder / "notes.txt").write_bytes(b"Tide tables.\r\nHigh water at 6:40.\r\n")
        report = reopened.ingest([folder], prune=True)
        assert report.count("updated") == 1, report
        assert reopened.locate("notes.txt", 2, 2) == Location(file_start_line=2, file_end_line=2)
        shas = {r.sha256 for r in reopened.manifest.rows()}
        assert reopened.texts.stored() == shas  # the old text and its map went with the old version
        assert {p.name.split(".")[0] for p in settings.texts_path.glob("*.lines.json")} <= shas
    finally:
        reopened.close()
