"""Rows of the pipe tables in a document's text ("| Product | Price |" — Markdown, and what plain-text reports
use), so a focus summary can cover a price list or a schedule that has no sentences.

A row is read with its header: "| Lumen Hub 2 | $84 per unit |" under "| Product | Distributor price |" reads
"Lumen Hub 2: distributor price $84 per unit." Every word of that reading is in the header and row lines it cites,
which are quoted verbatim (the header line through the row line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.chunking import line_starts

_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")


@dataclass(frozen=True)
class TableRow:
    """One data row: its reading with the header, and the lines it cites (header through row, 1-based)."""

    reading: str
    quote: str
    start_line: int
    end_line: int
    start_char: int
    end_char: int


def _cells(line: str) -> list[str]:
    match = _ROW.match(line)
    return [c.strip() for c in match.group(1).split("|")] if match else []


def _reading(header: list[str], cells: list[str]) -> str | None:
    """"First cell: header 2 cell 2, header 3 cell 3." (None for a row that says nothing)."""
    pairs = [(h, c) for h, c in zip(header[1:], cells[1:]) if c and c not in "-–—"]
    if not cells or not cells[0] or not pairs:
        return None
    said = ", ".join(f"{h[:1].lower() + h[1:]} {c}" if h else c for h, c in pairs)
    return f"{cells[0]}: {said}."


def table_rows(text: str) -> list[TableRow]:
    """Every data row of every pipe table (a header row, a separator row, then rows) in `text`."""
    lines = text.split("\n")
    starts = line_starts(text)
    rows: list[TableRow] = []
    i = 0
    while i + 1 < len(lines):
        header = _cells(lines[i])
        if not header or not _SEPARATOR.match(lines[i + 1]):
            i += 1
            continue
        j = i + 2
        while j < len(lines) and (cells := _cells(lines[j])):
            reading = _reading(header, cells)
            if reading is not None:
                start, end = starts[i], starts[j] + len(lines[j])
                rows.append(TableRow(reading=reading, quote=text[start:end], start_line=i + 1, end_line=j + 1,
                                     start_char=start, end_char=end))
            j += 1
        i = j
    return rows
