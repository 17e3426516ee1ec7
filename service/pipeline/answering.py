"""The answer pipeline: condense → retrieve → evidence → generate → verify → answer JSON.

`answer_question` and `answer_question_stream` share every step but generation (whole reply vs. streamed
deltas), so they cannot drift apart. The model's job is kept small — phrase an answer from a few numbered
evidence sentences — and the verifier decides what survives; the best evidence is always part of the answer,
so a weak model degrades to a shorter, quoted answer, never to a wrong one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache

from service.errors import InvalidInput, error_data
from service.pipeline.bridging import linking_sentence, second_hop
from service.pipeline.citations import CitationBook, located
from service.pipeline.contradictions import (
    DIFF_MIN_SHARED,
    DIFF_MIN_SIMILARITY,
    classify_difference,
    idf_weights,
    shared_subject,
)
from service.pipeline.evidence import (
    FULL_DATE,
    MIN_WORDS,
    RankedEvidence,
    answer_type_bonus,
    asked_type,
    asks_date,
    best_for_parts,
    embed,
    evidence_block,
    holds_date,
    question_parts,
    select_evidence,
    term_weights,
)
from service.pipeline.markers import escape_markers, with_markers
from service.pipeline.passages import Passage, build_passages, narrow
from service.pipeline.ports import ChatModel, Encoder, Locate, Retrieve, TextOf
from service.pipeline.prompts import render_messages, render_prompt
from service.pipeline.routing import Route, route_question
from service.pipeline.sentences import Sentence, is_heading, split_sentences, subjects_of
from service.pipeline.support_judge import model_answer_check, model_judge
from service.pipeline.terms import (
    STOPWORDS,
    comparable_words,
    content_terms,
    key_terms,
    unmentioned_names,
    words,
)
from service.pipeline.verifier import (
    DraftSplitter,
    DraftVerifier,
    VerifiedSentence,
    addresses_question,
    unanswered_after_fallback,
)
from service.profiles import PROFILES, ModelProfile
from service.schemas import (
    Answer,
    ChatMessage,
    Evidence,
    SearchHit,
    StreamEvent,
    Suggestion,
    Summary,
    TokenUsage,
    Trace,
    VerifierDecision,
)

CONDENSE_MAX_TOKENS = 48
HISTORY_MESSAGES = 4  # the last turns the condenser sees
HISTORY_CHARS = 300  # per message
ALSO_INCLUDE_RATIO = 0.7  # a runner-up must score at least this share of the best evidence ...
ALSO_INCLUDE_NEW_TERMS = 0.1  # ... and add this share of the question's (idf-weighted) terms to be cited too
ALSO_INCLUDE_MAX = 3
OFF_TOPIC_RATIO = 0.6  # draft sentences resting only on evidence below this share of the best are dropped
SUGGESTIONS = 3

_REFERS_BACK = re.compile(r"^(This|These|That|Those|It|Its|They|Their|Such)\b")
_FOLLOW_UP = re.compile(r"\b(it|its|they|them|their|this|that|these|those|he|she|him|her|there|such)\b", re.I)


@dataclass
class _Prepared:
    """Everything before generation: the shared front half of both pipelines."""

    question: str
    standalone: str
    hits: list[SearchHit]
    evidence: list[RankedEvidence]
    refusal_reason: str | None
    part_best: list[RankedEvidence] = field(default_factory=list)  # each part's answer, for compound questions
    bridge: RankedEvidence | None = None  # the second hop's sentence (service.pipeline.bridging)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = 0.0
    profile: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)  # every model call of this answer
    unmentioned: list[str] = field(default_factory=list)  # the question's names no retrieved text mentions


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


# --- condense ---------------------------------------------------------------------------------------


def _history_text(history: Sequence[ChatMessage]) -> str:
    recent = [m for m in history if m.role in ("user", "assistant")][-HISTORY_MESSAGES:]
    return "\n".join(f"{m.role.capitalize()}: {m.content.strip()[:HISTORY_CHARS]}" for m in recent)


def deterministic_rewrite(question: str, history: Sequence[ChatMessage]) -> str:
    """The follow-up plus the previous question's content words and the previous answer's names."""
    have = content_terms(question)
    extra: list[str] = []
    users = [m.content for m in history if m.role == "user"]
    answers = [m.content for m in history if m.role == "assistant"]
    for token in words(users[-1]) if users else []:
        if token.lower() not in STOPWORDS and not (content_terms(token) <= have) and token not in extra:
            extra.append(token)
    for token in key_terms(answers[-1]) if answers else []:
        if not token[0].isdigit() and token not in extra and not (content_terms(token) <= have):
            extra.append(token)
    return f"{question} ({' '.join(extra)})" if extra else question


def _clean_condensed(raw: str) -> str:
    lines = [line.strip() for line in raw.strip().splitlines() if line.strip()]
    text = lines[0] if lines else ""
    text = re.sub(r"^(rewritten|standalone)?\s*question\s*:\s*", "", text, flags=re.I)
    return text.strip().strip("\"'“”")


def condense_question(
    llm: ChatModel, question: str, history: Sequence[ChatMessage], usage: TokenUsage | None = None
) -> str:
    """A standalone version of a follow-up question; the question itself when there is no history.

    The model's rewrite is kept only if it is a question, keeps every content word of the question and adds
    some from the conversation; otherwise (a tiny model often mangles it) the deterministic rewrite is used.
    """
    if not any(m.role == "user" for m in history):
        return question
    if not _FOLLOW_UP.search(question) and len(content_terms(question)) >= 4:
        return question  # already standalone: nothing refers back
    prompt = render_prompt("condense", history=_history_text(history), question=question)
    candidate = _clean_condensed(llm.complete([ChatMessage(role="user", content=prompt)], CONDENSE_MAX_TOKENS, usage))
    asked, got = content_terms(question), content_terms(candidate)
    from_history = content_terms(" ".join(m.content for m in history))
    is_question = candidate.endswith("?")
    if is_question and asked <= got and (got - asked) & from_history and len(candidate) <= 2 * len(question) + 200:
        return candidate
    return deterministic_rewrite(question, history)


# --- the shared front half ---------------------------------------------------------------------------


def _prepare(p: AnswerPipeline, question: str, history: Sequence[ChatMessage], k: int | None) -> _Prepared:
    question = question.strip()
    if not question:
        raise InvalidInput("the question is empty")
    started = time.perf_counter()
    timings: dict[str, float] = {}

    t = time.perf_counter()
    usage = TokenUsage()
    standalone = condense_question(p.llm, question, history, usage) if history else question
    if history:
        timings["condense_ms"] = _ms(t)

    t = time.perf_counter()
    top_k = k or p.top_k
    hits = p.retrieve(standalone, top_k)
    timings["retrieval_ms"] = _ms(t)

    t = time.perf_counter()
    evidence = select_evidence(standalone, hits, p.encoder, p.text_of, p.evidence_max, follow_up=question)
    answerable, reason = addresses_question(standalone, evidence, [h.text for h in hits])
    part_best = [_joined(evidence, e) for e in best_for_parts(standalone, hits, p.encoder, p.text_of)]
    bridge = None
    if answerable:
        hop = second_hop(standalone, evidence, hits, retrieve=p.retrieve, encoder=p.encoder, text_of=p.text_of)
        hits = [*hits, *hop.hits]
        if hop.evidence is not None:
            bridge = _joined(evidence, hop.evidence)
    timings["evidence_ms"] = _ms(t)
    retrieved = "\n".join([*(h.text for h in hits), *(e.text for e in evidence)])
    return _Prepared(
        question=question,
        standalone=standalone,
        hits=hits,
        evidence=evidence,
        refusal_reason=None if answerable else reason,
        part_best=part_best,
        bridge=bridge,
        timings=timings,
        started=started,
        usage=usage,
        profile=p.profile.name,
        unmentioned=unmentioned_names(question, retrieved),
    )


def answer_messages(question: str, evidence: Sequence[Evidence], prompt: str = "answer") -> list[ChatMessage]:
    """The generation prompt: numbered evidence (sentences or passages, best first) and the question."""
    return render_messages(prompt, evidence=evidence_block(evidence), question=question)


def also_include(question: str, evidence: Sequence[RankedEvidence]) -> list[RankedEvidence]:
    """Evidence the answer cites whatever the draft says: the best, plus any close runner-up that covers a
    distinctive part of the question the ones before it do not (a two-part question answered by two files),
    or that holds the date or number asked for when the ones before it do not.

    A one-part question for a date or number whose best sentence holds one is answered: a runner-up then joins
    only with the kind of thing asked for *and* a name or number of the question not covered yet ("How much
    did Ridgeline and Tri-County bid?"); looser runner-ups only added noise there."""
    if not evidence:
        return []
    best = evidence[0]
    asked = content_terms(question)
    weights = term_weights(asked, [content_terms(e.text) for e in evidence])
    total = sum(weights.values()) or 1.0
    chosen = [best]
    covered = content_terms(best.text) & asked
    typed = answer_type_bonus(question, best.text) > 0  # "when …" answered by a sentence with a date
    wants_type = asked_type(question) is not None
    answered = wants_type and typed and not question_parts(question)
    names = {k.lower() for k in key_terms(question)}
    named = names & comparable_words(best.text)
    for e in evidence[1:]:
        if len(chosen) >= ALSO_INCLUDE_MAX or e.score < ALSO_INCLUDE_RATIO * best.score:
            continue
        if answered:
            new_names = (names & comparable_words(e.text)) - named
            if new_names and answer_type_bonus(question, e.text) > 0:
                chosen.append(e)
                named |= new_names
            continue
        new = (content_terms(e.text) & asked) - covered
        adds_type = wants_type and not typed and answer_type_bonus(question, e.text) > 0
        if adds_type or sum(weights[t] for t in new) / total >= ALSO_INCLUDE_NEW_TERMS:
            chosen.append(e)
            covered |= new
            typed = typed or adds_type
    return chosen


def _next_in_paragraph(sentences: Sequence[Sentence], evidence: RankedEvidence) -> Sentence | None:
    """The sentence right after `evidence`'s own, if it continues the same line (paragraph)."""
    for current, following in zip(sentences, sentences[1:]):
        if current.start_line == evidence.start_line and current.text == evidence.text:
            return following if following.start_line == current.end_line else None
    return None


def _joined(evidence: list[RankedEvidence], sentence: RankedEvidence) -> RankedEvidence:
    """`sentence` as a member of `evidence`: the one already there, or appended with the next free number."""
    key = (sentence.source, sentence.start_line, sentence.text)
    for e in evidence:
        if (e.source, e.start_line, e.text) == key:
            return e
    joined = sentence.model_copy(update={"number": len(evidence) + 1})
    evidence.append(joined)
    return joined


def _joined_neighbour(evidence: list[RankedEvidence], of: RankedEvidence, sentence: Sentence) -> RankedEvidence:
    """`sentence` (a neighbour of `of` in its document) as a member of `evidence`, ranked as `of` is."""
    neighbour = RankedEvidence(
        number=0, source=of.source, start_line=sentence.start_line, end_line=sentence.end_line,
        text=sentence.text, score=of.score, dense=of.dense, lexical=of.lexical,
    )  # fmt: skip
    return _joined(evidence, neighbour)


_WH_FOCUS = re.compile(r"\b(?:which|what)\s+((?:[\w'’-]+\s+){0,3}[\w'’-]+)", re.I)
_DEFINITE = frozenset({"the", "this", "that", "these", "those"})
ANTECEDENT_LINES = 2  # the sentence before, on the same line or across one blank line (a paragraph break)


def focus_terms(question: str) -> set[str]:
    """What a which/what question asks for, as stems: the words after "which"/"what" up to the first function
    word ("Which wildly popular show was …" → wildly, popular, show). Empty for other questions."""
    match = _WH_FOCUS.search(question)
    if match is None:
        return set()
    kept = []
    for token in match.group(1).split():
        if token.lower() in STOPWORDS:
            break
        if not token[0].isupper():  # a name ("Which US national park") is not what is asked for
            kept.append(token)
    return content_terms(" ".join(kept))


def names_focus(sentence: str, focus: set[str]) -> bool:
    """Does `sentence` speak of the asked-for thing by a definite description ("the wildly popular South Korean
    show", "the park")? Then the thing itself was named before it."""
    tokens = [t.lower() for t in words(sentence)]
    return any(
        token in _DEFINITE and any(content_terms(t) & focus for t in tokens[i + 1 : i + 5])
        for i, token in enumerate(tokens)
    )


def _previous(sentences: Sequence[Sentence], evidence: RankedEvidence) -> Sentence | None:
    """The sentence right before `evidence`'s own, when it is at most ANTECEDENT_LINES lines up."""
    for before, current in zip(sentences, sentences[1:]):
        if current.start_line == evidence.start_line and current.text == evidence.text:
            return before if evidence.start_line - before.end_line <= ANTECEDENT_LINES else None
    return None


def with_antecedents(
    question: str, chosen: Sequence[RankedEvidence], evidence: list[RankedEvidence], text_of: Callable[[str], str]
) -> list[RankedEvidence]:
    """`chosen`, each preceded by the sentence before it when it speaks of what the question asks for only as "the
    show", "the park" and that sentence names something the question does not ("“Squid Game” is officially
    coming back." before "Netflix announced … the wildly popular South Korean show is green lit …")."""
    focus = focus_terms(question)
    if not focus:
        return list(chosen)
    asked = {k.lower() for k in key_terms(question)}
    out: list[RankedEvidence] = []
    for i, e in enumerate(chosen):
        if i == 0 and names_focus(e.text, focus):  # the best evidence only: what the answer leads with
            try:
                before = _previous(split_sentences(text_of(e.source)), e)
            except Exception:  # the document went away meanwhile
                before = None
            usable = before is not None and len(words(before.text)) >= MIN_WORDS and not is_heading(before.text)
            if before is not None and usable and {k.lower() for k in key_terms(before.text)} - asked:
                joined = _joined_neighbour(evidence, e, before)
                if joined not in out:
                    out.append(joined)
        if e not in out:
            out.append(e)
    return out


def with_continuations(
    chosen: Sequence[RankedEvidence], evidence: list[RankedEvidence], text_of: Callable[[str], str]
) -> list[RankedEvidence]:
    """`chosen`, each followed by the next sentence of its paragraph when that one refers back to it ("These
    mines …", "This type of mine …"): such a sentence often carries the rest of the answer, and it is
    meaningless without its antecedent. New sentences join `evidence` with the next free numbers."""
    out: list[RankedEvidence] = []
    for e in chosen:
        if e not in out:
            out.append(e)
        try:
            following = _next_in_paragraph(split_sentences(text_of(e.source)), e)
        except Exception:  # the document went away meanwhile: the chosen sentence is still valid evidence
            continue
        if following is None or not _REFERS_BACK.match(following.text):
            continue
        joined = _joined_neighbour(evidence, e, following)
        if joined not in out:
            out.append(joined)
    return out


DATELINE_LINES = 5  # a document's own date stands in its first lines ("Minutes of the Regular Meeting, January 14, 2025")


def with_dateline(
    question: str, chosen: Sequence[RankedEvidence], evidence: list[RankedEvidence], text_of: Callable[[str], str]
) -> list[RankedEvidence]:
    """`chosen`, with the best sentence's document dateline after it when the question asks "when" and the best
    sentence holds no date: minutes, memos and letters date what they record once, at the top ("The motion passed
    4-1" happened at the meeting of "January 14, 2025"). The dateline is a title line, quoted for its date only.
    Only when the best sentence is about what the question asks beyond its names, if it asks anything more ("When
    was Calder Falls founded?" is not dated by the minutes of a meeting held in Calder Falls City Hall), or when the
    question only refers back ("and when was that?")."""
    if not chosen or not asks_date(question) or holds_date(chosen[0].text):
        return list(chosen)
    asked = content_terms(question) - content_terms(" ".join(key_terms(question)))
    if asked and not asked & content_terms(chosen[0].text):
        return list(chosen)
    best = chosen[0]
    try:
        sentences = split_sentences(text_of(best.source))
    except Exception:  # the document went away meanwhile
        return list(chosen)
    dateline = next((s for s in sentences if s.start_line <= min(DATELINE_LINES, best.start_line - 1)
                     and FULL_DATE.search(s.text)), None)  # fmt: skip
    if dateline is None:
        return list(chosen)
    return [best, _joined_neighbour(evidence, best, dateline), *chosen[1:]]


# --- the back half --------------------------------------------------------------------------------


def _trace(prepared: _Prepared, draft: str | None, decisions: list[VerifierDecision]) -> Trace:
    """What the answer was made from, for `--json`, the eval reports and debugging (timings as of now)."""
    timings = {**prepared.timings, "total_ms": _ms(prepared.started)}
    return Trace(
        standalone_question=prepared.standalone,
        profile=prepared.profile,
        retrieved=prepared.hits,
        evidence=list(prepared.evidence),
        draft=draft,
        decisions=decisions,
        timings_ms=timings,
    )


def _refusal(
    prepared: _Prepared, model: str | None, draft: str | None = None, decisions: Sequence[VerifierDecision] = ()
) -> Answer:
    """The refusal answer; `decisions`: the verifier's, when a draft was judged before the refusal."""
    suggestions = [
        Suggestion(source=e.source, start_line=e.start_line, end_line=e.end_line, text=e.text)
        for e in prepared.evidence[:SUGGESTIONS]
    ]
    # the question that was searched for (a follow-up's standalone rewrite), so the user sees what was understood
    text = f"The documents don't say — nothing in them answers “{escape_markers(prepared.standalone)}”."
    decision = VerifierDecision(sentence=text, action="dropped", reason=f"refused: {prepared.refusal_reason}")
    trace = _trace(prepared, draft, [*decisions, decision])
    return Answer(
        answer=text, refused=True, citations=[], suggestions=suggestions, model=model, timings_ms=trace.timings_ms,
        usage=prepared.usage if prepared.usage.total_tokens else None, trace=trace,
    )  # fmt: skip


def _refused_events(answer: Answer) -> Iterator[StreamEvent | Answer]:
    yield StreamEvent(event="token", data=answer.answer)
    yield answer


DIFFERS_LEAD = "Another source differs: "
LINK_LEAD = "What ties it to the question: "
DIFFERS_MIN_SCORE = 0.5  # × the best evidence score: the differing statement addresses the question too
DIFFERS_LIMIT = 1


def differing_evidence(
    cited: Sequence[Evidence], evidence: Sequence[RankedEvidence], encoder: Encoder
) -> list[tuple[RankedEvidence, str]]:
    """Evidence of another source that contradicts what the answer cites about the same thing — a date moved, a
    different figure, the statement negated (service.pipeline.contradictions, the rules of the summaries' "Where
    the sources differ") — with the kind of difference. Surfaced beside the answer, never dropped: which source
    is right is the reader's call."""
    if not cited or not evidence:
        return []
    floor = DIFFERS_MIN_SCORE * evidence[0].score
    cited_sources = {c.source for c in cited}
    others = [e for e in evidence if e.score >= floor and e.source not in cited_sources]
    if not others:
        return []
    idf = idf_weights([e.text for e in evidence])
    found: list[tuple[RankedEvidence, str]] = []
    for other in others:
        if (kind := contradiction(other, cited, idf, encoder)) is not None:
            found.append((other, kind))
        if len(found) >= DIFFERS_LIMIT:
            break
    return found


def contradiction(other: Evidence, cited: Sequence[Evidence], idf: dict[str, float], encoder: Encoder) -> str | None:
    """The kind of difference between `other` and the first of `cited` it contradicts about the same thing, if any."""
    vectors = embed(encoder, [other.text, *(c.text for c in cited)])
    for i, mine in enumerate(cited, start=1):
        similarity = float(vectors[0] @ vectors[i])
        if similarity < DIFF_MIN_SIMILARITY or shared_subject(mine.text, other.text, idf) < DIFF_MIN_SHARED:
            continue
        # no rare-term demand here (a dozen evidence sentences make poor term weights): both address the question
        if (kind := classify_difference(mine.text, other.text, similarity)) is not None:
            return kind
    return None


def best_evidence(p: AnswerPipeline, prepared: _Prepared) -> list[RankedEvidence]:
    """The evidence sentences an answer quotes when it quotes: the best, runner-ups that cover another part of the
    question, each part's answer of a compound question, the second hop's sentence, and the sentences they lean on
    (an antecedent before, a continuation after). The tiny profile always carries them; a capable model's answer
    only when nothing of its draft holds. May join new sentences to `prepared.evidence`."""
    # judged on the user's own words, not the context a follow-up's rewrite added
    evidence = prepared.evidence
    bridge = [prepared.bridge] if prepared.bridge is not None else []
    chosen = with_antecedents(prepared.question, [*also_include(prepared.question, evidence), *prepared.part_best, *bridge], evidence, p.text_of)
    return with_dateline(prepared.question, with_continuations(chosen, evidence, p.text_of), evidence, p.text_of)


def _passages(p: AnswerPipeline, prepared: _Prepared) -> dict[int, Passage]:
    """The passages a capable model reads, numbered 1..n: the best evidence's first, the second hop's next."""
    evidence = prepared.evidence
    seeds = [evidence[0], *([prepared.bridge] if prepared.bridge else [])]
    seeds += [e for e in evidence[1:] if e is not prepared.bridge]
    profile = p.profile
    built = build_passages(seeds, p.text_of, passages=profile.passages, sentences=profile.passage_sentences,
                           tokens=profile.evidence_tokens)  # fmt: skip
    return {q.number: q for q in built}


def _generate_then_finish(
    p: AnswerPipeline, prepared: _Prepared, generate: Callable[[list[ChatMessage]], Iterator[str]]
) -> Iterator[StreamEvent | Answer]:
    """The one back half both entry points use: generate, verify each draft sentence as soon as it is complete,
    and yield the stream events, then the verified answer.

    Events: `draft` (the part of the draft not yet verified, replacing the previous one: provisional),
    `sentence` (a verified sentence with its citations, numbered as in the final answer) and `token` (the same
    text as a delta of the verified answer). Kept sentences are final and citation ids are given in order of
    appearance, so the `token` deltas concatenated are exactly the final answer's text."""
    llm = p.llm
    if prepared.refusal_reason is not None:
        yield from _refused_events(_refusal(prepared, llm.model_name))
        return
    evidence = prepared.evidence
    quoted = best_evidence(p, prepared)  # may add continuations to `evidence`: before it is indexed below
    must_include = [] if p.profile.synthesis else quoted  # a capable model's prose stands on its own where it holds
    by_number = {e.number: e for e in evidence}
    # what the model reads and cites: evidence sentences (tiny), or passages around them (models that can read)
    passages = _passages(p, prepared) if p.profile.synthesis else {}
    units: Sequence[Evidence] = list(passages.values()) or evidence
    verifier = DraftVerifier(
        units, p.encoder, min_score=OFF_TOPIC_RATIO * evidence[0].relevance, paraphrase=p.profile.paraphrase,
        judge=model_judge(llm, prepared.usage) if p.profile.judge else None, streaming=True,
        subjects=subjects_of({u.source for u in units}, p.text_of), question=prepared.standalone,
    )
    # Strict mode: a capable model checks its whole answer against what it cites before anything is shown
    check = model_answer_check(llm, prepared.usage) if p.answer_check and p.profile.judge else None
    splitter = DraftSplitter()
    book = CitationBook()
    shown: list[str] = []
    cited: list[Evidence] = []  # the evidence sentences the shown sentences cite
    differing: list[VerifierDecision] = []  # shown sentences introduced as another source's differing statement
    idf = idf_weights([e.text for e in evidence])
    verify_s = 0.0

    def judged(pieces: list[str], closing: bool = False) -> Iterator[StreamEvent]:
        nonlocal verify_s
        for i, piece in enumerate(pieces):
            t0 = time.perf_counter()
            verdict = verifier.judge(piece, last=closing and i == len(pieces) - 1)
            verify_s += time.perf_counter() - t0
            if verdict is not None and check is None:  # else shown once the answer check confirms it
                yield from _shown(*_sentences_of(verdict))

    def _sentences_of(verdict: VerifiedSentence) -> tuple[VerifiedSentence, list[Evidence]]:
        """The verdict with the evidence sentences it cites: a passage is narrowed to the sentences the claim
        rests on; a quoted passage (the fallback) to its seed sentence."""
        if not passages:
            return verdict, [by_number[n] for n in verdict.cited]
        sentences: list[Evidence] = []
        for n in verdict.cited:
            passage = passages[n]
            members = [passage.members[passage.seed]] if verdict.extractive else narrow(verdict.text, passage, p.encoder)
            sentences += [_joined(evidence, m) for m in members]
        if verdict.extractive:
            verdict = verdict.model_copy(update={"text": " ".join(e.text for e in sentences)})
        return verdict, sentences

    def _shown(
        verdict: VerifiedSentence, sentences: list[Evidence], quoted: bool = False, lead: str = ""
    ) -> Iterator[StreamEvent]:
        """A verified sentence as the final answer will have it (format_answer's rendering, same citation ids).
        A sentence of another source that contradicts what the answer already cites is introduced as differing."""
        if not lead and cited and not {e.source for e in sentences} & {c.source for c in cited}:
            kinds = [k for e in sentences if (k := contradiction(e, cited, idf, p.encoder)) is not None]
            if kinds:
                lead = DIFFERS_LEAD
                differing.append(VerifierDecision(
                    sentence=verdict.text, action="kept", cited=verdict.cited,
                    reason=f"another source differs on the asked fact ({kinds[0]}): introduced as differing"))  # fmt: skip
        ids = list(dict.fromkeys(book.cite(e) for e in sentences))
        cited.extend(sentences)
        text = lead + with_markers(verdict.text, ids, quoted=quoted)
        citations = [c.model_dump(exclude_none=True) for c in located([c for c in book.citations if c.id in ids], p.locate)]
        yield StreamEvent(event="sentence", data={"text": text, "citations": citations})
        yield StreamEvent(event="token", data=f" {text}" if shown else text)
        shown.append(text)

    t = time.perf_counter()
    parts: list[str] = []
    first = None
    pending = ""
    prompt = "answer_passages" if p.profile.synthesis else "answer"
    for delta in generate(answer_messages(prepared.standalone, units[: p.profile.passages], prompt)):
        if first is None:
            first = _ms(prepared.started)
        parts.append(delta)
        yield from judged(splitter.feed(delta))
        if splitter.pending != pending:
            pending = splitter.pending
            yield StreamEvent(event="draft", data=pending)
    yield from judged(splitter.close(), closing=True)
    if pending:
        yield StreamEvent(event="draft", data="")
    prepared.timings["generation_ms"] = round(_ms(t) - verify_s * 1000, 1)
    if first is not None:
        prepared.timings["first_token_ms"] = first
    draft = "".join(parts)
    t = time.perf_counter()
    verified = verifier.finish(must_include=must_include)
    if verified.extractive and passages:  # nothing of a capable model's draft held: quote as the tiny profile does
        why = "nothing in the draft was supported: quoting the best evidence"
        verified = verified.model_copy(update={
            "sentences": [VerifiedSentence(text=e.text.strip(), cited=[e.number], extractive=True) for e in quoted],
            "decisions": [d for d in verified.decisions if d.action != "extractive"] + [
                VerifierDecision(sentence=e.text, action="extractive", cited=[e.number], reason=why) for e in quoted],
        })  # fmt: skip
        passages = {}  # the quotes cite evidence sentences, not passages
    reason = unanswered_after_fallback(prepared.question, draft, verified)
    if reason is None and check is not None and not verified.extractive:
        # the passages the answer cites, as the model read them (a narrowed quote can lose the link a hop needs)
        sources = list(dict.fromkeys(passages[n].text for s in verified.sentences for n in s.cited if n in passages))
        if not check(prepared.standalone, sources, " ".join(s.text for s in verified.sentences)):
            reason = "the model's check found the answer not stated by the sources it cites"
    prepared.timings["verify_ms"] = round(verify_s * 1000 + _ms(t), 1)
    if reason is not None:
        prepared.refusal_reason = reason  # nothing was shown yet: checked sentences wait for the check
        yield from _refused_events(_refusal(prepared, llm.model_name, draft, verified.decisions))
        return
    for extra in verified.sentences[len(shown) :]:  # must-include evidence, the quoted fallback, or (checked) all
        yield from _shown(*_sentences_of(extra), quoted=verified.extractive)
    decisions = [*verified.decisions, *differing]
    # a capable model's two-hop answer cites where its fact is, not what makes it the asked one: quote that beside it
    link = None if verified.extractive or not p.profile.synthesis else linking_sentence(
        prepared.question, " ".join(shown), cited, evidence, p.text_of)  # fmt: skip
    if link is not None:
        sentence, terms = link
        decisions.append(VerifierDecision(
            sentence=sentence.text, action="extractive", cited=[sentence.number],
            reason=f"ties the answer to what its citations leave out of the question ({', '.join(sorted(terms))}): "
            "quoted beside it"))  # fmt: skip
        yield from _shown(VerifiedSentence(text=sentence.text, cited=[sentence.number], extractive=True), [sentence],
                          quoted=True, lead=LINK_LEAD)  # fmt: skip
    for other, kind in differing_evidence(cited, evidence, p.encoder):
        decisions.append(VerifierDecision(
            sentence=other.text, action="extractive", cited=[other.number],
            reason=f"another source differs on the asked fact ({kind}): quoted beside the answer"))
        yield from _shown(VerifiedSentence(text=other.text, cited=[other.number], extractive=True), [other],
                          quoted=True, lead=DIFFERS_LEAD)
    text, citations = " ".join(shown), located(book.citations, p.locate)  # where each span is in the original file
    trace = _trace(prepared, draft, decisions)
    yield Answer(
        answer=text, refused=False, citations=citations, model=llm.model_name, timings_ms=trace.timings_ms,
        usage=prepared.usage, trace=trace, unmentioned=prepared.unmentioned,
    )  # fmt: skip


def summary_answer(summary: Summary, route: Route, started: float) -> Answer:
    """A routed question's answer: the summary's overview and bullets, with the summary's verified citations."""
    lines = [summary.summary, *(f"- {b}" for b in summary.bullets)]
    if summary.differences:
        lines += ["Where the sources differ:", *(f"- {d}" for d in summary.differences)]
    timings = {**summary.timings_ms, "total_ms": _ms(started)}
    trace = Trace(
        route="summary", decisions=summary.trace.decisions if summary.trace else [], timings_ms=timings,
        standalone_question=f"summary of {route.source or 'the corpus'}" + (f" on {route.focus}" if route.focus else ""),
    )  # fmt: skip
    return Answer(answer="\n".join(lines), refused=False, citations=summary.citations, route="summary",
                  model=summary.model, timings_ms=timings, trace=trace)  # fmt: skip


# --- the pipeline ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AnswerPipeline:
    """Grounded answers: `retrieve` chunks, pick evidence sentences (`encoder`, `text_of`), let `llm` draft, verify.

    `answer` and `stream` share every step but generation (whole reply vs. streamed deltas): both verify the
    draft sentence by sentence; `answer` only keeps the last item."""

    retrieve: Retrieve
    text_of: TextOf
    encoder: Encoder
    llm: ChatModel
    top_k: int
    evidence_max: int
    profile: ModelProfile = PROFILES["tiny"]
    answer_check: bool = False  # a capable profile's model checks the whole answer (CITEWISE_ANSWER_CHECK)
    locate: Locate | None = None
    summarize: Callable[[str | None, str | None], Summary] | None = None  # (source, focus) → summary, for routing
    sources: Callable[[], list[str]] | None = None

    def _routed(self, question: str, history: Sequence[ChatMessage]) -> Answer | None:
        """A question about the whole corpus or one document, answered by the summary pipeline (route "summary")."""
        if self.summarize is None or self.sources is None or not question.strip():
            return None
        route = route_question(question, self.sources(), follow_up=any(m.role == "user" for m in history))
        if route.kind != "summary":
            return None
        started = time.perf_counter()
        return summary_answer(self.summarize(route.source, route.focus), route, started)

    def _reading_once(self) -> AnswerPipeline:
        """This pipeline for one answer, reading each document's text once: evidence selection, passages, the
        second hop and the verifier's titles all read the same few documents (37 reads of 19 documents for one
        HotpotQA question before)."""
        return replace(self, text_of=cache(self.text_of))

    def answer(self, question: str, history: Sequence[ChatMessage] = (), k: int | None = None) -> Answer:
        """One grounded answer (the answer JSON contract)."""
        if (routed := self._routed(question, history)) is not None:
            return routed
        p = self._reading_once()
        prepared = _prepare(p, question, history, k)

        def whole(messages: list[ChatMessage]) -> Iterator[str]:
            yield self.llm.complete(messages, max_tokens=self.profile.draft_tokens, usage=prepared.usage)

        result = [item for item in _generate_then_finish(p, prepared, whole) if isinstance(item, Answer)]
        return result[-1]

    def stream(self, question: str, history: Sequence[ChatMessage] = (), k: int | None = None) -> Iterator[StreamEvent]:
        """The answer as events (README "Streaming"): `draft` (provisional: the draft not yet verified, replacing
        the previous one), `sentence` + `token` per verified sentence (`token` deltas concatenate to the final
        answer text), then one `answer` with the verified answer JSON, then `done` — or `error`."""
        try:
            if (routed := self._routed(question, history)) is not None:
                yield from (StreamEvent(event="answer", data=e) if isinstance(e, Answer) else e for e in _refused_events(routed))
                yield StreamEvent(event="done")
                return
            p = self._reading_once()
            prepared = _prepare(p, question, history, k)

            def streamed(messages: list[ChatMessage]) -> Iterator[str]:
                return self.llm.stream(messages, max_tokens=self.profile.draft_tokens, usage=prepared.usage)

            for item in _generate_then_finish(p, prepared, streamed):
                yield StreamEvent(event="answer", data=item) if isinstance(item, Answer) else item
        except Exception as exc:  # the stream's consumer (SSE, chat REPL) reports it; nothing is raised mid-stream
            yield StreamEvent(event="error", data=error_data(exc))
            return
        yield StreamEvent(event="done")
