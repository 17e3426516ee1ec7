"""The model's part of a summary (capable profiles): the overview and the bullets written from the selected
sentences within a time budget, each sentence kept only when the verifier finds it supported by what it cites
(semantic paraphrase, the model as judge where the cheap checks cannot settle); the rest is quoted."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from service.pipeline.evidence import evidence_block
from service.pipeline.markers import (
    markers_in,
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
from service.pipeline.sentences import split_sentences, subjects_of
from service.pipeline.summaries.plan import (
    MIN_WORDS,
    Candidate,
    Point,
)
from service.pipeline.support_judge import model_judge
from service.pipeline.terms import words
from service.pipeline.verifier import DraftVerifier, Judge, check_support, draft_sentences, verify, word_overlap
from service.schemas import (
    Evidence,
    VerifierDecision,
)

MODEL_CALL_BUDGET_S = 30.0  # one model call; a reply still streaming then is cut (its whole lines are used)
BULLET_TOKENS = 60  # the reply's length per bullet asked for (one or two sentences)
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
    judge: Judge | None = None  # the model deciding sentences the cheap checks cannot settle (capable profiles)
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

    def complete(
        self, stage: str, messages: list[dict[str, str]], max_tokens: int, budget_s: float = MODEL_CALL_BUDGET_S
    ) -> str:
        """The model's reply, streamed and cut at this call's share of the time budget (whole lines are still
        used), or "" once the budget is spent: the summary then goes on extractive. A model that fails raises
        LLMUnavailable (reported like `ask` reports it): only a summary asked for extractive has no model."""
        if self.llm is None or self.model_seconds >= MODEL_RUN_BUDGET_S:
            return ""
        deadline = time.perf_counter() + min(budget_s, MODEL_RUN_BUDGET_S - self.model_seconds)
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

    def timed_judge(self, llm: ChatModel) -> Judge:
        """The model as judge (service.pipeline.support_judge), its time counted in the model's share."""
        judge = model_judge(llm)

        def timed(statement: str, evidence: str) -> bool | None:
            started = time.perf_counter()
            try:
                return judge(statement, evidence)
            finally:
                self.model_seconds += time.perf_counter() - started
                self.timed("judge_llm", started)

        return timed

    def timed(self, name: str, started: float) -> None:
        self.timings_ms[name] = self.timings_ms.get(name, 0.0) + round((time.perf_counter() - started) * 1000, 1)



# --- the model's part: shorten, then verify -----------------------------------------------------------
def chat_messages(prompt_name: str, **values: str) -> list[dict[str, str]]:
    system, _, user = render_prompt(prompt_name, **values).partition("\n---\n")
    return [{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}]


def is_supported(sentence: str, cited_texts: list[str], embedder: Encoder) -> bool:
    """The answer pipeline's support check: lexical and embedding support, and every number and name present."""
    return check_support(sentence, cited_texts, embedder).supported


def points_of(selected: Sequence[Candidate]) -> list[Point]:
    """The selected sentences as summary points, quoted (a table row read with its header)."""
    return [Point(text=c.reading or c.text, cites=[c], score=c.salience, phrased=False) for c in selected]


# A summary sentence restates its sources; one that keeps fewer of its content words from them than this is more
# often a framing they do not have ("the company has implemented a new strategy to …"). The answer verifier's
# paraphrase bar (0.5) let 4 such sentences through on Multi-News 0–29 (lexical 0.50–0.67, all semantic ≥ 0.64).
SUMMARY_LEXICAL_MIN = 0.7


_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def compose_bullets(run: SummaryRun, points: Sequence[Point], n: int, what: str) -> list[Point]:
    """The capable model's bullets: it rewrites the chosen points (their sentences and the other documents'
    sentences that say the same) as at most `n` bullets in its own words, joining what belongs together. Each
    sentence of a bullet is verified like an answer sentence (semantic paraphrase, the judge for what the cheap
    checks cannot settle); a sentence that fails is dropped, a bullet left empty is dropped, and a chosen point
    no kept sentence cites comes back quoted — nothing selected is lost to the model."""
    sentences = list(dict.fromkeys(c for p in points for c in p.cites))
    if run.llm is None or not sentences:
        return list(points)
    evidence = [
        Evidence(number=i, source=c.source, start_line=c.sentence.start_line, end_line=c.sentence.end_line, text=c.text)
        for i, c in enumerate(sentences, start=1)
    ]
    by_number = dict(zip((e.number for e in evidence), sentences))
    reply = run.complete(
        "bullets_llm", chat_messages("summarize_bullets", evidence=evidence_block(evidence), n=str(n), what=what),
        max_tokens=BULLET_TOKENS * n + 20, budget_s=MODEL_RUN_BUDGET_S,  # the summary's main text: the rest of the budget
    )
    lines = [ln for ln in reply.splitlines() if _BULLET.match(ln)][:n]  # uncited: the verifier finds the support
    verifier = DraftVerifier(evidence, run.encoder, paraphrase="semantic", judge=run.judge,  # the reply is complete
                             subjects=subjects_of({e.source for e in evidence}, run.documents.text))  # fmt: skip
    composed: list[Point] = []
    started = time.perf_counter()
    for line in lines:
        parts: list[tuple[str, list[Candidate]]] = []
        for piece in draft_sentences(_BULLET.sub("", line)):
            verdict = verifier.judge(piece)  # kept or re-attributed, never a quote (quotes come from `finish`)
            if verdict is None:
                continue
            cites = [by_number[k] for k in verdict.cited]
            if word_overlap(verdict.text, " ".join(c.text for c in cites)) < SUMMARY_LEXICAL_MIN:
                verifier.decisions.append(VerifierDecision(
                    sentence=verdict.text, action="dropped", cited=verdict.cited,
                    reason=f"a summary sentence keeps under {SUMMARY_LEXICAL_MIN:.0%} of its words from what it cites"))
                continue
            parts.append((verdict.text, cites))
        if parts:
            cites = list(dict.fromkeys(c for _, cs in parts for c in cs))
            composed.append(Point(text=" ".join(t for t, _ in parts), cites=cites,
                                  score=max(c.salience for c in cites), phrased=True, parts=parts))
    run.timed("verify", started)
    run.decisions.extend(verifier.decisions)
    cited = {id(c) for p in composed for c in p.cites}
    return composed + [p for p in points if id(p.main) not in cited]


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

