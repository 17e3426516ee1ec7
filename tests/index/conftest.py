"""Fixtures for ingestion tests: a small mixed-format corpus (generated pdf/docx), and bad inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

PARAGRAPHS = {
    "notes.txt": "Harbor Notes\n\nThe lighthouse at Cape Verity was built in 1887.\nIts lamp was electrified in 1931.\n\n"
    + "The keeper's cottage now houses a small museum about coastal shipping.\n",
    "guide.md": "# Visitor guide\n\n## Opening hours\n\nThe museum opens at 9:30 every day except Mondays.\n\n"
    + "- Tickets cost 12 euros.\n- Children under 6 enter free.\n",
    "page.html": "<html><head><title>Ignored title</title><style>p{color:red}</style></head><body>"
    "<h1>Ferry schedule</h1><p>The first ferry leaves Port Amsel at 6:15.</p>"
    "<p>The last ferry returns at <b>21:40</b> in summer.</p><script>var tracking = 1;</script>"
    "<ul><li>Bicycles travel free.</li><li>Dogs must be leashed.</li></ul></body></html>",
}
PDF_LINES = ["Annual report of the Cape Verity Trust", "Visitors in 2023: 48,200.", "The roof was repaired in May."]
DOCX_PARAGRAPHS = ["Board minutes", "The board approved a budget of 310,000 euros.", "The next meeting is in October."]


def write_pdf(path: Path, lines: list[str]) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in lines:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def write_docx(path: Path, paragraphs: list[str]) -> None:
    from docx import Document

    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))


def write_encrypted_pdf(path: Path, plain_pdf: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(str(plain_pdf)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    with path.open("wb") as f:
        writer.write(f)


@pytest.fixture
def mixed_corpus(tmp_path: Path) -> Path:
    """txt, md, html at the top, pdf and docx in a subfolder, plus a hidden file and an unsupported one."""
    root = tmp_path / "docs"
    (root / "reports").mkdir(parents=True)
    for name, text in PARAGRAPHS.items():
        (root / name).write_text(text, encoding="utf-8")
    write_pdf(root / "reports" / "annual.pdf", PDF_LINES)
    write_docx(root / "reports" / "minutes.docx", DOCX_PARAGRAPHS)
    (root / ".secret.txt").write_text("hidden", encoding="utf-8")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    return root
