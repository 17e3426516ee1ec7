"""`citewise chat`: multi-turn questions; what stays on screen is the verified answer (drafts are provisional).

On a terminal it is a REPL with /sources, /reset, /help, /exit; otherwise it reads one question per stdin line.
"""

from __future__ import annotations

import re
import sys
import threading
from contextlib import nullcontext
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live
from rich.text import Text

from service.cli.render import print_answer
from service.engine import Engine
from service.errors import CitewiseError, error_from_event
from service.schemas import Answer, ChatMessage

if TYPE_CHECKING:
    from service.cli.remote import RemoteEngine

HELP = """Ask a question about your documents. Follow-up questions use the conversation so far.
  /sources  show the last answer's evidence in full
  /reset    forget the conversation
  /help     this text
  /exit     quit (or Ctrl-D)"""


_COMMAND = re.compile(r"^/[A-Za-z?]+(?:\s|$)")  # "/sorces", not "/etc/hosts: what is it?"


def _show_sources(console: Console, answer: Answer | None) -> None:
    if answer is None or answer.trace is None or not answer.trace.evidence:
        console.print("No evidence yet.")
        return
    for ev in answer.trace.evidence:
        console.print(f"[{ev.number}] {ev.source}:{ev.start_line}-{ev.end_line} (score {ev.score:.3f})", markup=False)
        console.print(f"    {ev.text}", markup=False, highlight=False)


def _live_view(verified: str, draft: str) -> Text:
    """What the terminal shows while an answer streams: the verified text, then the unverified draft dimmed and
    labelled (replaced in place: a sentence the verifier drops disappears)."""
    view = Text(verified)
    if draft:
        view.append(" " if verified else "")
        view.append("draft: ", style="dim italic")
        view.append(draft, style="dim")
    return view


def _ask(engine: Engine | RemoteEngine, console: Console, question: str, history: list[ChatMessage], stream: bool) -> Answer:
    """On a terminal, a live view of verified text + provisional draft, cleared when the verified answer is
    printed; otherwise (piped) only the verified answer."""
    answer: Answer | None = None
    verified, draft = "", ""
    with Live(console=console, transient=True, auto_refresh=False) if stream else nullcontext() as live:
        for event in engine.ask_stream(question, history):
            if event.event == "token" and isinstance(event.data, str):
                verified += event.data
            elif event.event == "draft" and isinstance(event.data, str):
                draft = event.data
            elif event.event == "answer" and isinstance(event.data, Answer):
                answer = event.data
            elif event.event == "error":
                raise CitewiseError(error_from_event(event.data)["message"])
            if live is not None:
                live.update(_live_view(verified, draft), refresh=True)
    assert answer is not None, "the answer stream ended without an answer"
    print_answer(console, answer)
    return answer


def run_chat(engine: Engine | RemoteEngine, console: Console, interactive: bool) -> None:
    history: list[ChatMessage] = []
    last: Answer | None = None
    if interactive:
        try:
            import readline  # noqa: F401  (line editing and ↑/↓ recall of earlier questions in input())
        except ImportError:  # not on every platform; input() still works
            pass

        # the model and the index start while the user types the first question
        threading.Thread(target=engine.warm_up, name="citewise-warm-up", daemon=True).start()
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
        if question in ("/exit", "/quit"):
            return
        if _COMMAND.match(question):  # a mistyped command is not a question for the documents
            console.print(f"unknown command {question.split()[0]} (see /help)", markup=False, highlight=False)
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
