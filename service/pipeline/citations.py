"""Citation numbering: ids 1..n in order of first use, one citation object per distinct evidence sentence.

Shared by answers (renumbering the verifier's evidence numbers) and summaries (summary, bullets and differences
share one book)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from index.locations import Location
from service.schemas import Citation, Evidence


class CitationBook:
    """Citation ids in order of first use. A key identifies the quoted sentence; its citation is made once."""

    def __init__(self) -> None:
        self._ids: dict[Hashable, int] = {}
        self.citations: list[Citation] = []

    def number(self, key: Hashable, source: str, start_line: int, end_line: int, quote: str) -> int:
        if key not in self._ids:
            self._ids[key] = len(self.citations) + 1
            self.citations.append(
                Citation(id=self._ids[key], source=source, start_line=start_line, end_line=end_line, quote=quote)
            )
        return self._ids[key]

    def cite(self, evidence: Evidence) -> int:
        """The id of an evidence sentence (answers)."""
        key = (evidence.source, evidence.start_line, evidence.end_line, evidence.text)
        return self.number(key, evidence.source, evidence.start_line, evidence.end_line, evidence.text)


def located(citations: Sequence[Citation], locate: Callable[[str, int, int], Location] | None) -> list[Citation]:
    """The citations with where each span is in the original file (page, file lines, DOCX position)."""
    if locate is None:
        return list(citations)
    return [c.model_copy(update=locate(c.source, c.start_line, c.end_line).fields()) for c in citations]
