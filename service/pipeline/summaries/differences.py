"""Where the sources differ: pairs of sentences of different documents that make claims about the same subject
which cannot both be true — a different figure, date or duration for the same thing (service.pipeline.summaries.
claims), or the same statement affirmed by one and negated by the other — each side quoted and cited.

A pair where one document merely adds information is not a difference: sentences that share a value, state
values about different things or different times, or whose figures follow from each other are left out. With a
capable model (its profile's `judge`), the model is also asked whether both sides can be true; a pair it
accepts as compatible is dropped, and its answer is in the trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np

from service.pipeline.contradictions import (
    DIFF_MIN_SHARED,
    DIFF_MIN_SIMILARITY,
    classify_difference,
    idf_weights,
    shared_subject,
)
from service.pipeline.markers import (
    markers_in,
    strip_markers,
)
from service.pipeline.summaries.phrasing import (
    SummaryRun,
    chat_messages,
    is_supported,
    sentence_body,
)
from service.pipeline.summaries.plan import Candidate
from service.pipeline.terms import words
from service.schemas import (
    VerifierDecision,
)


@dataclass
class Difference:
    a: Candidate
    b: Candidate
    kind: Literal["figures", "dates", "polarity"]
    score: float


# --- differences between documents --------------------------------------------------------------------
_KIND_BONUS = {"figures": 0.3, "dates": 0.3, "polarity": 0.2}


def find_differences(docs: dict[str, list[Candidate]], limit: int) -> list[Difference]:
    """Pairs of sentences from different documents on the same subject (close embeddings, shared rare terms)
    that contradict each other, best first, each subject once."""
    idf = idf_weights([c.text for cs in docs.values() for c in cs])
    found: list[Difference] = []
    for (_, ca), (_, cb) in combinations(docs.items(), 2):
        if not ca or not cb:
            continue
        sims = np.stack([c.vector for c in ca]) @ np.stack([c.vector for c in cb]).T
        for i, j in zip(*np.nonzero(sims >= DIFF_MIN_SIMILARITY)):
            a, b, sim = ca[i], cb[j], float(sims[i, j])
            subject = shared_subject(a.text, b.text, idf)
            if subject < DIFF_MIN_SHARED:
                continue
            kind = classify_difference(a.text, b.text, sim, idf)
            if kind is None:
                continue
            score = sim + subject + _KIND_BONUS[kind] + 0.5 * (a.salience + b.salience)
            found.append(Difference(a=a, b=b, kind=kind, score=score))
    found.sort(key=lambda d: d.score, reverse=True)
    chosen: list[Difference] = []
    used: set[tuple] = set()
    for d in found:
        if d.a.key in used or d.b.key in used:
            continue
        if any(float(d.a.vector @ c.a.vector) > 0.75 or float(d.b.vector @ c.b.vector) > 0.75 for c in chosen):
            continue  # the same subject once is enough
        chosen.append(d)
        used.update({d.a.key, d.b.key})
        if len(chosen) >= limit:
            break
    return chosen


def _clip(text: str, max_words: int = 40) -> str:
    """A quoted side: at most `max_words`, without its final full stop (so the difference stays one sentence)."""
    tokens = sentence_body(text).split(" ")
    clipped = " ".join(tokens[:max_words])
    return clipped + (" …" if len(tokens) > max_words else "")


def difference_text(d: Difference, marker_a: str, marker_b: str) -> str:
    """A difference quoting each side verbatim, so each side is supported by its citation (which names its source;
    file names stay out of the sentence, where their digits would read as unsupported figures)."""
    lead = {"figures": "The figures differ: one", "dates": "The dates differ: one"}.get(d.kind, "One")
    return f"{lead} source says “{_clip(d.a.text)}” {marker_a}, while another says “{_clip(d.b.text)}” {marker_b}."


def phrase_difference(run: SummaryRun, d: Difference) -> str | None:
    """The model's one-sentence contrast, kept only if it cites both sides and each side supports it."""
    reply = run.complete(
        "differences_llm",
        chat_messages("summarize_differences", text_a=d.a.text, text_b=d.b.text),
        max_tokens=70,
    )
    line = next((ln for ln in reply.splitlines() if ln.strip()), "")
    if set(markers_in(line)) != {1, 2} or len(words(line)) > 60:
        return None
    parts = re.split(r"(?<=\[1\])", line, maxsplit=1) if line.find("[1]") < line.find("[2]") else []
    if len(parts) != 2:
        return None
    embedder = run.encoder
    side_a = strip_markers(parts[0])
    side_b = strip_markers(parts[1]).strip(" ,;.")
    ok_a = is_supported(side_a, [d.a.text], embedder)
    ok_b = is_supported(side_b, [d.b.text], embedder)
    run.decisions.append(
        VerifierDecision(sentence=line, action="kept" if ok_a and ok_b else "dropped", cited=[1, 2],
                         reason="" if ok_a and ok_b else "a side of the contrast is not supported by its citation")
    )
    if ok_a and ok_b:
        run.model_wrote = True
        return line
    return None

