"""Summary planning: which sentences of a document could go into a summary, how its chunks are grouped for
one model call each, and how central (salient) each sentence is."""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.records import Chunk
from service.pipeline.citations import CitationBook
from service.pipeline.evidence import embed
from service.pipeline.ports import DocumentSource, Encoder
from service.pipeline.sentences import Sentence, is_heading, split_sentences
from service.pipeline.terms import content_terms, normalize_number, words

MIN_WORDS = 5  # shorter pieces are headings, bylines or debris, not summary material
MAX_WORDS = 80  # longer "sentences" are usually run-together lists or boilerplate
CHARS_PER_TOKEN = 3.5  # conservative for English with SmolLM2's tokenizer
RESERVED_TOKENS = 700  # the map prompt's instructions plus its reply
FIGURE_BONUS = 0.04  # salience per distinct figure in a sentence (up to three)
MMR_LAMBDA = 0.7  # relevance vs. novelty when picking sentences
# Said once in a summary (is_duplicate): the same sentence in two documents (a wire story syndicated, a page archived
# twice) or a copy with a word changed — verbatim copies embed at 1.0 —, and a restatement in other words that
# adds no figure (the paraphrase is cited beside the kept sentence, see summarize._add_consensus, same 0.8). On
# Multi-News validation 100–249, quoted summaries with two sentences at cosine ≥ 0.95: 3 of 150, 8 once corpus
# salience favoured what two documents both carry, 0 after; pairs at 0.8–0.95: 66 in 49 summaries → 15 in 14
# (each adds a figure: "died on Wednesday, November 21" beside "has died after a yearlong battle"); ROUGE-1/2/L
# 0.4371/0.1465/0.2032 → 0.4382/0.1478/0.2030 (0.85: 0.4376/0.1468; without the figure rule 0.8: 0.4370/0.1469).
DUPLICATE_COSINE = 0.95
RESTATEMENT_COSINE = 0.8
# MiniLM puts "Repairs are expected to cost $12 million and take eight months" and the same with "to the pier" and
# "will" at cosine 0.78: a sentence whose content words are this share of another's restates it too. 15 such pairs
# left in the 150 summaries above; 0.8 drops the restatements among them ("The dead include 33-year-old Johnathon
# Stoffel …" beside "… Jonathan Stoffel, 33, of Neenah …"), 0.7 also "Rocky Mountain Spotted Fever is a reportable
# disease in Oklahoma" beside what the disease is. ROUGE-1/2/L 0.4384/0.1480/0.2032 (0.7: 0.4389/0.1482); with every
# document still cited (one whose points all restate others keeps its best, summarize._pick_bullets) 0.4377/0.1477/
# 0.2020, and 16 pairs at cosine 0.8–0.95 in the 150 summaries (45 before any of this, and 8 verbatim repeats).
RESTATEMENT_TERMS = 0.8
# Corpus salience (corpus_salience): how strongly the other documents say a sentence too, plus its place in its own
# document. Tuned on Multi-News validation 100–249 (ROUGE-1 / ROUGE-2 of the quoted summary; the document-centroid
# salience it replaces: 0.4292 / 0.1330, LexRank at the same length 0.4298 / 0.1370):
CORPUS_LEAD = 0.1  # × e^(-position/2): the lead states the event (0.2: 0.4331 / 0.1427; 0.1: 0.4370 / 0.1458)
CORPUS_LATE = 0.15  # × position / sentences: what comes late is background (0: 0.4244 / 0.1365; 0.3: 0.4332 / 0.1426)
CORPUS_FIGURE_BONUS = 0.02  # per figure, up to three: readers want the numbers (0: 0.4337 / 0.1461; 0.04: 0.4313 / 0.1419)

_BOILERPLATE = re.compile(
    r"https?://|www\.|@\w|\bclick\b|\bsubscribe\b|\bnewsletter\b|all rights reserved|copyright|\bcookies?\b"
    r"|\bsign up\b|\bjavascript\b|\bbrowser\b|\bphoto:|\bimage:|\bfile photo\b|\bread more\b|\badvertisement\b"
    r"|\bmailing list\b|\bcontact details\b|\bform below\b|\bprivacy policy\b|\bterms of (?:use|service)\b",
    re.IGNORECASE,
)
# Letter, form and minutes furniture: who wrote, who was there, who signed — context, not what a document says.
_FORM_LINE = re.compile(
    r"^(?:(?:from|to|cc|re|subject|date|signed|present|staff present|absent|attendees|prepared by|inspected by"
    r"|approved by)\s*:|dear\b|sincerely\b|(?:kind |best )?regards\b|(?:minutes )?(?:recorded|taken) by\b)",
    re.IGNORECASE,
)
# "Effective date: 1 April 2025." / "Inspection date: October 22, 2024." — a form field, not a statement
_FIELD_LINE = re.compile(r"^[A-Z][\w ,&/()'-]{0,40}:\s*(?P<value>.*)$", re.DOTALL)
# Meeting procedure: that a meeting opened, closed or approved its last minutes is not what it decided.
_PROCEDURE = re.compile(r"\bcalled to order\b|\bmeeting (?:was )?adjourned\b|\bminutes of the .{0,40}\bwere approved\b",
                        re.IGNORECASE)
# A sentence that leans on the one before it ("It costs …", "To fix them, …") reads badly on its own.
_LEANING_OPENER = re.compile(r"^(?:(?:it|its|they|their|them|this|these|those|he|she|his|her|such)\b"
                             r"|[^,]{0,30}\b(?:them|it|this|these|those)\s*,)", re.IGNORECASE)
LEANING_PENALTY = 0.08
# What a sentence opens with that is the page's furniture, not its statement: a news dateline ("WASHINGTON (AP) — ",
# "FLORENCE, Italy, Feb. 25 (UPI) -- ", "(CNN) -- "; 30 of 1,097 quoted sentences on Multi-News validation 100–249),
# a list number ("2. "), a field label of two or three words ("Progress to date: ", "Interior coating: "; a name such
# as "John Smith:" is a speaker, not a label, and stays).
_DATELINE = re.compile(
    r"^(?:[A-Z][A-Z.'’-]+(?: [A-Z][A-Z.'’-]+)*(?:, [A-Z][\w.]*(?: [A-Z][\w.]*)*)*(?:,? [A-Z][a-z]{2}\.? \d{1,2})?\s*"
    r"(?:\([A-Z][\w. ]*\)\s*)?|\([A-Z][\w. ]*\)\s*)(?:—|--|–)\s*(?=[A-Z0-9\"“‘'])"
)
_LABEL = re.compile(r"^(?:\d{1,2}[.)]\s+)?(?:[A-Z][a-z]+(?: [a-z]+){1,2}:\s+)?(?=[A-Z0-9\"“‘'])")
_LOWER_WORD = re.compile(r"\b(?!(?:of|and|the|for|at|in|de|van|von)\b)[a-z][a-z'’-]*\b")
_TERMINAL = re.compile(r"[.!?]['\"”’)]*$")


@dataclass(eq=False)
class Candidate:
    """A sentence of a document that could go into a summary, with where it sits and how central it is."""

    source: str
    sentence: Sentence
    position: int  # order among the document's candidate sentences
    chunk: int  # index of the chunk its first character is in
    group: int = 0
    vector: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32), repr=False)
    salience: float = 0.0
    reading: str | None = None  # how the quote reads in a summary: a table row with its header, a sentence without
    # its dateline or label (summary_reading)
    after_prose: bool = True  # a prose sentence precedes it in its document (one it may lean on)

    @property
    def text(self) -> str:
        return self.sentence.text

    def cite(self, book: CitationBook) -> int:
        """This sentence's citation id in `book`."""
        return book.number(self.key, self.source, self.sentence.start_line, self.sentence.end_line, self.text)

    @property
    def key(self) -> tuple[str, int, int, str]:
        return (self.source, self.sentence.start_line, self.sentence.end_line, self.sentence.text)


@dataclass(eq=False)
class Point:
    """One verified summary sentence: its wording and the candidate sentences that support it."""

    text: str
    cites: list[Candidate]
    score: float
    phrased: bool  # the model's wording (verified), not the original sentence
    parts: list[tuple[str, list[Candidate]]] | None = None  # a composed bullet: each sentence with what it cites

    @property
    def main(self) -> Candidate:
        return self.cites[0]


@dataclass
class DocumentPlan:
    """A document's candidates and how its chunks were grouped for the map step."""

    source: str
    chunks: list[Chunk]
    candidates: list[Candidate]
    groups: list[list[int]]  # chunk indices per group



def figures_in(text: str) -> set[str]:
    """The numbers a sentence states, normalised ("1,000" and "1000" alike)."""
    return {normalize_number(t) for t in words(text) if t[0].isdigit()}


# --- candidates and groups ----------------------------------------------------------------------------
def is_summary_material(text: str) -> bool:
    """A whole, content-bearing sentence: not a heading, byline, link or cookie notice."""
    n = len(words(text))
    text = text.strip()
    if n < MIN_WORDS or n > MAX_WORDS or _BOILERPLATE.search(text) or _FORM_LINE.search(text):
        return False
    if not _LOWER_WORD.search(text):  # "Colin Brennan, Project Superintendent, Brennan & Holt." — a signature
        return False
    field = _FIELD_LINE.match(text)
    if field and len(words(field.group("value"))) < MIN_WORDS:
        return False
    if _PROCEDURE.search(text):
        return False
    # headlines and list fragments (no full stop) and questions (a FAQ's answers are its claims) are not claims
    return bool(_TERMINAL.search(text)) and not text.rstrip("\"'”’)").endswith("?")


def summary_reading(text: str) -> str | None:
    """How a sentence reads in a summary without the dateline, list number or field label it opens with (None:
    as it is). Its citation still quotes the whole sentence."""
    rest = _LABEL.sub("", _DATELINE.sub("", text, count=1), count=1)
    return rest if rest != text and len(words(rest)) >= MIN_WORDS else None


def leaning_penalty(text: str) -> float:
    """Salience lost by a sentence that leans on the one before it ("It costs …")."""
    return LEANING_PENALTY if _LEANING_OPENER.search(text) else 0.0


def group_budget_chars(context_tokens: int) -> int:
    """How much document text one map call could read within the model's context."""
    return max(2000, int((context_tokens - RESERVED_TOKENS) * CHARS_PER_TOKEN))


def plan_groups(chunks: Sequence[Chunk], budget_chars: int) -> list[list[int]]:
    """Consecutive chunks packed into groups whose text span fits `budget_chars` (at least one chunk each)."""
    groups: list[list[int]] = []
    for i, chunk in enumerate(chunks):
        if groups:
            first = chunks[groups[-1][0]]
            if chunk.end_char - first.start_char <= budget_chars:
                groups[-1].append(i)
                continue
        groups.append([i])
    return groups


def unit_centroid(vectors: np.ndarray) -> np.ndarray:
    centroid = vectors.mean(axis=0)
    return centroid / max(float(np.linalg.norm(centroid)), 1e-12)


def plan_document(source: str, *, documents: DocumentSource, encoder: Encoder, context_tokens: int) -> DocumentPlan:
    """Split a document into candidate sentences, group its chunks, and score each sentence's salience."""
    chunks = documents.chunks_for(source)  # UnknownSource for an unknown document
    text = documents.text(source)
    starts = [c.start_char for c in chunks]
    sentences = split_sentences(text)
    material = [s for s in sentences if is_summary_material(s.text)]
    if not material:  # a document without sentence punctuation (notes, lists): its longer lines will do
        material = [s for s in sentences if MIN_WORDS <= len(words(s.text)) <= MAX_WORDS]
    # "Hoping to bring some mustard home from France? It might actually be the last place you'll find some …": the
    # question is no summary material, so the sentence leaning on it was the first candidate, exempt from the penalty
    opening = next((s for s in sentences if not is_heading(s.text)), None)
    candidates = [
        Candidate(source=source, sentence=s, position=0, chunk=max(bisect_right(starts, s.start_char) - 1, 0),
                  reading=summary_reading(s.text), after_prose=s is not opening)
        for s in material
    ]
    for i, c in enumerate(candidates):
        c.position = i
    groups = plan_groups(chunks, group_budget_chars(context_tokens)) if chunks else [[0]]
    group_of = {chunk: g for g, members in enumerate(groups) for chunk in members}
    for c in candidates:
        c.group = group_of.get(c.chunk, 0)
    if candidates:
        vectors = embed(encoder, [c.text for c in candidates])
        doc_centroid = unit_centroid(vectors)
        group_centroids = {
            g: unit_centroid(vectors[[i for i, c in enumerate(candidates) if c.group == g]])
            for g in {c.group for c in candidates}
        }
        for c, v in zip(candidates, vectors):
            c.vector = v
            lead = 0.15 * math.exp(-c.position / 2.0)  # news and reports put the gist first
            n = len(words(c.text))
            shape = 0.0 if 10 <= n <= 45 else -0.05
            specific = FIGURE_BONUS * min(3, len(figures_in(c.text)))  # amounts, dates, votes: the facts people ask for
            leaning = leaning_penalty(c.text) if c.after_prose else 0.0
            c.salience = (
                0.55 * float(v @ doc_centroid) + 0.3 * float(v @ group_centroids[c.group]) + lead + shape + specific
                - leaning
            )
    return DocumentPlan(source=source, chunks=chunks, candidates=candidates, groups=groups)


def corpus_salience(plans: Sequence[DocumentPlan]) -> None:
    """Rescore every candidate of a corpus of several documents by what the other documents say too: the mean,
    over the other documents, of its cosine to their closest sentence; plus its place in its own document.

    A fact several articles state is what a multi-document summary reports first (Multi-News references favour it),
    while a document's own centroid also rewards what only that document dwells on. A corpus of one document
    keeps the document's salience."""
    documents = [p for p in plans if p.candidates]
    if len(documents) < 2:
        return
    vectors = [np.stack([c.vector for c in p.candidates]) for p in documents]
    for i, plan in enumerate(documents):
        closest = np.stack([(vectors[i] @ other.T).max(axis=1) for j, other in enumerate(vectors) if j != i])
        support = closest.mean(axis=0)
        n = len(plan.candidates)
        for c, s in zip(plan.candidates, support):
            lead = CORPUS_LEAD * math.exp(-c.position / 2.0) - CORPUS_LATE * c.position / n
            specific = CORPUS_FIGURE_BONUS * min(3, len(figures_in(c.text)))
            leaning = leaning_penalty(c.text) if c.after_prose else 0.0
            c.salience = float(s) + lead + specific - leaning


def is_duplicate(candidate: Candidate, others: Sequence[Candidate], verbatim_only: bool = False) -> bool:
    """Does one of `others` say the same: the same sentence (DUPLICATE_COSINE), or the same statement in other
    words (RESTATEMENT_COSINE) or in fewer (RESTATEMENT_TERMS) with no figure of its own? `verbatim_only`: the
    same sentence only."""
    terms = content_terms(candidate.text)
    for o in others:
        similarity = float(candidate.vector @ o.vector)
        if similarity >= DUPLICATE_COSINE:
            return True
        if not verbatim_only and figures_in(candidate.text) <= figures_in(o.text):
            if similarity >= RESTATEMENT_COSINE:
                return True
            if terms and len(terms & content_terms(o.text)) / len(terms) >= RESTATEMENT_TERMS:
                return True
    return False


def select_diverse(
    candidates: Sequence[Candidate], k: int, score: Callable[[Candidate], float], must: Sequence[Candidate] = (),
    seen: Sequence[Candidate] = (),
) -> list[Candidate]:
    """Maximal marginal relevance: high-scoring sentences that do not repeat each other nor what the reader has
    `seen` already (the overview, for the bullets). `must` come first, unless one is the same sentence again."""
    chosen: list[Candidate] = []
    for c in must:
        if c not in chosen and len(chosen) < k and not is_duplicate(c, [*seen, *chosen], verbatim_only=True):
            chosen.append(c)
    pool = [c for c in candidates if c not in chosen]
    while len(chosen) < k:
        def mmr(c: Candidate) -> float:
            redundancy = max((float(c.vector @ s.vector) for s in [*seen, *chosen]), default=0.0)
            return MMR_LAMBDA * score(c) - (1 - MMR_LAMBDA) * redundancy

        pool = [c for c in pool if not is_duplicate(c, [*seen, *chosen])]
        if not pool:
            break
        best = max(pool, key=mmr)
        chosen.append(best)
        pool.remove(best)
    return chosen


def edge_candidates(plan: DocumentPlan) -> list[Candidate]:
    """The document's opening and closing sentences: a summary of a whole document covers both ends.

    Position, not salience, picks them: the lead states what a document is about and the conclusion what came of
    it, while the most central sentences of a long document tend to sit in its repetitive middle."""
    if not plan.candidates:
        return []
    return list(dict.fromkeys([plan.candidates[0], plan.candidates[-1]]))

