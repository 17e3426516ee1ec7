"""Evidence selection: from retrieved chunks to the few numbered sentences the model sees and citations quote.

Retrieved chunks are re-split into whole sentences of their documents (a chunk boundary can cut a sentence;
a citation must not), each with its exact line span. Sentences are ranked by a mix of dense similarity to the
question and the share of the question's content terms they contain (idf-weighted within the candidates, so
a rare word like "Ottawa" counts more than "mines"). The top few become evidence [1]..[n], best first.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from cachetools import LRUCache

from index.errors import UnknownSource
from service.pipeline.places import asked_place, places_in
from service.pipeline.ports import Encoder
from service.pipeline.sentences import (
    Sentence,
    is_heading,
    mention_of,
    reads_as_title,
    sentences_in_lines,
    split_sentences,
    strip_disambiguation,
    title_of,
)
from service.pipeline.terms import content_terms, words
from service.schemas import Evidence, SearchHit

DENSE_WEIGHT = 0.5  # score = DENSE_WEIGHT * cosine + (1 - DENSE_WEIGHT) * weighted question-term coverage
ANSWER_TYPE_BONUS = 0.1  # added when a sentence holds the kind of thing asked for (a date for "when", a number)
# Added to every sentence of a document titled by a name the question asks about ("Are Nantong and Jingdezhen in the
# same province?": the page titled "Jingdezhen" over the one titled "Jingdezhen Ceramic Institute"): a document is
# about its title. HotpotQA dev (no-LLM harness), bonus 0 / 0.05 / 0.1 / 0.15 / 0.2: supporting paragraphs cited
# 0.802 / 0.812 / 0.833 / 0.823 / 0.812, accuracy 0.542 until 0.2 (0.521); held-out test at 0.1: support 0.740 →
# 0.808, accuracy 0.538 → 0.596, citation precision 0.803 → 0.882; RealTime QA, SQuAD 2 and our suites unchanged.
TITLE_BONUS = 0.1
LEAD_CONJUNCTION = r"^\s*(?:(?:and|but|so|then|also)\s+)?"  # a follow-up's "and when was that?" asks "when"
_ASKS_DATE = re.compile(LEAD_CONJUNCTION + r"(when|(in |on |by )?(what|which) (year|month|date|day))\b", re.I)
_ASKS_NUMBER = re.compile(
    r"\b(how (many|much|large|big|long)|what (percentage|percent|share|number|proportion|amount|price)|costs?)\b", re.I
)
# "…, and which company did it?": a compound question's later parts start at "and" + a question word
# "…, how many …": also a comma straight before a question word; "…, and has the U.S. signed it?": a yes/no part.
# Measured on the public questions this split changes (answered old vs new in one run): RealTime QA 10 questions
# 0.50 → 0.70 correct, HotpotQA 10: 0.30 → 0.40, SQuAD 2 68 answerable: 0.912 → 0.941, 25 unanswerable unchanged.
_PART_BREAK = re.compile(
    r"(?:,\s*|\s+)and\s+(?=(?:what|how|when|which|who|whom|whose|where|why|has|have|is|are|was|were|did|does|do)\b)"
    r"|,\s*(?=(?:what|how|when|which|who|whom|whose|where|why)\b)",
    re.I,
)
PART_MIN_TERMS = 2  # a part with fewer content terms ("which company did it") cannot be ranked on its own
PART_SCORE_MIN = 0.4  # a part's best sentence joins the answer only when it scores at least this for the part
# A part is short: each of its few terms swings the term coverage a lot ("per year" for "yearly" beat "annual
# loan payment"), so parts are ranked with more weight on the dense similarity.
PART_DENSE_WEIGHT = 0.7
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_ISO_DATE = r"\b(?:1[89]|20)\d\d-[01]\d-[0-3]\d\b"
_DATE = re.compile(  # a year inside a code ("contract NR-2025-01") is no date
    rf"\b(?<!\w-)(?:1[89]\d\d|20\d\d)\b(?!-\w)|{_ISO_DATE}|\b(?:{_MONTHS})\b"
)
_NUMBER = re.compile(r"\d")
# day, month and year: "January 14, 2025", "14 January 2025", "2025-01-14"
FULL_DATE = re.compile(rf"\b(?:(?:{_MONTHS})\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+(?:{_MONTHS})\s+\d{{4}})\b|{_ISO_DATE}")


# "how many days …": the counted noun; a sentence counting that noun ("over 1,000 days ago") answers it better
# than one holding any number ("November 5")
_COUNTED = re.compile(r"\bhow many ([a-z]{3,})\b", re.I)
_COUNT = r"\d[\d,.]*\s+(?:[\w-]+\s+){0,2}"


def asks_date(question: str) -> bool:
    """Does the question ask when ("When …", "In what year …", "and when was that?")?"""
    return _ASKS_DATE.search(question) is not None


def holds_date(text: str) -> bool:
    """Does `text` name a year, a month or a date?"""
    return _DATE.search(text) is not None


def asked_type(question: str) -> Literal["date", "number", "country", "state"] | None:
    """The kind of thing the question asks for, of those `answer_type_bonus` recognises: a date ("when …"), a number
    ("how many …"), a country or a state ("which country / state …"); None for any other question."""
    if asks_date(question):
        return "date"
    if _ASKS_NUMBER.search(question):
        return "number"
    return asked_place(question)


def answer_type_bonus(question: str, sentence: str) -> float:
    """A small lift for sentences that contain what the question asks for: dates for "when", numbers for
    "how many" (lexical and dense similarity both miss that "began … in February 2022" answers "when"), and
    half as much again when the number counts the noun asked about; for "which country / state", a country (state)
    the question does not name."""
    kind = asked_type(question)
    if kind == "date":
        return ANSWER_TYPE_BONUS if holds_date(sentence) else 0.0
    if kind == "number":
        if not _NUMBER.search(sentence):
            return 0.0
        counted = _COUNTED.search(question)
        if counted and re.search(_COUNT + re.escape(counted.group(1)[:4]), sentence, re.I):
            return 1.5 * ANSWER_TYPE_BONUS
        return ANSWER_TYPE_BONUS
    if kind is not None:
        return ANSWER_TYPE_BONUS if places_in(kind, sentence) - places_in(kind, question) else 0.0
    return 0.0


FOLLOW_UP_MIN_TERMS = 2
MIN_WORDS = 4  # shorter pieces ("Related Sources:") are headings or debris, not evidence


class RankedEvidence(Evidence):
    """Evidence with the two parts of its score kept apart (the refusal rule looks at both)."""

    dense: float = 0.0
    lexical: float = 0.0
    title_lift: float = 0.0  # the part of `score` that only orders (TITLE_BONUS): not a measure of relevance

    @property
    def relevance(self) -> float:
        """How well the evidence matches the question: its score without a titled page's lift (which only orders,
        and would otherwise make the sources the next hop found look off the question)."""
        return self.score - self.title_lift


EMBEDDING_CACHE_SIZE = 4096
# Sentence embeddings by (encoder, text): the same sentences come back for related questions and in the verifier.
_embeddings: LRUCache[tuple[int, str], np.ndarray] = LRUCache(maxsize=EMBEDDING_CACHE_SIZE)
_embeddings_lock = threading.Lock()  # answers may run in several threads (HTTP API)


def evidence_block(evidence: Sequence[Evidence]) -> str:
    """Numbered evidence for a prompt, one per line: "[n] text" (the numbers the model cites)."""
    return "\n".join(f"[{e.number}] {' '.join(e.text.split())}" for e in evidence)


def embed(embedder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """L2-normalised embeddings of `texts`, cached per encoder and text."""
    keys = [(id(embedder), t) for t in texts]
    with _embeddings_lock:
        found = {k: v for k in keys if (v := _embeddings.get(k)) is not None}
    missing = list(dict.fromkeys(k[1] for k in keys if k not in found))
    if missing:
        fresh = dict(zip(((id(embedder), t) for t in missing), embedder.encode(missing)))
        with _embeddings_lock:
            _embeddings.update(fresh)
        found.update(fresh)
    return np.stack([found[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)


def _hit_sentences(hit: SearchHit, text_of: Callable[[str], str] | None) -> list[Sentence]:
    """Whole sentences covering the hit's lines, in document coordinates, without the document's title line
    when that reads as a title in title case ("Act of War: Direct Action", "Escape from the Dark": neither the
    colon that keeps "Note: …" a sentence nor the small words make a title one)."""
    if text_of is not None:
        try:
            document = text_of(hit.source)
            found = sentences_in_lines(document, hit.start_line, hit.end_line)
        except Exception:  # an unknown source or a missing text file: fall back to the chunk's own text
            pass
        else:
            title = title_of(document)
            if title is None or not reads_as_title(title):
                return found
            return [s for s in found if strip_disambiguation(s.text) != title]
    offset = hit.start_line - 1
    return [
        s.model_copy(update={"start_line": s.start_line + offset, "end_line": s.end_line + offset})
        for s in split_sentences(hit.text)
    ]


def candidate_sentences(
    hits: Sequence[SearchHit], text_of: Callable[[str], str] | None = None
) -> list[tuple[SearchHit, Sentence]]:
    """Every distinct sentence of the retrieved chunks (overlapping chunks share sentences), in hit order."""
    seen: set[tuple[str, int, str]] = set()
    out = []
    for hit in hits:
        for sentence in _hit_sentences(hit, text_of):
            key = (hit.source, sentence.start_line, sentence.text)
            if key in seen or len(words(sentence.text)) < MIN_WORDS or is_heading(sentence.text):
                continue
            seen.add(key)
            out.append((hit, sentence))
    return out


def term_weights(question_terms: set[str], pool: list[set[str]]) -> dict[str, float]:
    """Inverse document frequency of each question term within the candidate sentences (smoothed)."""
    n = len(pool)
    return {t: math.log(1 + (n + 1) / (1 + sum(1 for p in pool if t in p))) for t in question_terms}


def _scores(question: str, texts: list[str], pool: list[set[str]], vectors: np.ndarray) -> list[tuple[float, float]]:
    """(dense, lexical) of each text for one question; `vectors` = [question, *texts] embeddings."""
    dense = vectors[1:] @ vectors[0]
    weights = term_weights(content_terms(question), pool)
    total = sum(weights.values()) or 1.0
    return [
        (float(cos), sum(w for t, w in weights.items() if t in terms) / total) for cos, terms in zip(dense, pool)
    ]


def score_texts(question: str, texts: Sequence[str], embedder: Encoder) -> list[tuple[float, float, float]]:
    """(dense, lexical, score) of each text for `question`, scored as rank_evidence scores sentences."""
    if not texts:
        return []
    pool = [content_terms(t) for t in texts]
    scores = _scores(question, list(texts), pool, embed(embedder, [question, *texts]))
    return [
        (dense, lexical, round(DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * lexical + answer_type_bonus(question, t), 4))
        for (dense, lexical), t in zip(scores, texts)
    ]


def rank_evidence(
    question: str,
    hits: Sequence[SearchHit],
    embedder: Encoder,
    text_of: Callable[[str], str] | None = None,
    follow_up: str | None = None,
    dense_weight: float = DENSE_WEIGHT,
) -> list[RankedEvidence]:
    """All candidate sentences, scored and sorted best first (numbered 1..n in that order).

    `follow_up`: the user's own words when `question` is a rewrite of a follow-up; scores are then averaged
    over both, so the words the context added do not drown what was actually asked.
    """
    if text_of is not None:  # each document read once per ranking (its sentences and its title)
        text_of = functools.cache(text_of)
    candidates = candidate_sentences(hits, text_of)
    if not candidates:
        return []
    texts = [s.text for _, s in candidates]
    pool = [content_terms(t) for t in texts]
    # a follow-up's own words count only when they say something ("and when was that?" says nothing to rank by)
    own_words = follow_up is not None and len(content_terms(follow_up)) >= FOLLOW_UP_MIN_TERMS
    questions = [question] + ([follow_up] if follow_up and own_words and follow_up != question else [])
    per_question = [_scores(q, texts, pool, embed(embedder, [q, *texts])) for q in questions]
    ranked = []
    for i, (hit, sentence) in enumerate(candidates):
        dense = sum(scores[i][0] for scores in per_question) / len(per_question)
        lexical = sum(scores[i][1] for scores in per_question) / len(per_question)
        ranked.append(
            RankedEvidence(
                number=0,
                source=hit.source,
                start_line=sentence.start_line,
                end_line=sentence.end_line,
                text=sentence.text,
                score=round(
                    dense_weight * dense + (1 - dense_weight) * lexical + answer_type_bonus(question, sentence.text), 4
                ),
                dense=round(dense, 4),
                lexical=round(lexical, 4),
            )
        )
    titled = named_titles(question, {e.source for e in ranked}, text_of)
    if titled:
        ranked = [
            e.model_copy(update={"score": round(e.score + TITLE_BONUS, 4), "title_lift": TITLE_BONUS}) if e.source in titled else e
            for e in ranked
        ]
    ranked.sort(key=lambda e: e.score, reverse=True)
    return [e.model_copy(update={"number": i}) for i, e in enumerate(ranked, start=1)]


def named_titles(question: str, sources: set[str], text_of: Callable[[str], str] | None) -> set[str]:
    """The sources whose document is titled by a name in the question (matched as a whole, capitalised there)."""
    if text_of is None:
        return set()
    named = set()
    for source in sources:
        try:
            title = title_of(text_of(source))
        except UnknownSource:  # a hit whose document went away meanwhile
            continue
        match = title and mention_of(title, question)
        if match and match.group(0)[0].isupper():
            named.add(source)
    return named


def question_parts(question: str) -> list[str]:
    """The parts of a compound question that can be ranked on their own ("When was the inspection done" and
    "how large is the yearly loan payment"), or [] for a simple question. A ranking for the whole question
    favours sentences that touch every part a little over the one that answers a part."""
    pieces = [p.strip(" ,;?") for p in _PART_BREAK.split(question)]
    if len(pieces) < 2:
        return []
    return [f"{p}?" for p in pieces if len(content_terms(p)) >= PART_MIN_TERMS]


def best_for_parts(
    question: str, hits: Sequence[SearchHit], embedder: Encoder, text_of: Callable[[str], str] | None = None
) -> list[RankedEvidence]:
    """Each part's best sentence, scored for that part, when it clearly addresses it: at least PART_SCORE_MIN,
    and holding a date or number when the part asks for one."""
    found: list[RankedEvidence] = []
    for part in question_parts(question):
        ranked = rank_evidence(part, hits, embedder, text_of, dense_weight=PART_DENSE_WEIGHT)
        if not ranked or ranked[0].score < PART_SCORE_MIN:
            continue
        wants_type = asked_type(part) is not None
        if wants_type and answer_type_bonus(part, ranked[0].text) == 0:
            continue
        found.append(ranked[0])
    return found


def select_evidence(
    question: str,
    hits: Sequence[SearchHit],
    embedder: Encoder,
    text_of: Callable[[str], str] | None = None,
    max_evidence: int = 6,
    follow_up: str | None = None,
) -> list[RankedEvidence]:
    """The `max_evidence` best sentences for the question, numbered 1..n best first."""
    return rank_evidence(question, hits, embedder, text_of, follow_up)[:max_evidence]

