"""Human-readable terminal output for answers, search results and summaries (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from service.schemas import Answer, Citation, SearchHit, SearchResponse, Summary


def _span(start: int, end: int) -> str:
    return f"{start}" if start == end else f"{start}-{end}"


def location(c: Citation | SearchHit) -> str:
    """Where a span is in the original file, as a person would look it up: `report.pdf p.3`, `faq.html:28`,
    `letter.docx ¶4` / `letter.docx table 1 row 2`; the extracted-text lines when that is unknown."""
    if c.page is not None:
        return f"{c.source} p.{c.page}"
    if c.file_start_line is not None and c.file_end_line is not None:
        return f"{c.source}:{_span(c.file_start_line, c.file_end_line)}"
    if c.docx_table is not None:
        return f"{c.source} table {c.docx_table}" + (f" row {c.docx_row}" if c.docx_row is not None else "")
    if c.docx_paragraph is not None:
        return f"{c.source} ¶{c.docx_paragraph}"
    return f"{c.source}:{_span(c.start_line, c.end_line)}"


def _citation_lines(console: Console, citations: list[Citation]) -> None:
    if not citations:
        return
    console.print("\n[bold]Sources[/bold]")
    for c in citations:
        console.print(f"  [cyan][{c.id}][/cyan] {escape(location(c))}  [dim]“{escape(c.quote)}”[/dim]")


def print_answer(console: Console, answer: Answer) -> None:
    console.print(escape(answer.answer))
    if note := answer.unmentioned_note():  # only answered questions carry names (answering._generate_then_finish)
        console.print(f"[dim]{escape(note)}[/dim]")
    if answer.refused and answer.suggestions:
        console.print("\n[bold]Closest passages[/bold] (not citations)")
        for s in answer.suggestions:
            console.print(f"  {escape(s.source)}:{s.start_line}-{s.end_line}  [dim]{escape(s.text[:160])}[/dim]")
    _citation_lines(console, answer.citations)


def print_search(console: Console, result: SearchResponse) -> None:
    if not result.results:
        console.print(f"No results for {escape(result.query)!r}.")
    for rank, hit in enumerate(result.results, 1):
        console.print(f"[bold]{rank}.[/bold] {escape(location(hit))}  [dim]score {hit.score:.4f}[/dim]")
        console.print("   " + escape(" ".join(hit.text.split())[:300]))


def print_summary(console: Console, summary: Summary) -> None:
    console.print(escape(summary.summary))
    for b in summary.bullets:
        console.print(f" • {escape(b)}")
    if summary.differences:
        console.print("\n[bold]Where the sources differ[/bold]")
        for d in summary.differences:
            console.print(f" • {escape(d)}")
    _citation_lines(console, summary.citations)
