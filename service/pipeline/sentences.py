"""Sentence splitting with exact spans: every sentence is `text[start_char:end_char]` and knows its 1-based lines.

Citations quote sentences verbatim, so spans must be exact. pysbd finds the boundaries (it knows "U.S." and
"Mr." are not sentence ends); we locate each of its segments in the original text ourselves. Hard-wrapped
paragraphs (lines that mostly do not end a sentence) are joined for segmentation by swapping their newlines for
spaces, which keeps every offset unchanged; elsewhere a newline always ends a sentence (titles, list items).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

import pysbd
from pydantic import BaseModel

from index.chunking import line_starts

_TERMINAL = re.compile(r"[.!?:;\"'”’)\]]\s*$")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
WRAPPED_LINE_WORDS = 5  # a hard-wrapped line of prose is longer than this


class Sentence(BaseModel):
    text: str
    start_char: int
    end_char: int
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def _is_wrapped(lines: list[str]) -> bool:
    """A block whose lines mostly run on into the next line (hard-wrapped prose)."""
    inner = [line for line in lines[:-1] if line.strip() and not line.lstrip().startswith("|")]
    if len(inner) < 2:
        return False
    # a short unpunctuated line is a heading or a list item, not a wrapped line of prose
    running_on = sum(1 for line in inner if not _TERMINAL.search(line) and len(line.split()) > WRAPPED_LINE_WORDS)
    return running_on / len(inner) > 0.5


def _is_heading(line: str) -> bool:
    """A title-case line without final punctuation ("A Title Without A Full Stop")."""
    tokens = [t for t in line.split() if t[:1].isalpha()]
    return bool(tokens) and not _TERMINAL.search(line) and sum(t[0].isupper() for t in tokens) / len(tokens) >= 0.6


_ADDRESS_LINE = re.compile(r"^\s*(?:to|from|cc|bcc|re|subject|attn|attention)\s*:", re.I)
# A web page's link, tag or credit line: "Read more about: Mitt Romney, Women, Marco Rubio", "RELATED: Best Places To
# Live", "Photo: Getty Images" — the label, then names in title case (Multi-News: 46 such lines of 21,148 sentences;
# none in RealTime QA's CNN text, SQuAD 2 or HotpotQA, whose "Incumbent: Republican Marco Rubio" keeps its label).
_FURNITURE_LABEL = re.compile(
    r"^\s*(?:read more(?: about)?|more|related(?: stories| articles)?|see also|photos?|photograph|picture|image|"
    r"credit|contributing|follow|tags|topics)\s*:\s*(?P<rest>.+)$",
    re.I,
)
_SECTION_NUMBER = re.compile(r"^(?:\d{1,2}\.(?:\d{1,2}\.?)*|[IVX]{1,4}\.)\s+(?=[A-Z])")  # "2. ", "3.1 ", "IV. "
SECTION_HEADING_WORDS = 10


def is_heading(text: str) -> bool:
    """A heading, title, caption, web link or credit line, or letter address line rather than a sentence: a title-case line without final punctuation or a
    colon, of a dozen words at most ("Calder Falls Water Utility", "Annual Report 2024"), or a numbered section's title in
    any case ("2. Award of the construction contract"). Never evidence."""
    line = " ".join(text.split())
    if _ADDRESS_LINE.match(line):  # a letter's address block ("To: …, Project Manager, …") is furniture too
        return True
    if (furniture := _FURNITURE_LABEL.match(line)) and len(furniture["rest"].split()) <= 12 and _is_heading(furniture["rest"]):
        return True
    if ":" in line or len(line.split()) > 12:
        return False
    numbered = _SECTION_NUMBER.sub("", line, count=1)
    if numbered != line and len(numbered.split()) <= SECTION_HEADING_WORDS and not _TERMINAL.search(numbered):
        return True  # "2. Award of the Northgate Reservoir construction contract": a numbered section's title
    line = re.sub(r"(?<=\S)\s*\([^()]*\)$", "", line)  # "Big Hero 6 (film)": a disambiguating note ends no sentence
    # "Calder Falls Water Utility." — a title some extractors end with a full stop: every word capitalised
    bare = line[:-1] if line.endswith(".") and len(line.split()) <= 8 else line
    tokens = [t for t in bare.split() if t[:1].isalpha()]
    every_word_capitalised = bool(tokens) and all(t[0].isupper() for t in tokens)
    return _is_heading(bare) and (bare == line or every_word_capitalised)


_DISAMBIGUATION = re.compile(r"\s*\([^()]*\)$")  # "Big Hero 6 (film)"
_TITLE_END = (".", "?", "!", ":", "—", "-", ",")
TITLE_MAX_WORDS = 12


_SMALL_WORDS = frozenset("a an the of in on at to for from by and or with".split())


def reads_as_title(line: str) -> bool:
    """A title in title case: every word but the small ones ("of", "the", "from") capitalised, a colon allowed
    ("Act of War: Direct Action", "Escape from the Dark"); a sentence-case headline is not one."""
    tokens = [t for t in line.replace(":", " ").split() if t[:1].isalpha() and t.lower() not in _SMALL_WORDS]
    return bool(tokens) and all(t[0].isupper() for t in tokens)


def strip_disambiguation(line: str) -> str:
    """A title without its trailing note: "Big Hero 6 (film)" → "Big Hero 6"."""
    return _DISAMBIGUATION.sub("", " ".join(line.split()))


def title_of(text: str) -> str | None:
    """What the document is about when its first line reads as a title (a dozen words at most, no final full stop
    or dash; a markdown "#" and a trailing "(film)" dropped), else None."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if not line:
            continue
        if len(line.split()) <= TITLE_MAX_WORDS and not line.endswith(_TITLE_END):
            return strip_disambiguation(line) or None
        return None
    return None


def subjects_of(sources: Iterable[str], text_of: Callable[[str], str]) -> dict[str, str]:
    """Each document's title (`title_of`), for the documents that have one and are still there."""
    subjects: dict[str, str] = {}
    for source in sources:
        try:
            title = title_of(text_of(source))
        except Exception:  # gone meanwhile: no title to link by
            continue
        if title:
            subjects[source] = title
    return subjects


def mention_of(name: str, text: str) -> re.Match[str] | None:
    """Where `text` names `name` as a whole (any case), or None."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.I)


# "from a.357 Magnum": pysbd ends a sentence after "a.357" (a model writes the calibre without its space); an
# article ends no sentence, so its full stop is read as a space.
_ARTICLE_BEFORE_NUMBER = re.compile(r"(?<![\w.])(?:a|an|the)\.(?=\d)", re.I)


def _segmentation_text(text: str) -> str:
    """`text` with the newlines inside running sentences replaced by spaces (same length, same offsets).

    A newline joins two lines when the first does not end a sentence, is not a heading, and either the next
    line starts in lower case or the whole paragraph is hard-wrapped; otherwise it ends the sentence. A full stop
    right after an article ("a.357") is a space too.
    """
    text = _ARTICLE_BEFORE_NUMBER.sub(lambda m: m.group()[:-1] + " ", text)
    out = list(text)
    start = 0
    for match in [*_BLANK_LINE.finditer(text), None]:
        end = match.start() if match else len(text)
        lines = text[start:end].split("\n")
        wrapped = _is_wrapped(lines)
        offset = start
        for line, following in zip(lines, lines[1:]):
            offset += len(line)
            table = line.lstrip().startswith("|") or following.lstrip().startswith("|")  # a table row is its own line
            runs_on = line.strip() and not _TERMINAL.search(line) and not _is_heading(line) and not table
            if runs_on and (wrapped or following.lstrip()[:1].islower()):
                out[offset] = " "
            offset += 1
        if match:
            start = match.end()
    return "".join(out)


def split_sentences(text: str, min_chars: int = 1) -> list[Sentence]:
    """The sentences of `text` with exact char spans and line numbers (whitespace-only pieces skipped)."""
    return list(_split_cached(text, min_chars))


@lru_cache(maxsize=256)
def _split_cached(text: str, min_chars: int) -> tuple[Sentence, ...]:
    seg_text = _segmentation_text(text)
    starts = line_starts(text)
    sentences: list[Sentence] = []
    cursor = 0
    for segment in _segmenter().segment(seg_text):
        piece = segment.strip()
        if not piece:
            continue
        found = seg_text.find(piece, cursor)
        if found < 0:  # pysbd changed the text: keep the rest as one piece rather than misplace a span
            found, piece = cursor, seg_text[cursor:].strip()
            found = seg_text.find(piece, cursor) if piece else cursor
        cursor = found + len(piece)
        # pysbd reads a newline as a space; one left in the segmentation text ends a sentence ("2. Support load\n…")
        line_start = found
        for line in piece.split("\n"):
            start = seg_text.find(line.strip(), line_start) if line.strip() else line_start
            end = start + len(line.strip())
            line_start = start + len(line) + 1
            if line.strip() and len(line.strip()) >= min_chars:
                sentences.append(
                    Sentence(
                        text=text[start:end],
                        start_char=start,
                        end_char=end,
                        start_line=bisect.bisect_right(starts, start),
                        end_line=bisect.bisect_right(starts, end - 1),
                    )
                )
        if cursor >= len(seg_text):
            break
    return tuple(sentences)


def sentences_in_lines(text: str, start_line: int, end_line: int) -> list[Sentence]:
    """The sentences of `text` that overlap lines start_line..end_line (whole sentences, never cut)."""
    return [s for s in split_sentences(text) if s.end_line >= start_line and s.start_line <= end_line]
