"""Evidence passages for models that can read (the small and large profiles): the best evidence sentences, each
widened to its neighbours, become the numbered sources of the prompt.

A lone sentence often leaves out what the question asks for: "Netflix announced Sunday that the wildly popular
South Korean show is green lit" answers "which show?" only with the sentence before it ("“Squid Game” is
officially coming back."). A capable model reads the passage and names the show; the verifier then checks the
model's sentence against the passage it cites, and the citation quotes only the passage's sentences that
support it (`narrow`), so a reader is pointed at the sentence, not at a paragraph.

Widening: the seed sentence, then its neighbours alternately before and after it, while they are prose
(not headings or debris) at most `NEIGHBOUR_LINES` lines away (the next paragraph, not the next section), up to
the profile's `passage_sentences`. A seed already inside a passage adds nothing; a window touching a passage of
the same document joins it. Passages are added best seed first until the profile's `passages` count or its
`evidence_tokens` budget (estimated from words) is reached.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.pipeline.evidence import MIN_WORDS, RankedEvidence
from service.pipeline.ports import Encoder, TextOf
from service.pipeline.sentences import Sentence, is_heading, split_sentences
from service.pipeline.terms import comparable_words, content_terms, key_terms, words
from service.pipeline.verifier import check_support
from service.schemas import Evidence

NEIGHBOUR_LINES = 2  # a neighbour on the next line or across one blank line (the next paragraph)
TOKENS_PER_WORD = 1.4  # budget estimate (Qwen/Llama tokenizers on English news: 1.3-1.5)
# A quote must show what the claim says, not only its names and figures: "Toyota offered owners the free use of
# another vehicle, $5,000 toward their car payments, and extended the warranty" rests on three sentences of one
# paragraph, and the one with "Toyota" and "$5,000" alone was quoted. Another sentence of the passage joins the quote
# when it holds this many of the claim's content words that the quote lacks. Quality model, every narrowing of 15
# HotpotQA + 15 RealTime QA dev questions (32): 3 → 2 quotes gain the sentence the claim rests on ("the heaviest ever
# captured in the state", "Notable speakers included … the painter Jeffrey Smart"); 2 → also 2 strays ("fleeing" for
# the claim's "flee", "launch" in a photo caption). Held-out test 15 + 15 (29): 1 gains ("… busing thousands of
# migrants to New York"), no stray.
NARROW_ADDS = 3


class Passage(Evidence):
    """One numbered source of the prompt: contiguous sentences of one document (`text` is their exact span)."""

    members: list[RankedEvidence]  # in document order; those not among the ranked evidence have number 0
    seed: int  # index in `members` of the evidence sentence it grew from


def _usable(sentence: Sentence) -> bool:
    return len(words(sentence.text)) >= MIN_WORDS and not is_heading(sentence.text)


def _window(sentences: Sequence[Sentence], seed: int, size: int) -> tuple[int, int]:
    """[first, last] indexes of the seed's window: neighbours taken before, after, before, … while usable and near."""
    first = last = seed
    grew = True
    while last - first + 1 < size and grew:
        grew = False
        for step in (-1, 1):
            if last - first + 1 >= size:
                break
            j = first - 1 if step < 0 else last + 1
            if not 0 <= j < len(sentences) or not _usable(sentences[j]):
                continue
            near = sentences[first].start_line - sentences[j].end_line if step < 0 else sentences[j].start_line - sentences[last].end_line
            if near <= NEIGHBOUR_LINES:
                first, last = (j, last) if step < 0 else (first, j)
                grew = True
    return first, last


def build_passages(
    evidence: Sequence[RankedEvidence], text_of: TextOf, *, passages: int, sentences: int, tokens: int
) -> list[Passage]:
    """Passages numbered 1..n, best seed first (module docstring)."""
    spans: list[tuple[str, int, int, RankedEvidence]] = []  # (source, first, last sentence index, seed)
    split: dict[str, list[Sentence]] = {}
    texts: dict[str, str] = {}
    used_tokens = 0.0
    for e in evidence:
        if len(spans) >= passages:
            break
        if e.source not in split:
            try:
                texts[e.source] = text_of(e.source)
                split[e.source] = split_sentences(texts[e.source])
            except Exception:  # the document went away meanwhile: the sentence alone
                texts[e.source] = e.text
                split[e.source] = [Sentence(text=e.text, start_char=0, end_char=len(e.text), start_line=e.start_line, end_line=e.end_line)]
        doc = split[e.source]
        seed = next((i for i, s in enumerate(doc) if s.start_line == e.start_line and s.text == e.text), None)
        if seed is None:
            continue
        if any(src == e.source and a <= seed <= b for src, a, b, _ in spans):
            continue  # already read in a better passage
        first, last = _window(doc, seed, sentences)
        cost = TOKENS_PER_WORD * sum(len(doc[i].text.split()) for i in range(first, last + 1))
        if spans and used_tokens + cost > tokens:
            break
        merged = False
        for k, (src, a, b, best) in enumerate(spans):
            if src == e.source and first <= b + 1 and last >= a - 1:  # touching: one passage
                spans[k] = (src, min(a, first), max(b, last), best)
                merged = True
                break
        if not merged:
            spans.append((e.source, first, last, e))
        used_tokens += cost
    ranked = {(e.source, e.start_line, e.text): e for e in evidence}
    out: list[Passage] = []
    for number, (source, first, last, origin) in enumerate(spans, start=1):
        doc = split[source]
        members = [
            ranked.get((source, s.start_line, s.text))
            or RankedEvidence(number=0, source=source, start_line=s.start_line, end_line=s.end_line, text=s.text,
                              score=origin.score, dense=origin.dense, lexical=origin.lexical)  # fmt: skip
            for s in doc[first : last + 1]
        ]
        span = texts[source][doc[first].start_char : doc[last].end_char]
        out.append(Passage(
            number=number, source=source, start_line=doc[first].start_line, end_line=doc[last].end_line,
            text=span, score=origin.score, members=members,
            seed=next(i for i, m in enumerate(members) if m.start_line == origin.start_line and m.text == origin.text),
        ))  # fmt: skip
    return out


def narrow(claim: str, passage: Passage, encoder: Encoder) -> list[RankedEvidence]:
    """The passage's sentences a verified claim rests on: the shortest run of them holding every number, date
    and name of the claim that the passage holds (a claim joining two passages takes some from each),
    closest in meaning to it among the runs that hold them; then each other sentence of the passage that holds
    NARROW_ADDS or more of the claim's words the quote lacks."""
    members = passage.members
    keys = {k if k[0].isdigit() else k.lower() for k in key_terms(claim)}
    needed = keys & comparable_words(passage.text)
    best: tuple[float, int, int] | None = None
    for size in range(1, len(members) + 1):
        for i in range(len(members) - size + 1):
            run = " ".join(m.text for m in members[i : i + size])
            if not needed <= comparable_words(run):
                continue
            semantic = check_support(claim, [run], encoder, "semantic").semantic
            if best is None or semantic > best[0]:
                best = (semantic, i, i + size)
        if best is not None:
            break
    if best is None:
        return list(members)
    chosen = set(range(best[1], best[2]))
    wanted, held = content_terms(claim), [content_terms(m.text) for m in members]
    while True:
        lacking = wanted - set().union(*(held[i] for i in chosen))
        gains = {i: len(lacking & terms) for i, terms in enumerate(held) if i not in chosen}
        add = max(gains, key=lambda i: gains[i], default=None)
        if add is None or gains[add] < NARROW_ADDS:
            return [members[i] for i in sorted(chosen)]
        chosen.add(add)
