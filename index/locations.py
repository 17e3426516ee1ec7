"""Where each line of a document's extracted text is in the original file: the line map, and locating a span.

Line numbers in chunks, evidence and citations are lines of the *extracted* text (what quotes are verified
against). A person opening the file needs something else, so every loader also records, per extracted line:

- txt / md: the 1-based line of the file (lines end at "\\n", "\\r\\n" or a lone "\\r", as `open()` in text mode
  and editors count them; a form feed does not end a line). Only leading blank lines shift the numbering.
- html: the 1-based file lines holding that line's text (first to last character of it; markup-only lines and
  skipped boilerplate such as <nav> take no extracted line, so the two numberings differ).
- pdf: the 1-based page the line was extracted from.
- docx: the body paragraph (1-based, in document order: `Document(...).paragraphs[n - 1]` in python-docx) or the
  table and row (1-based: `Document(...).tables[t - 1].rows[r - 1]`) the line belongs to.

The map is stored beside the extracted text (`index.texts.TextStore`, or the Chroma server in server mode) as a
short list of spans: consecutive lines that map linearly onto the file (txt: one span for the whole file) or
share one page / paragraph / row become one span. Locating lines a..b is a binary search over the spans.
Documents ingested before line maps existed simply have none: their locations are empty (fields absent).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

from pydantic import BaseModel, Field

LINE_MAP_VERSION = 1


class Where(NamedTuple):
    """Where one extracted line came from (what a loader records per line; None: unknown/not applicable)."""

    file_start: int | None = None
    file_end: int | None = None
    page: int | None = None
    paragraph: int | None = None
    table: int | None = None
    row: int | None = None


class LineSpan(BaseModel):
    """Extracted lines first..last (1-based, inclusive). The k-th of them (k = 0, 1, …) is at file lines
    file_start + k .. file_end + k; all of them are on `page` / in `paragraph` / in `table`, `row`."""

    first: int
    last: int
    file_start: int | None = None
    file_end: int | None = None
    page: int | None = None
    paragraph: int | None = None
    table: int | None = None
    row: int | None = None

    def at(self, line: int) -> Where:
        k = line - self.first
        return Where(
            None if self.file_start is None else self.file_start + k,
            None if self.file_end is None else self.file_end + k,
            self.page,
            self.paragraph,
            self.table,
            self.row,
        )


class Location(BaseModel):
    """Where a span of extracted lines is in the original file (the citation fields; None when unknown).

    `page`: 1-based PDF page (of the span's first line). `file_start_line`/`file_end_line`: 1-based lines of the
    original file (txt, md, html). `docx_paragraph`: 1-based body paragraph; `docx_table`/`docx_row`: 1-based
    table and row (of the span's first line, DOCX only).
    """

    page: int | None = None
    file_start_line: int | None = None
    file_end_line: int | None = None
    docx_paragraph: int | None = None
    docx_table: int | None = None
    docx_row: int | None = None

    def fields(self) -> dict[str, int]:
        """The known fields only (what a citation gains; absent when unknown)."""
        return self.model_dump(exclude_none=True)


class LineMap(BaseModel):
    """The spans of one document's extracted text, in line order (gaps: blank lines, which map nowhere)."""

    version: int = LINE_MAP_VERSION
    spans: list[LineSpan] = Field(default_factory=list)

    @classmethod
    def build(cls, wheres: list[Where | None]) -> LineMap:
        """From one `Where` per extracted line (index 0 is line 1), merging runs that map the same way."""
        spans: list[LineSpan] = []
        for line, where in enumerate(wheres, start=1):
            if where is None or where == Where():
                continue
            last = spans[-1] if spans else None
            if last is not None and last.last == line - 1 and last.at(line) == where:
                last.last = line
                continue
            spans.append(
                LineSpan(first=line, last=line, file_start=where.file_start, file_end=where.file_end, page=where.page,
                         paragraph=where.paragraph, table=where.table, row=where.row)
            )  # fmt: skip
        return cls(spans=spans)

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def from_json(cls, data: str) -> LineMap:
        return cls.model_validate_json(data)

    def where(self, line: int) -> Where | None:
        """Where extracted line `line` came from (None: a blank line, or beyond the text)."""
        i = bisect_right([s.first for s in self.spans], line) - 1
        if i < 0 or self.spans[i].last < line:
            return None
        return self.spans[i].at(line)

    def per_line(self, count: int) -> list[Location | None]:
        """The location of each of lines 1..count (None: a line no span covers), in one pass."""
        found: list[Location | None] = [None] * count
        for span in self.spans:
            for line in range(span.first, min(span.last, count) + 1):
                w = span.at(line)
                found[line - 1] = Location(page=w.page, file_start_line=w.file_start, file_end_line=w.file_end,
                                           docx_paragraph=w.paragraph, docx_table=w.table, docx_row=w.row)  # fmt: skip
        return found

    def locate(self, start_line: int, end_line: int) -> Location:
        """The location of extracted lines start_line..end_line: the file lines they cover (first to last), and
        the page / DOCX position of the first of them that has one."""
        firsts = [s.first for s in self.spans]
        i = max(0, bisect_right(firsts, start_line) - 1)
        file_lines: list[int] = []
        first: Where | None = None
        for span in self.spans[i:]:
            if span.first > end_line:
                break
            lo, hi = max(span.first, start_line), min(span.last, end_line)
            if lo > hi:
                continue
            a, b = span.at(lo), span.at(hi)
            file_lines += [n for n in (a.file_start, b.file_end) if n is not None]
            if first is None:
                first = a
        if first is None:
            return Location()
        return Location(
            page=first.page,
            file_start_line=min(file_lines) if file_lines else None,
            file_end_line=max(file_lines) if file_lines else None,
            docx_paragraph=first.paragraph,
            docx_table=first.table,
            docx_row=first.row,
        )
