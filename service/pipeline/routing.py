"""Which pipeline a question belongs to: a question about the whole corpus or one document ("What is this
collection about?", "Summarize the budget memo", "What are the main points?") is a summary request, answered by
the summary pipeline with the same verified citations; everything else is a question for the answer pipeline.

The rules look only at the form of the request (a summary verb, or "about" with the collection or a document as
its subject), never at what the documents hold, so they carry over to any corpus.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel

_SUMMARY_VERB = re.compile(
    r"^\s*(?:(?:can|could|would) you\s+|please\s+)?(?:summari[sz]e|sum up|recap|give (?:me )?(?:a |an )?(?:short |brief )?"
    r"(?:summary|overview|recap)(?: of)?|(?:what is|what's) (?:a |the )?(?:summary|overview|gist) of)\b\s*(?P<rest>.*)$",
    re.I,
)
_CORPUS_NOUN = r"(?:(?:collection|corpus|folder|set|bundle)(?: of (?:documents|files|texts|papers|articles))?|documents?|files?|texts?|papers|articles|material|this|these)"
_ABOUT_CORPUS = re.compile(
    rf"^\s*(?:so\s+)?what (?:is|are) (?:this|these|the|all (?:the|these))?\s*{_CORPUS_NOUN}?\s*(?:all\s+)?about\s*\??\s*$", re.I
)
_MAIN_POINTS = re.compile(
    r"^\s*what (?:are|were) (?:the )?(?:main|key|most important) (?:points|takeaways|topics|themes|ideas|findings)\b"
    r"(?:\s+(?:of|in) (?P<rest>.*?))?\s*\??\s*$",
    re.I,
)
_WHAT_DOES_SAY = re.compile(
    rf"^\s*what do(?:es)? (?:the |these |this |all the )?{_CORPUS_NOUN} (?:say|cover|contain|discuss)\s*\??\s*$", re.I
)
_DOC_ABOUT = re.compile(r"^\s*what (?:is|'s) (?:the )?(?P<rest>.+?) about\s*\??\s*$", re.I)
_FOCUS = re.compile(r"^(?:what (?:the )?(?:documents?|files?|they|it) (?:says?|said) )?(?:about|on|regarding) (?P<topic>.+)$", re.I)
_CORPUS_WORDS = re.compile(rf"^(?:the |these |this |all (?:the )?)?{_CORPUS_NOUN}$", re.I)
_NAME_WORD = re.compile(r"[a-z]{3,}")


class Route(BaseModel):
    kind: Literal["answer", "summary"]
    source: str | None = None  # the document a summary is about (None: the corpus)
    focus: str | None = None  # the topic of a focused summary
    reason: str = ""


def _name_words(text: str) -> set[str]:
    return set(_NAME_WORD.findall(text.lower()))


def match_document(text: str, sources: Sequence[str]) -> str | None:
    """The one document `text` names: every word (3+ letters) of the file's stem, or of two or more of them, occur
    in `text` ("the budget memo" → budget-memo-2025-02-03.txt). None when no document or several match."""
    asked = _name_words(text)
    scored = []
    for source in sources:
        stem = _name_words(PurePosixPath(source).stem.replace("_", " ").replace("-", " "))
        shared = stem & asked
        if stem and (shared == stem or len(shared) >= 2):
            scored.append((len(shared), source))
    scored.sort(reverse=True)
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return scored[0][1]


def route_question(question: str, sources: Sequence[str], follow_up: bool = False) -> Route:
    """The pipeline for `question`, given the ingested documents' sources. In a conversation (`follow_up`) "what is
    this about?" refers to the last answer: only an explicit summary request or a named document routes there."""
    text = question.strip()
    bare = re.search(r"\b(?:this|these)\s+about\b", text, re.I) is not None
    if (_ABOUT_CORPUS.match(text) or _WHAT_DOES_SAY.match(text)) and not (follow_up and bare):
        return Route(kind="summary", reason="a question about the whole collection")
    if (m := _MAIN_POINTS.match(text)) is not None:
        rest = (m.group("rest") or "").strip()
        source = match_document(rest, sources) if rest else None
        return Route(kind="summary", source=source, reason="asks for the main points")
    if (m := _SUMMARY_VERB.match(text)) is not None:
        rest = m.group("rest").strip(" ?.!")
        if not rest or _CORPUS_WORDS.match(rest):
            return Route(kind="summary", reason="a summary request")
        source = match_document(rest, sources)
        focus = _FOCUS.match(rest)
        topic = focus.group("topic").strip() if focus is not None else None
        if source is not None:
            return Route(kind="summary", source=source, focus=topic, reason="a summary request for one document")
        return Route(kind="summary", focus=topic or rest, reason="a summary request on a topic")
    if (m := _DOC_ABOUT.match(text)) is not None and (source := match_document(m.group("rest"), sources)):
        if len(_name_words(m.group("rest")) - _name_words(PurePosixPath(source).stem.replace("-", " ").replace("_", " "))) <= 1:
            return Route(kind="summary", source=source, reason="asks what one document is about")
    return Route(kind="answer")
