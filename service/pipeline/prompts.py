"""Prompt templates live as text files in `prompts/`; this loads them by name."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


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
