"""A capable model, scripted, for tests of how verification is wired into answers (never evidence a feature works
with a real model: those tests use the real quality model)."""

from __future__ import annotations

import re

from service.schemas import ChatMessage


class CitingModel:
    """Its draft is `sentence`, citing the source the prompt numbers before `fact`; told that its draft does not
    hold and asked again, it drafts the same, or `retry` (sentence, fact) when given; asked whether a source supports
    a statement it says yes; asked to check a whole answer (strict mode) it replies `verdict` and keeps the prompt
    in `checked`."""

    model_name = "scripted"
    embedded = True  # nothing to ask a server about: each test sets the profile

    def __init__(self, sentence: str, fact: str, verdict: str = "yes", retry: tuple[str, str] | None = None) -> None:
        self.sentence, self.fact, self.verdict, self.retry = sentence, fact, verdict, retry
        self.checked: list[str] = []
        self.retried = 0

    def _draft(self, messages: list[ChatMessage]) -> str:
        sentence, fact = self.sentence, self.fact
        if "not stated by the sources they cite" in messages[-1].content:
            self.retried += 1
            sentence, fact = self.retry or (sentence, fact)
        sources = "\n".join(m.content for m in messages if m.role == "user")
        number = re.search(rf"\[(\d+)\][^\[]*{re.escape(fact)}", sources)
        assert number, sources
        return f"{sentence} [{number.group(1)}]."

    def stream(self, messages, max_tokens=None, usage=None):  # noqa: ANN001, ANN201 - ChatModel.stream's shape
        yield self._draft(messages)

    def complete(self, messages, max_tokens=None, usage=None) -> str:  # noqa: ANN001 - ChatModel.complete's shape
        if "Proposed answer:" in messages[-1].content:
            self.checked.append(messages[-1].content)
            return self.verdict
        if "Statement:" in messages[-1].content:
            return "yes"
        return self._draft(messages)
