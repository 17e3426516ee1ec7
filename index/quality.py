"""Low-information text: what is refused at ingest, or left out chunk by chunk, so it cannot flood retrieval.

A file of one repeated character, a base64 or hex blob, minified JSON or code, or binary-looking text yields
thousands of chunks that match nothing a reader asks yet tie with (or beat) real text in both rankings. Three
measures of a window of text (one chunk, about 1,000 characters) flag it:

- unbroken share: the share of its non-space characters in whitespace-free runs longer than 40 characters
  (base64 lines are 64-76, a minified JSON line is the whole file, prose words and most URLs are shorter);
- repetition: its zlib compression ratio (1 KB of prose compresses about 1.6-2.2x; one repeated character or
  phrase 20x and more);
- binary share: control characters (other than tab, newline, carriage return, form feed) and U+FFFD.

A file is refused when nearly all of it is low-information (sampled windows); otherwise only its
low-information chunks are left out, and the ingest report says how many. The thresholds were measured on every
document of ../shared/datasets (SciFact, HotpotQA, SQuAD 2, RealTimeQA, Multi-News) and the news corpus: none of
their chunks is flagged (`python -m index.quality ../shared/datasets/scifact/corpus.jsonl ...`).
"""

from __future__ import annotations

import re
import zlib

LONG_RUN = 40  # characters without whitespace that no word or ordinary URL reaches
MAX_UNBROKEN_SHARE = 0.5
MAX_COMPRESSION_RATIO = 8.0
MAX_BINARY_SHARE = 0.05
MIN_CHARS = 200  # shorter windows are too small to judge (and too small to flood anything)
REFUSE_SHARE = 0.9  # a file is refused when this share of its sampled windows is low-information
SAMPLE_WINDOWS = 64
WINDOW = 1000

_RUN = re.compile(rf"\S{{{LONG_RUN + 1},}}")
_BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


def low_information(text: str) -> str | None:
    """Why this window of text carries no retrievable information, or None when it is ordinary text."""
    if len(text) < MIN_CHARS:
        return None
    non_space = len(text) - sum(text.count(c) for c in " \n\t\r")
    if non_space == 0:
        return None
    if len(_BINARY.findall(text)) > MAX_BINARY_SHARE * len(text):
        return "binary-looking text"
    data = text.encode("utf-8", "replace")
    if len(data) / len(zlib.compress(data, 1)) > MAX_COMPRESSION_RATIO:
        return "the same characters repeated"
    if sum(len(m) for m in _RUN.findall(text)) > MAX_UNBROKEN_SHARE * non_space:
        return "long unbroken strings (base64, hex, minified code or data)"
    return None


def refuse_reason(text: str) -> str | None:
    """Why a whole document is refused (nearly all of its sampled windows are low-information), else None."""
    if len(text) < MIN_CHARS:
        return None
    count = min(SAMPLE_WINDOWS, max(1, len(text) // WINDOW))
    step = max(1, (len(text) - WINDOW) // max(1, count - 1)) if count > 1 else 0
    reasons = [low_information(text[i * step : i * step + WINDOW]) for i in range(count)]
    flagged = [r for r in reasons if r]
    if len(flagged) < REFUSE_SHARE * len(reasons):
        return None
    top = max(set(flagged), key=flagged.count)
    return f"low-information text ({top}): not indexed"


def _strings(value: object) -> list[str]:
    """Every string of at least MIN_CHARS inside a JSON value, joined per object."""
    if isinstance(value, str):
        return [value] if len(value) >= MIN_CHARS else []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        short = [v for v in value if isinstance(v, str) and len(v) < MIN_CHARS]
        found = [s for v in value for s in _strings(v)]
        return found + (["\n".join(short)] if len("\n".join(short)) >= MIN_CHARS else [])
    return []


def _main(paths: list[str]) -> None:
    """Count flagged chunks in BEIR corpus.jsonl / JSONL / plain-text files (the threshold check above)."""
    import json
    from pathlib import Path

    from index.chunking import chunk_text

    for name in paths:
        path, texts = Path(name), list[str]()
        if path.suffix in (".jsonl", ".json"):
            lines = path.read_text(encoding="utf-8").splitlines() if path.suffix == ".jsonl" else []
            records = [json.loads(line) for line in lines if line.strip()] or [json.loads(path.read_text(encoding="utf-8"))]
            texts.extend(t for record in records for t in _strings(record))
        else:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
        chunks = [c.text for t in texts for c in chunk_text("x", t, "0" * 64)]
        flagged = [(low_information(c), c[:80]) for c in chunks if low_information(c)]
        refused = sum(1 for t in texts if refuse_reason(t))
        print(f"{name}: {len(texts)} documents, {len(chunks)} chunks, {len(flagged)} flagged, {refused} refused")
        for reason, head in flagged[:5]:
            print(f"   {reason}: {head!r}")


if __name__ == "__main__":
    import sys

    _main(sys.argv[1:])
