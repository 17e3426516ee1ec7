"""The model's part of a summary: shorten selected sentences (and write an overview) within a time budget, each
rewrite kept only when the verifier finds it supported by the sentence it cites."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from service.pipeline.evidence import evidence_block
from service.pipeline.markers import (
    markers_in,
    strip_markers,
)
from service.pipeline.ports import (
    ChatModel,
    DocumentSource,
    Encoder,
    Locate,
    ProgressCallback,
    Retrieve,
)
from service.pipeline.prompts import render_prompt
from service.pipeline.sentences import split_sentences
from service.pipeline.summaries.plan import (
    MAP_TOKENS_PER_SENTENCE,
    MIN_WORDS,
    Candidate,
    Point,
)
from service.pipeline.terms import words
from service.pipeline.verifier import check_support, verify
from service.schemas import (
    Evidence,
    VerifierDecision,
)

MODEL_CALL_BUDGET_S = 30.0  # one model call; a reply still streaming then is cut (its whole lines are used)
MODEL_RUN_BUDGET_S = 60.0  # the model's share of one summary; past it the summary is extractive (busy CPU)


@dataclass
class SummaryRun:
    """Everything one summary call accumulates: trace decisions, timings and progress reporting."""

    documents: DocumentSource
    retrieve: Retrieve
    encoder: Encoder
    llm: ChatModel | None  # None: extractive only
    context_tokens: int
    top_k: int
    locate: Locate | None
    progress: ProgressCallback | None
    profile: str | None = None
    total_steps: int = 0
    done_steps: int = 0
    decisions: list[VerifierDecision] = field(default_factory=list)
    drafts: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    model_seconds: float = 0.0
    model_wrote: bool = False  # a difference the model phrased was kept (phrased points say so themselves)

    def step(self, label: str) -> None:
        self.done_steps += 1
        if self.progress is not None:
            self.progress(label, min(self.done_steps, self.total_steps), self.total_steps)

    def announce(self, label: str) -> None:
        if self.progress is not None:
            self.progress(label, self.done_steps, self.total_steps)

    def complete(self, stage: str, messages: list[dict[str, str]], max_tokens: int) -> str:
        """The model's reply, streamed and cut at this call's share of the time budget (whole lines are still
        used), or "" once the budget is spent: the summary then goes on extractive. A model that fails raises
        LLMUnavailable (reported like `ask` reports it): only a summary asked for extractive has no model."""
        if self.llm is None or self.model_seconds >= MODEL_RUN_BUDGET_S:
            return ""
        deadline = time.perf_counter() + min(MODEL_CALL_BUDGET_S, MODEL_RUN_BUDGET_S - self.model_seconds)
        started = time.perf_counter()
        parts: list[str] = []
        stream = self.llm.stream(messages, max_tokens=max_tokens)
        try:  # LLMUnavailable propagates: a failed model is reported, never silently replaced
            for delta in stream:
                parts.append(delta)
                if time.perf_counter() > deadline:
                    self.decisions.append(VerifierDecision(
                        sentence="", action="dropped", reason=f"{stage}: model reply cut at the time budget"))
                    parts = ["".join(parts).rpartition("\n")[0]]  # an unfinished line is not a rewrite
                    break
        finally:
            stream.close()
            self.model_seconds += time.perf_counter() - started
            self.timed(stage, started)
        reply = "".join(parts)
        self.drafts.append(reply)
        return reply

    def timed(self, name: str, started: float) -> None:
        self.timings_ms[name] = self.timings_ms.get(name, 0.0) + round((time.perf_counter() - started) * 1000, 1)



# --- the model's part: shorten, then verify -----------------------------------------------------------
def chat_messages(prompt_name: str, **values: str) -> list[dict[str, str]]:
    system, _, user = render_prompt(prompt_name, **values).partition("\n---\n")
    return [{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}]


def parse_numbered_lines(reply: str, numbers: set[int]) -> dict[int, str]:
    """The model's rewrite per evidence number: lines like "[2] text" or "text [2]" (first rewrite wins)."""
    out: dict[int, str] = {}
    for line in reply.splitlines():
        cited = markers_in(line)
        if len(cited) != 1 or cited[0] not in numbers or cited[0] in out:
            continue
        text = strip_markers(line).strip(" -*•:")
        if text:
            out[cited[0]] = text
    return out


def is_supported(sentence: str, cited_texts: list[str], embedder: Encoder) -> bool:
    """The answer pipeline's support check: lexical and embedding support, and every number and name present."""
    return check_support(sentence, cited_texts, embedder).supported


def _acceptable_rewrite(rewrite: str, original: str) -> bool:
    """A rewrite must be a real sentence and no longer than what it shortens."""
    n = len(words(rewrite))
    return MIN_WORDS <= n <= len(words(original)) + 2


def map_group(run: SummaryRun, selected: Sequence[Candidate]) -> list[Point]:
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
        "map_llm", chat_messages("summarize_map", evidence=evidence_block(evidence)),
        max_tokens=min(MAP_TOKENS_PER_SENTENCE * len(evidence) + 20, 400),
    )
    rewrites = parse_numbered_lines(reply, set(by_number))
    draft = "\n".join(
        f"{sentence_body(text)} [{n}]." for n, text in rewrites.items() if _acceptable_rewrite(text, by_number[n].text)
    )
    started = time.perf_counter()
    verified = verify(draft, evidence, run.encoder, must_include=evidence, extractive_count=len(evidence))
    run.timed("verify", started)
    run.decisions.extend(verified.decisions)
    points: list[Point] = []
    for v in verified.sentences:
        cites = [by_number[n] for n in v.cited if n in by_number]
        if cites and all(p.main is not cites[0] for p in points):  # one point per sentence
            text = cites[0].reading if v.extractive and cites[0].reading else v.text
            points.append(Point(text=text, cites=cites, score=cites[0].salience, phrased=not v.extractive))
    return points


def sentence_body(text: str) -> str:
    """A sentence without its final punctuation (markers go before it)."""
    return re.sub(r"[.!?]+['\"”’)]*$", "", " ".join(text.split())).rstrip(" ,;:")


def overview_sentence(run: SummaryRun, points: Sequence[Point]) -> Point | None:
    """The model's one-sentence overview of the best points, if the verifier supports it (as cited or re-attributed)."""
    if not points:
        return None
    top = list(points)[:4]
    evidence = [
        Evidence(number=i, source=p.main.source, start_line=p.main.sentence.start_line,
                 end_line=p.main.sentence.end_line, text=p.main.text)
        for i, p in enumerate(top, start=1)
    ]
    reply = run.complete("reduce_llm", chat_messages("summarize_reduce", evidence=evidence_block(evidence)), max_tokens=80)
    line = next((ln for ln in reply.splitlines() if markers_in(ln) and len(words(ln)) >= MIN_WORDS), "")
    sentences = split_sentences(line)
    if not sentences:
        return None
    sentence = sentences[0].text
    if len(words(sentence)) > max(len(words(p.main.text)) for p in top) + 5:
        return None  # a rambling overview: the extractive lead is better
    verified = verify(sentence, evidence, run.encoder)
    run.decisions.extend(verified.decisions)
    kept = [v for v in verified.sentences if not v.extractive]
    if not kept:
        return None
    cites = [top[n - 1].main for n in kept[0].cited]
    return Point(text=kept[0].text, cites=cites, score=max(c.salience for c in cites), phrased=True)

