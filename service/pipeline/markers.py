"""The one citation-marker grammar: `[n]`, `[n, m]` or `[n; m]` after the claim they support.

Used by the verifier (reading the model's draft), the answer and summary pipelines (writing markers into the
final text) and the eval scorers (reading answers back), so all of them agree on what a marker is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from service.pipeline.sentences import split_sentences

MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SEPARATOR = re.compile(r"\s*[,;]\s*")
_LEADING_MARKERS = re.compile(rf"^(?:{MARKER.pattern}\s*)+")
_FINAL_PUNCTUATION = re.compile(r"([.!?])[.!?\"'”’)]*$")


def markers_in(text: str) -> list[int]:
    """Evidence numbers cited in `text`, in order, without repeats ("[1, 3]" and "[1][3]" both give 1, 3)."""
    numbers = [int(n) for group in MARKER.findall(text) for n in _SEPARATOR.split(group)]
    return list(dict.fromkeys(numbers))


def strip_markers(text: str) -> str:
    """`text` without its markers, spaces tidied ("mines [1]." → "mines.")."""
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", MARKER.sub("", text))).strip()


def escape_markers(text: str) -> str:
    """`text` with any "[n]" of its own (a document's footnote, a user's question) as "(n)": in an answer, only
    citation markers may look like one."""
    return MARKER.sub(r"(\1)", text)


def render_markers(ids: Iterable[int]) -> str:
    return "".join(f"[{i}]" for i in dict.fromkeys(ids))


def _closing(body: str) -> str:
    """The closing quotation marks and brackets `body` opened but does not close."""
    out = ""
    if body.count("(") > body.count(")"):
        out += ")"
    if body.count("‘") > body.count("’") and "‘" in body:
        out += "’"
    if body.count("“") > body.count("”"):
        out += "”"
    if body.count('"') % 2:
        out += '"'
    return out


def with_markers(text: str, ids: Iterable[int], quoted: bool = False) -> str:
    """`text` (without markers of its own) with `ids` before its final punctuation: "… in 2023 [1][2]."
    (in quotation marks when `quoted`: an extractive sentence)."""
    body = " ".join(text.split())
    match = _FINAL_PUNCTUATION.search(body)
    end = match.group(1) if match else "."
    body = escape_markers((body[: match.start()] if match else body).rstrip(" ,;:"))
    body += _closing(body)  # "“… look out for him.”" keeps its closing quote: "“… look out for him” [6]."
    if quoted:
        body = f"“{body}”"
    return f"{body} {render_markers(ids)}{end}"


def marked_sentences(text: str) -> list[str]:
    """`text` as sentences, each with its own markers: a piece made only of markers (or that starts with them:
    "…signed it. [1] Russia…") closes the sentence before it — unless the piece starts a line and says something
    after them: "[2] The release moved to October." is a numbered item (a small model echoing its evidence list)."""
    sentences: list[str] = []
    for sentence in split_sentences(text):
        piece = sentence.text.strip()
        leading = _LEADING_MARKERS.match(piece)
        line_start = sentence.start_char == 0 or text[: sentence.start_char].rstrip(" \t").endswith("\n")
        if leading and line_start and piece[leading.end() :].strip(" .,;:-•*"):
            sentences.append(f"{piece[leading.end() :].strip()} {leading.group(0).strip()}")
            continue
        if leading and sentences:
            sentences[-1] = f"{sentences[-1]} {leading.group(0).strip()}"
            piece = piece[leading.end() :].strip()
        if not piece:
            continue
        if sentences and not strip_markers(piece).strip(" .,;:-•*"):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences
