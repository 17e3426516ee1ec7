"""A capable model, scripted, for tests of how verification is wired into answers (never evidence a feature works
with a real model: those tests use the real quality model)."""

from __future__ import annotations

import re

from service.schemas import ChatMessage


class CitingModel:
    """Its draft is `sentence`, citing the source the prompt numbers before `fact`; asked whether a source supports
    a statement it says yes; asked to check a whole answer (strict mode) it replies `verdict` and keeps the prompt
    in `checked`."""

    model_name = "scripted"
    embedded = True  # nothing to ask a server about: each test sets the profile

    def __init__(self, sentence: str, fact: str, verdict: str = "yes") -> None:
        self.sentence, self.fact, self.verdict = sentence, fact, verdict
        self.checked: list[str] = []

    def _draft(self, messages: list[ChatMessage]) -> str:
        number = re.search(rf"\[(\d+)\][^\[]*{re.escape(self.fact)}", messages[-1].content)
        assert number, messages[-1].content
        return f"{self.sentence} [{number.group(1)}]."

    def stream(self, messages, max_tokens=None, usage=None):  # noqa: ANN001, ANN201 - ChatModel.stream's shape
        yield self._draft(messages)

    def complete(self, messages, max_tokens=None, usage=None) -> str:  # noqa: ANN001 - ChatModel.complete's shape
        if "Proposed answer:" in messages[-1].content:
            self.checked.append(messages[-1].content)
            return self.verdict
        if "Statement:" in messages[-1].content:
            return "yes"
        return self._draft(messages)
