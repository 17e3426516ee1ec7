"""Prompt templates live as text files in `prompts/`; this loads them by name."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from service.schemas import ChatMessage


@cache
def load_prompt(name: str) -> str:
    """The text of `prompts/<name>.txt` (cached: prompts are read once per process)."""
    resource = files("prompts").joinpath(f"{name}.txt")
    if not resource.is_file():
        raise FileNotFoundError(f"no prompt named {name!r} in prompts/")
    return resource.read_text(encoding="utf-8")


def render_prompt(name: str, **values: str) -> str:
    """`prompts/<name>.txt` with `{placeholders}` filled in."""
    return load_prompt(name).format(**values)


ROLE_BREAK = "\n---\n"


def render_messages(name: str, **values: str) -> list[ChatMessage]:
    """`prompts/<name>.txt` as chat messages. A prompt of one part is one user message; parts separated by a line
    "---" are the system message, then user and assistant turns alternately (a worked example before the real
    request: small models copy its form — citation markers — far more reliably than they follow a description)."""
    parts = [part.strip() for part in render_prompt(name, **values).split(ROLE_BREAK)]
    if len(parts) == 1:
        return [ChatMessage(role="user", content=parts[0])]
    turns = [ChatMessage(role="user" if i % 2 == 0 else "assistant", content=p) for i, p in enumerate(parts[1:])]
    return [ChatMessage(role="system", content=parts[0]), *turns]
