"""Where the sources differ: pairs of sentences of different documents that make claims about the same subject
which cannot both be true — a different figure, date or duration for the same thing (service.pipeline.summaries.
claims), or the same statement affirmed by one and negated by the other — each side quoted and cited.

A pair where one document merely adds information is not a difference: sentences that share a value, state
values about different things or different times, or whose figures follow from each other are left out. With a
capable model (its profile's `judge`), the model is also asked whether both sides can be true; a pair it
accepts as compatible is dropped, and its answer is in the trace.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np

from service.pipeline.markers import (
    markers_in,
    strip_markers,
)
from service.pipeline.summaries.claims import TIME_KINDS, contradicting_values
from service.pipeline.summaries.phrasing import (
    SummaryRun,
    chat_messages,
    is_supported,
    sentence_body,
)
from service.pipeline.summaries.plan import Candidate
from service.pipeline.terms import content_terms, words
from service.schemas import (
    VerifierDecision,
)

DIFF_MIN_SIMILARITY = 0.4  # two sentences of different documents about the same subject
DATES_MIN_SIMILARITY = 0.65  # … when only a date differs: the same event (documents hold many dates of many events)
DIFF_MIN_SHARED = 0.08  # idf-weighted share of content terms the two sentences have in common
SPECIFIC_IDF = 1.5  # log-inverse sentence frequency: a term in fewer than about one sentence in five
POLARITY_MIN_OVERLAP = 0.7  # a negated statement contradicts another only when the rest is the same statement
# Negation, explicit or in a verb ("failed to return" = "did not return"); both apostrophes.
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|neither|nor|without|cannot|refus\w*|fail(?:s|ed|ing)?|unable|den(?:y|ies|ied)"
    r"|declin\w*|refrain\w*)\b|n[’']t\b",
    re.IGNORECASE,
)


@dataclass
class Difference:
    a: Candidate
    b: Candidate
    kind: Literal["figures", "dates", "polarity"]
    score: float


# --- differences between documents --------------------------------------------------------------------
def _contradicting_polarity(a: str, b: str) -> bool:
    """One sentence negates what the other affirms, about the same thing ("has signed" / "has not signed")."""
    if bool(_NEGATION.search(a)) == bool(_NEGATION.search(b)):
        return False
    ta, tb = content_terms(_NEGATION.sub(" ", a)), content_terms(_NEGATION.sub(" ", b))
    if not (ta | tb) or len(ta & tb) / len(ta | tb) < POLARITY_MIN_OVERLAP:
        return False
    negated, other = (a, tb) if _NEGATION.search(a) else (b, ta)
    # the negation must be in the shared statement, not in a clause only one side has ("That doesn't just happen!")
    clauses = [c for c in re.split(r"[.!?;,]", negated) if _NEGATION.search(c)]
    return any((terms := content_terms(_NEGATION.sub(" ", c))) and len(terms & other) / len(terms) >= 0.5 for c in clauses)


def classify_difference(
    a: str, b: str, similarity: float, idf: dict[str, float] | None = None
) -> Literal["figures", "dates", "polarity"] | None:
    """How two sentences about the same subject contradict each other, or None when both can be true. `idf`: the
    corpus' term weights; a figure's context must then share a term at least SPECIFIC_IDF rare."""
    specific = bool if idf is None else (lambda term: idf.get(term, 0.0) >= SPECIFIC_IDF)
    values = contradicting_values(a, b, specific)
    if values is not None:
        if values[0].kind not in TIME_KINDS:
            return "figures"
        return "dates" if similarity >= DATES_MIN_SIMILARITY else None
    if _contradicting_polarity(a, b):
        return "polarity"
    return None


_KIND_BONUS = {"figures": 0.3, "dates": 0.3, "polarity": 0.2}


def _idf(texts: Sequence[str]) -> dict[str, float]:
    """Inverse sentence frequency of each content term: rare shared terms mark a shared subject."""
    counts: dict[str, int] = {}
    for text in texts:
        for term in content_terms(text):
            counts[term] = counts.get(term, 0) + 1
    n = len(texts)
    return {t: math.log((n + 1) / (c + 0.5)) for t, c in counts.items()}


def shared_subject(a: str, b: str, idf: dict[str, float]) -> float:
    """Weighted Jaccard of the two sentences' content terms (0..1)."""
    ta, tb = content_terms(a), content_terms(b)
    union = sum(idf.get(t, 0.0) for t in ta | tb)
    return sum(idf.get(t, 0.0) for t in ta & tb) / union if union else 0.0


def find_differences(docs: dict[str, list[Candidate]], limit: int) -> list[Difference]:
    """Pairs of sentences from different documents on the same subject (close embeddings, shared rare terms)
    that contradict each other, best first, each subject once."""
    idf = _idf([c.text for cs in docs.values() for c in cs])
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

