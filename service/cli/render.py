"""Human-readable terminal output for answers, search results and summaries (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from service.schemas import Answer, Citation, SearchResponse, Summary


def _citation_lines(console: Console, citations: list[Citation]) -> None:
    if not citations:
        return
    console.print("\n[bold]Sources[/bold]")
    for c in citations:
        lines = f"{c.start_line}" if c.start_line == c.end_line else f"{c.start_line}-{c.end_line}"
        console.print(f"  [cyan][{c.id}][/cyan] {escape(c.source)}:{lines}  [dim]“{escape(c.quote)}”[/dim]")


def print_answer(console: Console, answer: Answer) -> None:
    console.print(escape(answer.answer))
    if answer.refused and answer.suggestions:
        console.print("\n[bold]Closest passages[/bold] (not citations)")
        for s in answer.suggestions:
            console.print(f"  {escape(s.source)}:{s.start_line}-{s.end_line}  [dim]{escape(s.text[:160])}[/dim]")
    _citation_lines(console, answer.citations)


def print_search(console: Console, result: SearchResponse) -> None:
    if not result.results:
        console.print(f"No results for {escape(result.query)!r}.")
    for rank, hit in enumerate(result.results, 1):
        console.print(f"[bold]{rank}.[/bold] {escape(hit.source)}:{hit.start_line}-{hit.end_line}  [dim]score {hit.score:.4f}[/dim]")
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
