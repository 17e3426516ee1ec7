"""Summaries with verified citations: one whole document, the whole corpus, or what the documents say on a topic.

Quality comes from extractive selection, not from the (tiny) model. A document is cut into groups of chunks,
each as much as the model could read in one call (`settings.llm_context_tokens`); per group the most salient
sentences are picked (embedding centrality in the document and the group, lead position; a one-document summary
always keeps the opening and the closing sentence), the model only shortens them, citing their evidence numbers,
and the verifier (service.verifier.verify) keeps a shortened sentence only when its cited sentence supports it —
otherwise the original sentence is used (extractive fallback). Model calls are streamed within a time budget
(MODEL_CALL_BUDGET_S, MODEL_RUN_BUDGET_S): on a busy CPU the summary degrades to extractive instead of waiting. The reduce step picks 3–7 bullets from the groups' points (diverse, beginning and end
covered) and an overview sentence. For the corpus, every document is mapped this way, the overview favours what
documents share, and "Where the sources differ" pairs similar sentences of different documents that differ in
figures, names, polarity or emphasis, citing both sides.

Citation ids are numbered in order of first use across summary, bullets and differences; every quote is a whole
sentence of its document, verbatim, within its lines.
"""

from __future__ import annotations

import math
import queue
import re
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Literal

import numpy as np

from index.records import Chunk
from service.errors import InvalidInput, LLMUnavailable, error_data
from service.evidence import Encoder, embed, rank_evidence
from service.prompts import render_prompt
from service.schemas import Citation, Evidence, StreamEvent, Summary, SummaryTrace, VerifierDecision
from service.sentences import Sentence, split_sentences
from service.terms import content_terms, key_terms, normalize_number, words
from service.verifier import check_support, verify

if TYPE_CHECKING:
    from service.engine import Engine

ProgressCallback = Callable[[str, int, int], None]  # (label, done, total)
Length = Literal["short", "medium", "long"]

BULLETS: dict[str, int] = {"short": 3, "medium": 5, "long": 7}
DIFFERENCES: dict[str, int] = {"short": 2, "medium": 4, "long": 6}

MIN_WORDS = 5  # shorter pieces are headings, bylines or debris, not summary material
MAX_WORDS = 80  # longer "sentences" are usually run-together lists or boilerplate
CHARS_PER_TOKEN = 3.5  # conservative for English with SmolLM2's tokenizer
RESERVED_TOKENS = 700  # the map prompt's instructions plus its reply
MAP_TOKENS_PER_SENTENCE = 45
MODEL_CALL_BUDGET_S = 30.0  # one model call; a reply still streaming then is cut (its whole lines are used)
MODEL_RUN_BUDGET_S = 60.0  # the model's share of one summary; past it the summary is extractive (busy CPU)
FIGURE_BONUS = 0.04  # salience per distinct figure in a sentence (up to three)
MMR_LAMBDA = 0.7  # relevance vs. novelty when picking sentences
FOCUS_MIN_DENSE = 0.30  # a focus candidate must be this similar to the topic, or share its terms
DIFF_MIN_SIMILARITY = 0.5  # two sentences of different documents about the same subject
DIFF_SAME_CLAIM = 0.92
DIFF_MIN_SHARED = 0.08  # idf-weighted share of content terms the two sentences have in common  # above this (and no differing figure or polarity) the two say the same thing
_BOILERPLATE = re.compile(
    r"https?://|www\.|@\w|\bclick\b|\bsubscribe\b|\bnewsletter\b|all rights reserved|copyright|\bcookies?\b"
    r"|\bsign up\b|\bjavascript\b|\bbrowser\b|\bphoto:|\bimage:|\bfile photo\b|\bread more\b|\badvertisement\b",
    re.IGNORECASE,
)
# Letter, form and minutes furniture: who wrote, who was there, who signed — context, not what a document says.
_FORM_LINE = re.compile(
    r"^(?:(?:from|to|cc|re|subject|date|signed|present|staff present|absent|attendees|prepared by|inspected by"
    r"|approved by)\s*:|dear\b|sincerely\b|(?:kind |best )?regards\b|(?:minutes )?(?:recorded|taken) by\b)",
    re.IGNORECASE,
)
_LOWER_WORD = re.compile(r"\b(?!(?:of|and|the|for|at|in|de|van|von)\b)[a-z][a-z'’-]*\b")
_NEGATION = re.compile(r"\b(?:not|no|never|none|neither|nor|without|refrain(?:ed|s)?|n't)\b|n't\b", re.IGNORECASE)
_TERMINAL = re.compile(r"[.!?]['\"”’)]*$")
_MARKER = re.compile(r"\[(\d+)\]")


# --- data ------------------------------------------------------------------------------------------
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

    @property
    def text(self) -> str:
        return self.sentence.text

    @property
    def key(self) -> tuple[str, int, int, str]:
        return (self.source, self.sentence.start_line, self.sentence.end_line, self.sentence.text)


@dataclass(eq=False)
class Point:
    """One verified summary sentence: its wording and the candidate sentences that support it."""

    text: str
    cites: list[Candidate]
    score: float
    phrased: bool  # the model's shortened wording (verified), not the original sentence

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


@dataclass
class Difference:
    a: Candidate
    b: Candidate
    kind: Literal["figures", "polarity", "names", "emphasis"]
    score: float


@dataclass
class _Run:
    """Everything one summary call accumulates: trace decisions, timings and progress reporting."""

    engine: "Engine"
    progress: ProgressCallback | None
    total_steps: int = 0
    done_steps: int = 0
    decisions: list[VerifierDecision] = field(default_factory=list)
    drafts: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    use_model: bool = True
    llm_failed: bool = False
    model_seconds: float = 0.0

    def step(self, label: str) -> None:
        self.done_steps += 1
        if self.progress is not None:
            self.progress(label, min(self.done_steps, self.total_steps), self.total_steps)

    def announce(self, label: str) -> None:
        if self.progress is not None:
            self.progress(label, self.done_steps, self.total_steps)

    def complete(self, stage: str, messages: list[dict[str, str]], max_tokens: int) -> str:
        """The model's reply, streamed and cut at this call's share of the time budget (whole lines are still
        used), or "" once the budget is spent or the model failed: the summary then degrades to extractive."""
        if self.llm_failed or not self.use_model or self.model_seconds >= MODEL_RUN_BUDGET_S:
            return ""
        deadline = time.perf_counter() + min(MODEL_CALL_BUDGET_S, MODEL_RUN_BUDGET_S - self.model_seconds)
        started = time.perf_counter()
        parts: list[str] = []
        stream = self.engine.llm.stream(messages, max_tokens=max_tokens)
        try:
            for delta in stream:
                parts.append(delta)
                if time.perf_counter() > deadline:
                    self.decisions.append(VerifierDecision(
                        sentence="", action="dropped", reason=f"{stage}: model reply cut at the time budget"))
                    parts = ["".join(parts).rpartition("\n")[0]]  # an unfinished line is not a rewrite
                    break
        except LLMUnavailable as exc:
            self.llm_failed = True
            self.decisions.append(VerifierDecision(sentence="", action="extractive", reason=f"model failed: {exc}"))
        finally:
            stream.close()
            self.model_seconds += time.perf_counter() - started
            self.timed(stage, started)
        reply = "".join(parts)
        self.drafts.append(reply)
        return reply

    def timed(self, name: str, started: float) -> None:
        self.timings_ms[name] = self.timings_ms.get(name, 0.0) + round((time.perf_counter() - started) * 1000, 1)


# --- candidates and groups ----------------------------------------------------------------------------
def is_summary_material(text: str) -> bool:
    """A whole, content-bearing sentence: not a heading, byline, link or cookie notice."""
    n = len(words(text))
    text = text.strip()
    if n < MIN_WORDS or n > MAX_WORDS or _BOILERPLATE.search(text) or _FORM_LINE.search(text):
        return False
    if not _LOWER_WORD.search(text):  # "Colin Brennan, Project Superintendent, Brennan & Holt." — a signature
        return False
    # headlines and list fragments (no full stop) and questions (a FAQ's answers are its claims) are not claims
    return bool(_TERMINAL.search(text)) and not text.rstrip("\"'”’)").endswith("?")


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


def _unit(vectors: np.ndarray) -> np.ndarray:
    centroid = vectors.mean(axis=0)
    return centroid / max(float(np.linalg.norm(centroid)), 1e-12)


def plan_document(engine: "Engine", source: str) -> DocumentPlan:
    """Split a document into candidate sentences, group its chunks, and score each sentence's salience."""
    corpus = engine.corpus
    chunks = corpus.chunks_for(source)  # UnknownSource for an unknown document
    text = corpus.text(source)
    starts = [c.start_char for c in chunks]
    sentences = split_sentences(text)
    material = [s for s in sentences if is_summary_material(s.text)]
    if not material:  # a document without sentence punctuation (notes, lists): its longer lines will do
        material = [s for s in sentences if MIN_WORDS <= len(words(s.text)) <= MAX_WORDS]
    candidates = [
        Candidate(source=source, sentence=s, position=0, chunk=max(bisect_right(starts, s.start_char) - 1, 0))
        for s in material
    ]
    for i, c in enumerate(candidates):
        c.position = i
    groups = plan_groups(chunks, group_budget_chars(engine.settings.llm_context_tokens)) if chunks else [[0]]
    group_of = {chunk: g for g, members in enumerate(groups) for chunk in members}
    for c in candidates:
        c.group = group_of.get(c.chunk, 0)
    if candidates:
        vectors = embed(corpus.embedder, [c.text for c in candidates])
        doc_centroid = _unit(vectors)
        group_centroids = {
            g: _unit(vectors[[i for i, c in enumerate(candidates) if c.group == g]])
            for g in {c.group for c in candidates}
        }
        for c, v in zip(candidates, vectors):
            c.vector = v
            lead = 0.15 * math.exp(-c.position / 2.0)  # news and reports put the gist first
            n = len(words(c.text))
            shape = 0.0 if 10 <= n <= 45 else -0.05
            specific = FIGURE_BONUS * min(3, len(_numbers(c.text)))  # amounts, dates, votes: the facts people ask for
            c.salience = (
                0.55 * float(v @ doc_centroid) + 0.3 * float(v @ group_centroids[c.group]) + lead + shape + specific
            )
    return DocumentPlan(source=source, chunks=chunks, candidates=candidates, groups=groups)


def select_diverse(
    candidates: Sequence[Candidate], k: int, score: Callable[[Candidate], float], must: Sequence[Candidate] = ()
) -> list[Candidate]:
    """Maximal marginal relevance: high-scoring sentences that do not repeat each other (`must` come first)."""
    chosen: list[Candidate] = []
    for c in must:
        if c not in chosen and len(chosen) < k:
            chosen.append(c)
    pool = [c for c in candidates if c not in chosen]
    while pool and len(chosen) < k:
        def mmr(c: Candidate) -> float:
            redundancy = max((float(c.vector @ s.vector) for s in chosen), default=0.0)
            return MMR_LAMBDA * score(c) - (1 - MMR_LAMBDA) * redundancy

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


# --- the model's part: shorten, then verify -----------------------------------------------------------
def _messages(prompt_name: str, **values: str) -> list[dict[str, str]]:
    system, _, user = render_prompt(prompt_name, **values).partition("\n---\n")
    return [{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}]


def evidence_block(evidence: Sequence[Evidence]) -> str:
    return "\n".join(f"[{e.number}] {' '.join(e.text.split())}" for e in evidence)


def parse_numbered_lines(reply: str, numbers: set[int]) -> dict[int, str]:
    """The model's rewrite per evidence number: lines like "[2] text" or "text [2]" (first rewrite wins)."""
    out: dict[int, str] = {}
    for line in reply.splitlines():
        cited = [int(n) for n in _MARKER.findall(line)]
        if len(set(cited)) != 1 or cited[0] not in numbers or cited[0] in out:
            continue
        text = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(_MARKER.sub(" ", line).split())).strip(" -*•:")
        if text:
            out[cited[0]] = text
    return out


def _supported(sentence: str, cited_texts: list[str], embedder: Encoder) -> bool:
    """The answer pipeline's support check: lexical and embedding support, and every number and name present."""
    return check_support(sentence, cited_texts, embedder).supported


def _acceptable_rewrite(rewrite: str, original: str) -> bool:
    """A rewrite must be a real sentence and no longer than what it shortens."""
    n = len(words(rewrite))
    return MIN_WORDS <= n <= len(words(original)) + 2


def map_group(run: _Run, selected: Sequence[Candidate]) -> list[Point]:
    """Ask the model to shorten the selected sentences; the verifier keeps supported rewrites, quotes the rest."""
    if not selected:
        return []
    ordered = sorted(selected, key=lambda c: (c.source, c.position))
    evidence = [
        Evidence(number=i, source=c.source, start_line=c.sentence.start_line, end_line=c.sentence.end_line, text=c.text)
        for i, c in enumerate(ordered, start=1)
    ]
    by_number = dict(zip((e.number for e in evidence), ordered))
    reply = run.complete(
        "map_llm", _messages("summarize_map", evidence=evidence_block(evidence)),
        max_tokens=min(MAP_TOKENS_PER_SENTENCE * len(evidence) + 20, 400),
    )
    rewrites = parse_numbered_lines(reply, set(by_number))
    draft = "\n".join(
        f"{_sentence_body(text)} [{n}]." for n, text in rewrites.items() if _acceptable_rewrite(text, by_number[n].text)
    )
    started = time.perf_counter()
    verified = verify(draft, evidence, run.engine.corpus.embedder, must_include=evidence, extractive_count=len(evidence))
    run.timed("verify", started)
    run.decisions.extend(verified.decisions)
    points: list[Point] = []
    for v in verified.sentences:
        cites = [by_number[n] for n in v.cited if n in by_number]
        if cites and all(p.main is not cites[0] for p in points):  # one point per sentence
            points.append(Point(text=v.text, cites=cites, score=cites[0].salience, phrased=not v.extractive))
    return points


def _sentence_body(text: str) -> str:
    """A sentence without its final punctuation (markers go before it)."""
    return re.sub(r"[.!?]+['\"”’)]*$", "", " ".join(text.split())).rstrip(" ,;:")


def overview_sentence(run: _Run, points: Sequence[Point]) -> Point | None:
    """The model's one-sentence overview of the best points, if the verifier supports it (as cited or re-attributed)."""
    if not points:
        return None
    top = list(points)[:4]
    evidence = [
        Evidence(number=i, source=p.main.source, start_line=p.main.sentence.start_line,
                 end_line=p.main.sentence.end_line, text=p.main.text)
        for i, p in enumerate(top, start=1)
    ]
    reply = run.complete("reduce_llm", _messages("summarize_reduce", evidence=evidence_block(evidence)), max_tokens=80)
    line = next((ln for ln in reply.splitlines() if _MARKER.search(ln) and len(words(ln)) >= MIN_WORDS), "")
    sentences = split_sentences(line)
    if not sentences:
        return None
    sentence = sentences[0].text
    if len(words(sentence)) > max(len(words(p.main.text)) for p in top) + 5:
        return None  # a rambling overview: the extractive lead is better
    verified = verify(sentence, evidence, run.engine.corpus.embedder)
    run.decisions.extend(verified.decisions)
    kept = [v for v in verified.sentences if not v.extractive]
    if not kept:
        return None
    cites = [top[n - 1].main for n in kept[0].cited]
    return Point(text=kept[0].text, cites=cites, score=max(c.salience for c in cites), phrased=True)


# --- differences between documents --------------------------------------------------------------------
def _numbers(text: str) -> set[str]:
    return {normalize_number(t) for t in words(text) if t[0].isdigit()}


def _names(text: str) -> set[str]:
    return {k.lower() for k in key_terms(text) if not k[0].isdigit()}


def classify_difference(a: str, b: str, similarity: float) -> str | None:
    """How two similar sentences of different documents differ, or None when they say the same thing."""
    nums_a, nums_b = _numbers(a), _numbers(b)
    if nums_a and nums_b and nums_a != nums_b:
        return "figures"
    if bool(_NEGATION.search(a)) != bool(_NEGATION.search(b)):
        return "polarity"
    terms_a, terms_b = content_terms(a), content_terms(b)
    if similarity >= DIFF_SAME_CLAIM or len(terms_a - terms_b) < 3 or len(terms_b - terms_a) < 3:
        return None
    names_a, names_b = _names(a), _names(b)
    if names_a and names_b and names_a != names_b and not (names_a & names_b):
        return "names"
    return "emphasis"


_KIND_BONUS = {"figures": 0.3, "polarity": 0.2, "names": 0.1, "emphasis": 0.0}


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
    that differ in figures, polarity, names or emphasis, best first, each subject once."""
    idf = _idf([c.text for cs in docs.values() for c in cs])
    found: list[Difference] = []
    for (sa, ca), (sb, cb) in combinations(docs.items(), 2):
        if not ca or not cb:
            continue
        sims = np.stack([c.vector for c in ca]) @ np.stack([c.vector for c in cb]).T
        for i, j in zip(*np.nonzero(sims >= DIFF_MIN_SIMILARITY)):
            a, b, sim = ca[i], cb[j], float(sims[i, j])
            kind = classify_difference(a.text, b.text, sim)
            if kind is None:
                continue
            subject = shared_subject(a.text, b.text, idf)
            if subject < DIFF_MIN_SHARED:
                continue
            score = sim + subject + _KIND_BONUS[kind] + 0.5 * (a.salience + b.salience)
            found.append(Difference(a=a, b=b, kind=kind, score=score))  # type: ignore[arg-type]
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
    tokens = _sentence_body(text).split(" ")
    clipped = " ".join(tokens[:max_words])
    return clipped + (" …" if len(tokens) > max_words else "")


def difference_text(d: Difference, marker_a: str, marker_b: str) -> str:
    """A difference quoting each side verbatim, so each side is supported by its citation (which names its source;
    file names stay out of the sentence, where their digits would read as unsupported figures)."""
    lead = "The figures differ: one" if d.kind == "figures" else "One"
    return f"{lead} source says “{_clip(d.a.text)}” {marker_a}, while another says “{_clip(d.b.text)}” {marker_b}."


def phrase_difference(run: _Run, d: Difference) -> str | None:
    """The model's one-sentence contrast, kept only if it cites both sides and each side supports it."""
    reply = run.complete(
        "differences_llm",
        _messages("summarize_differences", text_a=d.a.text, text_b=d.b.text),
        max_tokens=70,
    )
    line = next((ln for ln in reply.splitlines() if ln.strip()), "")
    if set(_MARKER.findall(line)) != {"1", "2"} or len(words(line)) > 60:
        return None
    parts = re.split(r"(?<=\[1\])", line, maxsplit=1) if line.find("[1]") < line.find("[2]") else []
    if len(parts) != 2:
        return None
    embedder = run.engine.corpus.embedder
    side_a = _MARKER.sub("", parts[0]).strip()
    side_b = _MARKER.sub("", parts[1]).strip(" ,;.")
    ok_a = _supported(side_a, [d.a.text], embedder)
    ok_b = _supported(side_b, [d.b.text], embedder)
    run.decisions.append(
        VerifierDecision(sentence=line, action="kept" if ok_a and ok_b else "dropped", cited=[1, 2],
                         reason="" if ok_a and ok_b else "a side of the contrast is not supported by its citation")
    )
    return line if ok_a and ok_b else None


# --- citations -----------------------------------------------------------------------------------------
class CitationBook:
    """Citation ids in order of first use, shared by the summary, the bullets and the differences."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, int, int, str], int] = {}
        self.citations: list[Citation] = []

    def marker(self, c: Candidate) -> str:
        if c.key not in self._ids:
            self._ids[c.key] = len(self.citations) + 1
            self.citations.append(
                Citation(id=self._ids[c.key], source=c.source, start_line=c.sentence.start_line,
                         end_line=c.sentence.end_line, quote=c.text)
            )
        return f"[{self._ids[c.key]}]"

    def render(self, point: Point) -> str:
        """The point's sentence with its markers before the final punctuation: "… mines [1][2]."."""
        text = " ".join(point.text.split())
        match = re.search(r"[.!?]+['\"”’)]*$", text)
        end = match.group(0) if match else "."
        body = text[: match.start()] if match else text
        markers = "".join(dict.fromkeys(self.marker(c) for c in point.cites))
        return f"{body.rstrip(' ,;:')} {markers}{end}"


# --- the pipelines ---------------------------------------------------------------------------------------
def _length(length: str) -> str:
    if length not in BULLETS:
        raise InvalidInput(f"unknown length {length!r}: use short, medium or long")
    return length


def _map_document(run: _Run, plan: DocumentPlan, per_group: int, label: str, ends: bool = True) -> list[Point]:
    """Map step over one document: per group, the salient sentences, shortened. `ends`: both the opening and the
    closing sentence are among them (a one-document summary); otherwise the opening only (a corpus summary,
    where a closing line is rarely what several documents share)."""
    edges = edge_candidates(plan) if ends else plan.candidates[:1]
    points: list[Point] = []
    for g in range(len(plan.groups)):
        members = [c for c in plan.candidates if c.group == g]
        if members:
            must = [e for e in edges if e.group == g]
            started = time.perf_counter()
            selected = select_diverse(members, per_group, lambda c: c.salience, must=must)
            run.timed("select", started)
            points.extend(map_group(run, selected))
        run.step(label)
    return points


def _pick_bullets(points: Sequence[Point], n: int, must: Sequence[Point] = (), cover_sources: bool = False) -> list[Point]:
    """n diverse points: the required ones, then (for a corpus) each document's best, then by MMR."""
    by_candidate = {id(p.main): p for p in points}
    required = list(dict.fromkeys(must))
    if cover_sources:
        best_per_source: dict[str, Point] = {}
        for p in sorted(points, key=lambda p: p.score, reverse=True):
            best_per_source.setdefault(p.main.source, p)
        required += sorted(best_per_source.values(), key=lambda p: p.score, reverse=True)
    chosen = select_diverse(
        [p.main for p in points], n, lambda c: by_candidate[id(c)].score,
        must=list(dict.fromkeys(p.main for p in required)),
    )
    return [by_candidate[id(c)] for c in chosen]


def _in_reading_order(points: Sequence[Point], source_order: dict[str, int]) -> list[Point]:
    return sorted(points, key=lambda p: (source_order.get(p.main.source, 0), p.main.position))


def _add_consensus(points: Sequence[Point], others: Sequence[Candidate], embedder: Encoder, limit: int = 2) -> None:
    """Cite other documents' sentences that say the same thing as a point (checked like any citation)."""
    for p in points:
        close = sorted(
            (c for c in others if c.source not in {x.source for x in p.cites} and float(c.vector @ p.main.vector) >= 0.8),
            key=lambda c: float(c.vector @ p.main.vector), reverse=True,
        )
        for c in close[:limit]:
            if c.source in {x.source for x in p.cites}:
                continue
            if _supported(p.text, [c.text], embedder):
                p.cites.append(c)


def _finish(
    run: _Run, book: CitationBook, overview: list[Point], bullets: list[Point], differences: list[str],
    *, source: str | None, focus: str | None, started: float, groups: dict[str, int],
) -> Summary:
    run.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 1)
    text = " ".join(book.render(p) for p in overview)
    if not overview and not bullets:
        text = f"There is nothing to summarize: {f'{source} has' if source else 'the documents have'} no sentences."
    return Summary(
        summary=text,
        bullets=[book.render(p) for p in bullets],
        differences=differences,
        citations=[c.model_copy(update=run.engine.corpus.locate(c.source, c.start_line, c.end_line).fields())
                   for c in book.citations],
        source=source,
        focus=focus,
        model=run.engine.llm.model_name if run.engine._llm is not None else None,
        timings_ms=run.timings_ms,
        trace=SummaryTrace(groups=groups, decisions=run.decisions, drafts=run.drafts),
    )


def _render_order(book: CitationBook, overview: list[Point], bullets: list[Point]) -> None:
    """Assign citation ids in reading order (summary first, then bullets) before differences add theirs."""
    for p in [*overview, *bullets]:
        book.render(p)


def summarize_document(run: _Run, source: str, length: str, started: float) -> Summary:
    """One document, all of it: map over its chunk groups, reduce to an overview and 3–7 bullets."""
    t = time.perf_counter()
    plan = plan_document(run.engine, source)
    run.timed("plan", t)
    n = BULLETS[length]
    run.total_steps = len(plan.groups) + 1
    per_group = max(2, min(6, math.ceil(1.6 * (n + 1) / len(plan.groups))))
    points = _map_document(run, plan, per_group, f"summarizing {source}")
    ranked = sorted(points, key=lambda p: p.score, reverse=True)
    edges = {id(e) for e in edge_candidates(plan)}
    edge_points = [p for p in points if id(p.main) in edges]
    run.announce("combining")
    t = time.perf_counter()
    overview = overview_sentence(run, ranked)
    rest = [p for p in points if overview is None or p.main not in overview.cites]
    if overview is None and ranked:
        overview = ranked[0]  # extractive fallback: the most salient sentence
        rest = [p for p in points if p is not overview]
    bullets = _pick_bullets(rest, n, must=[p for p in edge_points if p in rest])
    run.timed("reduce", t)
    run.step("combining")
    book = CitationBook()
    overview_points = [overview] if overview else []
    bullets = _in_reading_order(bullets, {source: 0})
    _render_order(book, overview_points, bullets)
    return _finish(run, book, overview_points, bullets, [], source=source, focus=None, started=started,
                   groups={source: len(plan.groups)})


def _differences(run: _Run, book: CitationBook, docs: dict[str, list[Candidate]], length: str) -> list[str]:
    t = time.perf_counter()
    found = find_differences(docs, DIFFERENCES[length])
    run.timed("differences", t)
    texts = []
    for d in found:
        phrased = phrase_difference(run, d)
        ma, mb = book.marker(d.a), book.marker(d.b)
        if phrased is not None:
            texts.append(phrased.replace("[1]", "\x00A").replace("[2]", "\x00B").replace("\x00A", ma).replace("\x00B", mb))
        else:
            texts.append(difference_text(d, ma, mb))
    return texts


def summarize_corpus(run: _Run, length: str, started: float) -> Summary:
    """Every document mapped, reduced into an overview and bullets that cite every document, then differences."""
    sources = [d.source for d in run.engine.corpus.list_documents()]
    if not sources:
        raise InvalidInput("no documents ingested yet: run `citewise ingest PATH` first")
    t = time.perf_counter()
    plans = [plan_document(run.engine, s) for s in sources]
    run.timed("plan", t)
    n = BULLETS[length]
    run.total_steps = sum(len(p.groups) for p in plans) + 2
    per_doc = max(2, min(5, math.ceil(1.6 * (n + 1) / len(plans))))
    all_candidates = [c for p in plans for c in p.candidates]
    corpus_centroid = _unit(np.stack([c.vector for c in all_candidates])) if all_candidates else None
    points: list[Point] = []
    for plan in plans:
        per_group = max(2, math.ceil(per_doc / len(plan.groups)))
        for p in _map_document(run, plan, per_group, f"summarizing {plan.source}", ends=False):
            if corpus_centroid is not None:
                p.score += 0.3 * float(p.main.vector @ corpus_centroid)  # what several documents share
            points.append(p)
    run.announce("combining")
    t = time.perf_counter()
    ranked = sorted(points, key=lambda p: p.score, reverse=True)
    overview = overview_sentence(run, ranked)
    if overview is None and ranked:
        overview = ranked[0]
    rest = [p for p in points if overview is None or p.main not in overview.cites]
    bullets = _pick_bullets(rest, n, cover_sources=True)
    order = {s: i for i, s in enumerate(sources)}
    bullets = _in_reading_order(bullets, order)
    overview_points = [overview] if overview else []
    _add_consensus([*overview_points, *bullets], all_candidates, run.engine.corpus.embedder)
    # Documents no bullet reached (more documents than bullets): their best point joins the overview.
    covered = {c.source for p in [*overview_points, *bullets] for c in p.cites}
    for plan in plans:
        if plan.source not in covered:
            best = max((p for p in points if p.main.source == plan.source), key=lambda p: p.score, default=None)
            if best is not None:
                overview_points.append(best)
    run.timed("reduce", t)
    run.step("combining")
    book = CitationBook()
    _render_order(book, overview_points, bullets)
    run.announce("finding differences")
    differences = _differences(run, book, {p.source: p.candidates for p in plans}, length)
    run.step("finding differences")
    return _finish(run, book, overview_points, bullets, differences, source=None, focus=None, started=started,
                   groups={p.source: len(p.groups) for p in plans})


def _focus_candidates(run: _Run, focus: str, source: str | None) -> dict[str, list[Candidate]]:
    """On-topic sentences per document: retrieval, then sentence ranking by the topic (dense + its terms)."""
    from service.retrieval import HybridRetriever, hits_from_documents

    corpus = run.engine.corpus
    if source is not None:
        corpus.chunks_for(source)  # UnknownSource before any work
    k = max(run.engine.settings.top_k * 3, 24)
    t = time.perf_counter()
    hits = hits_from_documents(HybridRetriever(corpus=corpus, k=k).invoke(focus))
    if source is not None:
        hits = [h for h in hits if h.source == source]
    ranked = rank_evidence(focus, hits, corpus.embedder, text_of=corpus.text)
    run.timed("retrieve", t)
    on_topic = [e for e in ranked if (e.dense >= FOCUS_MIN_DENSE or e.lexical > 0) and is_summary_material(e.text)]
    by_source: dict[str, list[Candidate]] = {}
    if not on_topic:
        return by_source
    vectors = embed(corpus.embedder, [e.text for e in on_topic])
    for e, v in zip(on_topic, vectors):
        sentence = Sentence(text=e.text, start_char=0, end_char=len(e.text), start_line=e.start_line, end_line=e.end_line)
        c = Candidate(source=e.source, sentence=sentence, position=e.start_line, chunk=0, vector=v, salience=e.score)
        by_source.setdefault(e.source, []).append(c)
    return by_source


def summarize_focus(run: _Run, focus: str, source: str | None, length: str, started: float) -> Summary:
    """Only what the documents (or one document) say about `focus`: retrieved, ranked by the topic, mapped."""
    docs = _focus_candidates(run, focus, source)
    n = BULLETS[length]
    if not docs:
        where = source or "the documents"
        return Summary(summary=f"{where[0].upper()}{where[1:]} don't say anything about {focus}." if source is None
                       else f"{source} doesn't say anything about {focus}.",
                       bullets=[], differences=[], citations=[], source=source, focus=focus,
                       timings_ms={"total": round((time.perf_counter() - started) * 1000, 1)})
    run.total_steps = len(docs) + (2 if source is None and len(docs) > 1 else 1)
    points: list[Point] = []
    for src, candidates in docs.items():
        selected = select_diverse(candidates, max(2, min(6, n + 1)), lambda c: c.salience)
        points.extend(map_group(run, selected))
        run.step(f"summarizing {src}")
    ranked = sorted(points, key=lambda p: p.score, reverse=True)
    overview = ranked[0]  # the most on-topic sentence leads
    bullets = _pick_bullets([p for p in points if p is not overview], n, cover_sources=source is None)
    order = {s: i for i, s in enumerate(docs)}
    bullets = _in_reading_order(bullets, order)
    run.step("combining")
    book = CitationBook()
    _render_order(book, [overview], bullets)
    differences: list[str] = []
    if source is None and len(docs) > 1:
        differences = _differences(run, book, docs, length)
        run.step("finding differences")
    return _finish(run, book, [overview], bullets, differences, source=source, focus=focus, started=started,
                   groups={s: 1 for s in docs})


def summarize(
    engine: "Engine",
    source: str | None = None,
    focus: str | None = None,
    length: str = "medium",
    progress: ProgressCallback | None = None,
    use_model: bool = True,
) -> Summary:
    """A cited summary of one document (`source`), of the corpus, or of what they say about `focus`.

    `use_model=False` skips the model's rewording (purely extractive; what a failing model degrades to).
    """
    started = time.perf_counter()
    length = _length(length)
    focus = (focus or "").strip() or None
    run = _Run(engine=engine, progress=progress, use_model=use_model)
    if focus is not None:
        return summarize_focus(run, focus, source, length, started)
    if source is not None:
        return summarize_document(run, source, length, started)
    return summarize_corpus(run, length, started)


def summarize_stream(
    engine: "Engine", source: str | None = None, focus: str | None = None, length: str = "medium"
) -> Iterator[StreamEvent]:
    """The same summary as events: "progress" per map step, then "summary" (or "error"), then "done"."""
    events: queue.Queue[StreamEvent | None] = queue.Queue()

    def report(label: str, done: int, total: int) -> None:
        events.put(StreamEvent(event="progress", data={"label": label, "done": done, "total": total}))

    def work() -> None:
        try:
            events.put(StreamEvent(event="summary", data=summarize(engine, source, focus, length, progress=report)))
        except Exception as exc:  # the stream must end with an event, not a dropped connection
            events.put(StreamEvent(event="error", data=error_data(exc)))
        finally:
            events.put(None)

    threading.Thread(target=work, name="citewise-summarize", daemon=True).start()
    while (event := events.get()) is not None:
        yield event
    yield StreamEvent(event="done")
