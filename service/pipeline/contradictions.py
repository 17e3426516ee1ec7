"""Do two statements contradict each other? The rules shared by answers (a source that differs on the asked
fact is surfaced) and summaries ("Where the sources differ"): a different figure, date or duration for the same
thing (service.pipeline.claims), or the same statement affirmed by one and negated by the other. Statements
that can both be true — one adds a value, values about different things or different times, figures that follow
from each other — do not contradict.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Literal

from service.pipeline.claims import TIME_KINDS, contradicting_values
from service.pipeline.sentences import split_sentences
from service.pipeline.terms import NEGATION, STATED_NEGATION, content_terms, states_negation, stem, words

DIFF_MIN_SIMILARITY = 0.4  # two sentences of different documents about the same subject
DIFF_MIN_SHARED = 0.08  # idf-weighted share of content terms the two sentences have in common
DATES_MIN_SIMILARITY = 0.65  # … when only a date differs: the same event (documents hold many dates of many events)
SPECIFIC_IDF = 1.5  # log-inverse sentence frequency: a term in fewer than about one sentence in five
POLARITY_MIN_OVERLAP = 0.7  # a negated statement contradicts another only when the rest is the same statement
REVERSED_MIN_COVER = 0.7  # a claim is made in a cited clause holding this share of its content words
# Words whose swap turns a statement or a question into its opposite: degree, direction, acceptance, sign, place.
# SQuAD 2's unanswerable questions are often an answerable one with one of them swapped ("What was the maximum
# percent …" over "… a minimum alcohol content of 25 per cent"). Not here: pairs an answer often uses beside the
# asked word for another thing ("before" / "after", "begin" / "end", "high" / "low", "men" / "women").
_OPPOSITES = """maximum minimum|max min|most least|more less|more fewer|largest smallest|biggest smallest|highest lowest
higher lower|increase decrease|first last|earliest latest|oldest youngest|oldest newest|longest shortest|best worst
strongest weakest|strong weak|stronger weaker|strengthen weaken|encourage discourage|win lose|won lost|accept reject
allow forbid|allow prohibit|support oppose|include exclude|import export|agree disagree|positive negative
legal illegal|possible impossible|success failure|successful unsuccessful|correct incorrect|true false
attractive repulsive|attraction repulsion|inside outside|internal external|upper lower|above below|north south
east west|northern southern|eastern western"""
OPPOSITES: dict[str, set[str]] = {}
for _pair in _OPPOSITES.replace("\n", "|").split("|"):
    _a, _b = (stem(w) for w in _pair.split())
    OPPOSITES.setdefault(_a, set()).add(_b)
    OPPOSITES.setdefault(_b, set()).add(_a)


def _contradicting_polarity(a: str, b: str) -> bool:
    """One sentence negates what the other affirms, about the same thing ("has signed" / "has not signed")."""
    if bool(NEGATION.search(a)) == bool(NEGATION.search(b)):
        return False
    ta, tb = content_terms(NEGATION.sub(" ", a)), content_terms(NEGATION.sub(" ", b))
    if not (ta | tb) or len(ta & tb) / len(ta | tb) < POLARITY_MIN_OVERLAP:
        return False
    negated, other = (a, tb) if NEGATION.search(a) else (b, ta)
    # the negation must be in the shared statement, not in a clause only one side has ("That doesn't just happen!")
    clauses = [c for c in re.split(r"[.!?;,]", negated) if NEGATION.search(c)]
    return any((terms := content_terms(NEGATION.sub(" ", c))) and len(terms & other) / len(terms) >= 0.5 for c in clauses)


def reversed_by(claim: str, cited_texts: Sequence[str]) -> str | None:
    """The cited sentence that says the opposite of `claim`, or None: the sentence holding most of the claim's
    content words (at least REVERSED_MIN_COVER) negates what the claim affirms or affirms what it negates — where
    the claim's words are (`_negates_statement`). "The NIF regime did not harbor Osama bin Laden" over "The NIF regime also harbored Osama bin Laden
    for a time (before 9/11), and …"; "The EU accepts that the Court of Justice has the final say" over "…, they do
    not accept that the Court of Justice has the final say …" — SQuAD 2's unanswerable questions put a "not" in
    or take one out, and a model answering them copies its source's words with the question's polarity."""
    terms = content_terms(STATED_NEGATION.sub(" ", claim))
    if not terms:
        return None
    best: tuple[float, str] | None = None
    for text in cited_texts:
        for sentence in split_sentences(text):
            cover = len(terms & content_terms(STATED_NEGATION.sub(" ", sentence.text))) / len(terms)
            if best is None or cover > best[0]:
                best = (cover, sentence.text)
    if best is None or best[0] < REVERSED_MIN_COVER or states_negation(claim) == _negates_statement(best[1], terms):
        return None
    return best[1]


_PIECE_BREAK = re.compile(r"[,;:()\[\]]|\s*[–—]\s*")


def _negates_statement(run: str, terms: set[str]) -> bool:
    """Does `run` negate the statement made of `terms`? Its negation must stand in a piece of it (between commas,
    dashes, brackets) that shares two content words with the statement, or half its own: "… the Ottawa Treaty, an
    international agreement banning anti-personnel mines—a treaty the U.S. has not signed" does not negate "The
    Ottawa Treaty bans antipersonnel mines"."""
    pieces: list[str] = []
    for piece in _PIECE_BREAK.split(run):
        # a piece of nothing but its negation ("…, but too much might not be") is said of the piece before it
        if pieces and not content_terms(STATED_NEGATION.sub(" ", piece)):
            pieces[-1] += f" {piece}"
        else:
            pieces.append(piece)
    for piece in pieces:
        own = content_terms(STATED_NEGATION.sub(" ", piece))
        if states_negation(piece) and own and (len(own & terms) >= 2 or len(own & terms) / len(own) >= 0.5):
            return True
    return False


def opposite_of_asked(claim: str, question: str) -> list[tuple[str, str]]:
    """(asked word, the claim's opposite of it) for each word of the question whose opposite (OPPOSITES) the claim
    says instead: "The German law requires … a minimum alcohol content of 25 per cent" for "What was the maximum
    percent …?" answers another question. The claim must lack the asked word and the question its opposite."""
    said = {stem(w.lower()): w for w in words(claim)}
    asked = {stem(w.lower()): w for w in words(question)}
    return sorted(
        (asked[q], said[o]) for q in asked.keys() - said.keys() for o in OPPOSITES.get(q, ()) if o in said and o not in asked
    )


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


def idf_weights(texts: Sequence[str]) -> dict[str, float]:
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
