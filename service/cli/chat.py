"""`citewise chat`: multi-turn questions with streamed drafts and verified answers.

On a terminal it is a REPL with /sources, /reset, /help; otherwise it reads one question per stdin line.
"""

from __future__ import annotations

import sys

from rich.console import Console

from service.cli.render import print_answer
from service.engine import Engine
from service.errors import CitewiseError, error_from_event
from service.schemas import Answer, ChatMessage

HELP = """Ask a question about your documents. Follow-up questions use the conversation so far.
  /sources  show the last answer's evidence in full
  /reset    forget the conversation
  /help     this text
  Ctrl-D    quit"""


def _show_sources(console: Console, answer: Answer | None) -> None:
    if answer is None or answer.trace is None or not answer.trace.evidence:
        console.print("No evidence yet.")
        return
    for ev in answer.trace.evidence:
        console.print(f"[{ev.number}] {ev.source}:{ev.start_line}-{ev.end_line} (score {ev.score:.3f})", markup=False)
        console.print(f"    {ev.text}", markup=False, highlight=False)


def _ask(engine: Engine, console: Console, question: str, history: list[ChatMessage], stream: bool) -> Answer:
    answer: Answer | None = None
    streamed = False
    for event in engine.ask_stream(question, history):
        if event.event == "token" and stream and isinstance(event.data, str):
            console.print(event.data, end="", style="dim", markup=False, highlight=False)
            streamed = True
        elif event.event == "answer" and isinstance(event.data, Answer):
            answer = event.data
        elif event.event == "error":
            raise CitewiseError(error_from_event(event.data)["message"])
    if streamed:
        console.print("\n[dim]── verified answer ──[/dim]")
    assert answer is not None, "the answer stream ended without an answer"
    print_answer(console, answer)
    return answer


def run_chat(engine: Engine, console: Console, interactive: bool) -> None:
    history: list[ChatMessage] = []
    last: Answer | None = None
    if interactive:
        try:
            import readline  # noqa: F401  (line editing and ↑/↓ recall of earlier questions in input())
        except ImportError:  # not on every platform; input() still works
            pass

        console.print("[bold]citewise chat[/bold] — /help for commands, Ctrl-D to quit")
    while True:
        try:
            # readline prints the prompt itself once it reads the terminal: line editing knows where input starts
            line = input("> ") if interactive else sys.stdin.readline()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not interactive and line == "":
            return
        question = line.strip()
        if not question:
            continue
        if question in ("/help", "/?"):
            console.print(HELP, markup=False)
            continue
        if question == "/reset":
            history, last = [], None
            console.print("Conversation cleared.")
            continue
        if question == "/sources":
            _show_sources(console, last)
            continue
        if not interactive:
            console.print(f"> {question}", markup=False, highlight=False)
        try:
            last = _ask(engine, console, question, history, stream=interactive)
        except CitewiseError as e:
            console.print(f"error: {e}", style="red", markup=False)
            if not interactive:
                raise
            continue
        history += [ChatMessage(role="user", content=question), ChatMessage(role="assistant", content=last.answer)]
        console.print()
