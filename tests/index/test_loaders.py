"""Loaders: text extraction per format, discovery rules, and a one-line reason for every bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index.loaders import LoadError, decode_text, discover, extract_text, read_bytes
from tests.index.conftest import (
    DOCX_PARAGRAPHS,
    PDF_LINES,
    write_docx,
    write_encrypted_pdf,
    write_pdf,
)


def _extract(path: Path) -> str:
    return extract_text(path, read_bytes(path, 50))


def test_html_keeps_block_structure_and_drops_scripts(mixed_corpus: Path) -> None:
    text = _extract(mixed_corpus / "page.html")
    assert text.splitlines() == [
        "Ferry schedule",
        "The first ferry leaves Port Amsel at 6:15.",
        "The last ferry returns at 21:40 in summer.",
        "Bicycles travel free.",
        "Dogs must be leashed.",
    ]


def test_pdf_and_docx_text(mixed_corpus: Path) -> None:
    pdf_text = _extract(mixed_corpus / "reports" / "annual.pdf")
    for line in PDF_LINES:
        assert line in pdf_text
    docx_text = _extract(mixed_corpus / "reports" / "minutes.docx")
    assert docx_text.splitlines() == DOCX_PARAGRAPHS


def test_markdown_and_text_are_verbatim_with_unified_newlines(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(b"# Title\r\n\r\nLine one.   \r\nLine two.\r\n")
    assert _extract(path) == "# Title\n\nLine one.\nLine two."


def test_non_utf8_text_is_decoded_with_a_fallback(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\u00e9 cr\u00e8me co\u00fbte 3 \u20ac.".encode("cp1252"))
    assert _extract(path) == "Caf\u00e9 cr\u00e8me co\u00fbte 3 \u20ac."
    assert decode_text("na\u00efve".encode("utf-16")) == "na\u00efve"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"\n \n\t\n", "no text content"),
        ("binary.txt", bytes(range(256)) * 8, "binary content"),
        ("corrupt.pdf", b"%PDF-1.4\n this is not really a pdf \x00\x01", "corrupt PDF"),
        ("corrupt.docx", b"PK\x03\x04 not a zip archive at all", "corrupt .docx"),
    ],
)
def test_bad_inputs_raise_a_one_line_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError) as error:
        _extract(path)
    assert reason in str(error.value)
    assert "\n" not in str(error.value)


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain.pdf"
    write_pdf(plain, PDF_LINES)
    locked = tmp_path / "locked.pdf"
    write_encrypted_pdf(locked, plain)
    with pytest.raises(LoadError, match="encrypted PDF"):
        _extract(locked)


def test_oversized_file_is_refused_without_reading_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as f:  # sparse 200 MB file: no disk space used
        f.truncate(200 * 1024 * 1024)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read an oversized file"))
    with pytest.raises(LoadError, match=r"file too large \(200.0 MB > limit 50 MB\)"):
        read_bytes(big, 50)


def test_docx_with_tables_keeps_cells(tmp_path: Path) -> None:
    from docx import Document

    document = Document()
    document.add_paragraph("Prices")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Tea", "2 euros"
    path = tmp_path / "t.docx"
    document.save(str(path))
    assert _extract(path).splitlines() == ["Prices", "Tea | 2 euros"]
    write_docx(path, ["only one"])  # overwriting works (fixture helper sanity)
    assert _extract(path) == "only one"


def test_discover_walks_recursively_and_reports_skips(mixed_corpus: Path) -> None:
    (mixed_corpus / ".git").mkdir()
    (mixed_corpus / ".git" / "HEAD.txt").write_text("ref", encoding="utf-8")
    found = discover([mixed_corpus, mixed_corpus / "notes.txt", mixed_corpus / "nope"])
    sources = [c.source for c in found.candidates]
    assert sources == ["guide.md", "notes.txt", "page.html", "reports/annual.pdf", "reports/minutes.docx", "notes.txt"]
    assert all(c.root == str(mixed_corpus.resolve()) for c in found.candidates[:5])
    assert found.candidates[-1].root == str((mixed_corpus / "notes.txt").resolve())
    skipped = dict(found.skipped)
    assert skipped[".secret.txt"] == "hidden file"
    assert skipped[".git/"] == "hidden folder"
    assert "unsupported file type '.png'" in skipped["image.png"]
    assert "HEAD.txt" not in " ".join(skipped)
    assert found.missing == [str(mixed_corpus / "nope")]
    assert found.folders == [mixed_corpus.resolve()]


def test_sources_use_posix_separators(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "c.txt").write_text("x", encoding="utf-8")
    [candidate] = discover([tmp_path / "a"]).candidates
    assert candidate.source == "b/c.txt"
    assert os.sep not in candidate.source or os.sep == "/"
