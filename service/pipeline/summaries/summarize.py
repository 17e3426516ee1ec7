"""Summaries with verified citations: one whole document, the whole corpus, or what the documents say on a topic.

Selection carries the quality; a capable model only rewords what was selected. A document is cut into groups of
chunks, each as much as a model could read in one call (`settings.llm_context_tokens`); per group the most salient
sentences are picked (embedding centrality in the document and the group, lead position; a one-document summary
always keeps the opening and the closing sentence). The reduce step picks the bullets from them (diverse,
beginning and end covered; a corpus summary has more, and one more per document: see CORPUS_BULLETS) and an
overview sentence, none repeating another (a sentence several documents carry is said once and cites them all).
For a corpus a sentence's salience is what the other documents say too (plan.corpus_salience: its closest
sentence in each other document) and its place in its own; every document is mapped this way, every document
gets a bullet, and "Where the sources differ" quotes both sides of a contradiction (differences.py, claims.py).

With a capable profile (`synthesis`) the model writes the overview and the bullets in its own words from the
selected sentences (phrasing.compose_bullets), each sentence verified like an answer's (semantic paraphrase, the
model as judge where the cheap checks cannot settle); what fails is quoted instead. Model calls are streamed within
a time budget (MODEL_CALL_BUDGET_S, MODEL_RUN_BUDGET_S): on a busy CPU the summary degrades to quotes instead of
waiting. The tiny profile quotes: its rewording measured worse (evals/bench_summaries.py).

Citation ids are numbered in order of first use across summary, bullets and differences; every quote is a whole
sentence of its document, verbatim, within its lines.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from service.errors import InvalidInput, error_data
from service.pipeline.citations import CitationBook, located
from service.pipeline.evidence import embed, rank_evidence, score_texts
from service.pipeline.markers import (
    render_markers,
    with_markers,
)
from service.pipeline.ports import (
    ChatModel,
    DocumentSource,
    Encoder,
    Locate,
    ProgressCallback,
    Retrieve,
)
from service.pipeline.sentences import Sentence
from service.pipeline.summaries.differences import (
    difference_text,
    find_differences,
    phrase_difference,
)
from service.pipeline.summaries.phrasing import (
    SummaryRun,
    compose_bullets,
    is_supported,
    overview_sentence,
    points_of,
)
from service.pipeline.summaries.plan import (
    Candidate,
    DocumentPlan,
    Point,
    corpus_salience,
    edge_candidates,
    is_duplicate,
    is_summary_material,
    leaning_penalty,
    plan_document,
    select_diverse,
    summary_reading,
)
from service.pipeline.summaries.tables import TableRow, table_rows
from service.schemas import (
    SearchHit,
    StreamEvent,
    Summary,
    SummaryTrace,
)

Length = Literal["short", "medium", "long"]

BULLETS: dict[str, int] = {"short": 3, "medium": 5, "long": 7}
DIFFERENCES: dict[str, int] = {"short": 2, "medium": 4, "long": 6}
# A corpus summary starts from more bullets than one document's and grows with the corpus: one bullet more per
# document beyond the first, up to half a document summary's count. Human multi-document summaries do the same
# (Multi-News validation 100–249, reference words by documents per cluster: 2 → 209, 3 → 225, 4 → 281, 5 → 292;
# 229 on average), and a bullet per document is what a reader of several documents expects. Medium, selection only
# on those 150 clusters: from 5 bullets 192 words, ROUGE-1/2 0.4377/0.1477; from 6: 214, 0.4433/0.1508; from 7: 234
# words — the human length —, 0.4471/0.1542 (one more per document instead: 196, 0.4395/0.1488). Short and long
# moved alike, not measured.
CORPUS_BULLETS: dict[str, int] = {"short": 4, "medium": 7, "long": 9}
CORPUS_EXTRA_BULLETS: dict[str, int] = {k: v // 2 for k, v in BULLETS.items()}
FOCUS_MIN_DENSE = 0.30  # a focus candidate must be this similar to the topic, or share its terms


# --- the pipelines ---------------------------------------------------------------------------------------
def _length(length: str) -> str:
    if length not in BULLETS:
        raise InvalidInput(f"unknown length {length!r}: use short, medium or long")
    return length


def corpus_bullets(length: str, documents: int) -> int:
    """How many bullets a corpus summary of `documents` documents has at `length`."""
    if documents < 2:
        return BULLETS[length]
    return CORPUS_BULLETS[length] + min(documents - 1, CORPUS_EXTRA_BULLETS[length])


def _map_document(run: SummaryRun, plan: DocumentPlan, per_group: int, label: str, ends: bool = True) -> list[Point]:
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
            points.extend(points_of(selected))
        run.step(label)
    return points


def _pick_bullets(points: Sequence[Point], n: int, must: Sequence[Point] = (), cover_sources: bool = False,
                  seen: Sequence[Point] = ()) -> list[Point]:
    """n diverse points: the required ones, then (for a corpus) each document's best that says something new (its
    best at all when everything it says was said: a document is not left out for agreeing), then by MMR; nothing
    else repeats another point or what the reader has `seen` (the overview)."""
    by_candidate = {id(p.main): p for p in points}
    shown = [c for p in seen for c in p.cites]
    required = [p.main for p in dict.fromkeys(must)]
    if cover_sources:
        ranked = sorted(points, key=lambda p: p.score, reverse=True)
        for source in dict.fromkeys(p.main.source for p in ranked):
            if source not in {c.source for c in required}:
                said = [*shown, *required]
                own = [p for p in ranked if p.main.source == source]
                best = next((p for p in own if not is_duplicate(p.main, said)), own[0])
                if not is_duplicate(best.main, said, verbatim_only=True):
                    required.append(best.main)
    chosen = select_diverse([p.main for p in points], n, lambda c: by_candidate[id(c)].score, must=required, seen=shown)
    return [by_candidate[id(c)] for c in chosen]


def uncovered_documents(sources: Sequence[str], points: Sequence[Point], shown: Sequence[Point]) -> list[Point]:
    """For each document none of the `shown` points cites (more documents than bullets), its best point that says
    something new, else its best unless that is a sentence already shown: these join a corpus overview."""
    said = [c for p in shown for c in p.cites]
    added: list[Point] = []
    for source in sources:
        own = sorted((p for p in points if p.main.source == source), key=lambda p: p.score, reverse=True)
        if own and source not in {c.source for c in said}:
            best = next((p for p in own if not is_duplicate(p.main, said)), own[0])
            if not is_duplicate(best.main, said, verbatim_only=True):
                added.append(best)
                said += best.cites
    return added


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
            if is_supported(p.text, [c.text], embedder):
                p.cites.append(c)


def _finish(
    run: SummaryRun, book: CitationBook, overview: list[Point], bullets: list[Point], differences: list[str],
    *, source: str | None, focus: str | None, started: float, groups: dict[str, int],
) -> Summary:
    run.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 1)
    wrote = run.model_wrote or any(p.phrased for p in [*overview, *bullets])
    text = " ".join(render_point(book, p) for p in overview)
    if not overview and not bullets:
        text = f"There is nothing to summarize: {f'{source} has' if source else 'the documents have'} no sentences."
    return Summary(
        summary=text,
        bullets=[render_point(book, p) for p in bullets],
        differences=differences,
        citations=located(book.citations, run.locate),
        source=source,
        focus=focus,
        model=run.llm.model_name if run.llm is not None and wrote else None,  # who wrote it; None: all quoted
        timings_ms=run.timings_ms,
        trace=SummaryTrace(groups=groups, decisions=run.decisions, drafts=run.drafts, profile=run.profile),
    )


def render_point(book: CitationBook, point: Point) -> str:
    """The point's sentence with its markers before the final punctuation: "… mines [1][2]."; a composed
    bullet's sentences each with their own."""
    if point.parts:
        return " ".join(with_markers(text, [c.cite(book) for c in cites]) for text, cites in point.parts)
    return with_markers(point.text, [c.cite(book) for c in point.cites])


def _render_order(book: CitationBook, overview: list[Point], bullets: list[Point]) -> None:
    """Assign citation ids in reading order (summary first, then bullets) before differences add theirs."""
    for p in [*overview, *bullets]:
        render_point(book, p)


def summarize_document(run: SummaryRun, source: str, length: str, started: float) -> Summary:
    """One document, all of it: map over its chunk groups, reduce to an overview and 3–7 bullets."""
    t = time.perf_counter()
    plan = plan_document(source, documents=run.documents, encoder=run.encoder, context_tokens=run.context_tokens)
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
    bullets = _pick_bullets(rest, n, must=[p for p in edge_points if p in rest], seen=[overview] if overview else [])
    bullets = compose_bullets(run, _in_reading_order(bullets, {source: 0}), n, what=f"one document, {source}")
    run.timed("reduce", t)
    run.step("combining")
    book = CitationBook()
    overview_points = [overview] if overview else []
    _render_order(book, overview_points, bullets)
    return _finish(run, book, overview_points, bullets, [], source=source, focus=None, started=started,
                   groups={source: len(plan.groups)})


def _differences(run: SummaryRun, book: CitationBook, docs: dict[str, list[Candidate]], length: str) -> list[str]:
    t = time.perf_counter()
    found = find_differences(docs, DIFFERENCES[length])
    run.timed("differences", t)
    texts = []
    for d in found:
        phrased = phrase_difference(run, d)
        ma, mb = render_markers([d.a.cite(book)]), render_markers([d.b.cite(book)])
        if phrased is not None:
            texts.append(phrased.replace("[1]", "\x00A").replace("[2]", "\x00B").replace("\x00A", ma).replace("\x00B", mb))
        else:
            texts.append(difference_text(d, ma, mb))
    return texts


def summarize_corpus(run: SummaryRun, length: str, started: float) -> Summary:
    """Every document mapped, reduced into an overview and bullets that cite every document, then differences."""
    sources = [d.source for d in run.documents.list_documents()]
    if not sources:
        raise InvalidInput("no documents ingested yet: run `citewise ingest PATH` first")
    t = time.perf_counter()
    plans = [
        plan_document(s, documents=run.documents, encoder=run.encoder, context_tokens=run.context_tokens) for s in sources
    ]
    corpus_salience(plans)
    run.timed("plan", t)
    n = corpus_bullets(length, len(plans))
    run.total_steps = sum(len(p.groups) for p in plans) + 2
    per_doc = max(2, min(5, math.ceil(1.6 * (n + 1) / len(plans))))
    all_candidates = [c for p in plans for c in p.candidates]
    points: list[Point] = []
    for plan in plans:
        per_group = max(2, math.ceil(per_doc / len(plan.groups)))
        points += _map_document(run, plan, per_group, f"summarizing {plan.source}", ends=False)
    run.announce("combining")
    t = time.perf_counter()
    ranked = sorted(points, key=lambda p: p.score, reverse=True)
    overview = overview_sentence(run, ranked)
    if overview is None and ranked:
        # The best of the documents' opening sentences: written to say what happened, where the most salient
        # sentence is often a detail or a quote (Multi-News validation 100–249: 69 of 150 overviews change,
        # ROUGE-1/2/L 0.4367/0.1459/0.2001 → 0.4371/0.1465/0.2032).
        overview = next((p for p in ranked if p.main.position == 0), ranked[0])
    rest = [p for p in points if overview is None or p.main not in overview.cites]
    bullets = _pick_bullets(rest, n, cover_sources=True, seen=[overview] if overview else [])
    order = {s: i for i, s in enumerate(sources)}
    bullets = _in_reading_order(bullets, order)
    overview_points = [overview] if overview else []
    _add_consensus([*overview_points, *bullets], all_candidates, run.encoder)
    bullets = compose_bullets(run, bullets, n, what=f"{len(plans)} documents")
    overview_points += uncovered_documents([p.source for p in plans], points, [*overview_points, *bullets])
    run.timed("reduce", t)
    run.step("combining")
    book = CitationBook()
    _render_order(book, overview_points, bullets)
    run.announce("finding differences")
    differences = _differences(run, book, {p.source: p.candidates for p in plans}, length)
    run.step("finding differences")
    return _finish(run, book, overview_points, bullets, differences, source=None, focus=None, started=started,
                   groups={p.source: len(p.groups) for p in plans})


def _focus_candidates(run: SummaryRun, focus: str, source: str | None) -> dict[str, list[Candidate]]:
    """On-topic sentences per document: retrieval, then sentence ranking by the topic (dense + its terms)."""
    if source is not None:
        run.documents.chunks_for(source)  # UnknownSource before any work
    k = max(run.top_k * 3, 24)
    t = time.perf_counter()
    hits = run.retrieve(focus, k)
    if source is not None:
        hits = [h for h in hits if h.source == source]
    ranked = rank_evidence(focus, hits, run.encoder, text_of=run.documents.text)
    run.timed("retrieve", t)
    on_topic = [e for e in ranked if (e.dense >= FOCUS_MIN_DENSE or e.lexical > 0) and is_summary_material(e.text)]
    rows = _table_rows_on_topic(run, focus, hits)
    by_source: dict[str, list[Candidate]] = {}
    if not on_topic and not rows:
        return by_source
    vectors = embed(run.encoder, [e.text for e in on_topic])
    for e, v in zip(on_topic, vectors):
        sentence = Sentence(text=e.text, start_char=0, end_char=len(e.text), start_line=e.start_line, end_line=e.end_line)
        c = Candidate(source=e.source, sentence=sentence, position=e.start_line, chunk=0, vector=v,
                      salience=e.score - leaning_penalty(e.text), reading=summary_reading(e.text))
        by_source.setdefault(e.source, []).append(c)
    for c in rows:
        by_source.setdefault(c.source, []).append(c)
    return by_source


def _table_rows_on_topic(run: SummaryRun, focus: str, hits: Sequence[SearchHit]) -> list[Candidate]:
    """The rows of tables in the retrieved chunks that are about `focus` (a price list for "pricing"), ranked by
    the same scores as sentences, read with their header (service.pipeline.summaries.tables)."""
    rows: list[tuple[str, TableRow]] = []
    for source in dict.fromkeys(h.source for h in hits):
        spans = [(h.start_line, h.end_line) for h in hits if h.source == source]
        rows += [(source, r) for r in table_rows(run.documents.text(source))
                 if any(a <= r.end_line and r.end_line <= b for a, b in spans)]
    if not rows:
        return []
    readings = [r.reading for _, r in rows]
    scored = score_texts(focus, readings, run.encoder)
    vectors = embed(run.encoder, readings)
    out = []
    for (source, row), (dense, lexical, score), v in zip(rows, scored, vectors):
        if dense >= FOCUS_MIN_DENSE or lexical > 0:
            sentence = Sentence(text=row.quote, start_char=row.start_char, end_char=row.end_char,
                                start_line=row.start_line, end_line=row.end_line)
            out.append(Candidate(source=source, sentence=sentence, position=row.end_line, chunk=0, vector=v,
                                 salience=score, reading=row.reading))
    return out


def summarize_focus(run: SummaryRun, focus: str, source: str | None, length: str, started: float) -> Summary:
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
        points.extend(points_of(selected))
        run.step(f"summarizing {src}")
    ranked = sorted(points, key=lambda p: p.score, reverse=True)
    overview = ranked[0]  # the most on-topic sentence leads
    bullets = _pick_bullets([p for p in points if p is not overview], n, cover_sources=source is None)
    order = {s: i for i, s in enumerate(docs)}
    bullets = compose_bullets(run, _in_reading_order(bullets, order), n, what=f"documents about {focus}")
    run.step("combining")
    book = CitationBook()
    _render_order(book, [overview], bullets)
    differences: list[str] = []
    if source is None and len(docs) > 1:
        differences = _differences(run, book, docs, length)
        run.step("finding differences")
    return _finish(run, book, [overview], bullets, differences, source=source, focus=focus, started=started,
                   groups={s: 1 for s in docs})


@dataclass(frozen=True, kw_only=True)
class SummaryPipeline:
    """Summaries over the index: `documents` to read, `retrieve` for focus topics, `encoder` for salience and
    verification, and `llm` to shorten sentences (None: purely extractive, what a failing model degrades to)."""

    documents: DocumentSource
    retrieve: Retrieve
    encoder: Encoder
    llm: ChatModel | None
    context_tokens: int
    top_k: int
    locate: Locate | None = None
    profile: str | None = None  # the model profile that chose whether the model words the summary (trace)
    judge: bool = False  # the model judges sentences the cheap checks cannot settle (capable profiles)

    def summarize(
        self,
        source: str | None = None,
        focus: str | None = None,
        length: str = "medium",
        progress: ProgressCallback | None = None,
    ) -> Summary:
        """A cited summary of one document (`source`), of the corpus, or of what they say about `focus`."""
        started = time.perf_counter()
        length = _length(length)
        focus = (focus or "").strip() or None
        run = SummaryRun(
            documents=self.documents, retrieve=self.retrieve, encoder=self.encoder, llm=self.llm,
            context_tokens=self.context_tokens, top_k=self.top_k, locate=self.locate, progress=progress,
            profile=self.profile,
        )  # fmt: skip
        if self.judge and self.llm is not None:
            run.judge = run.timed_judge(self.llm)
        if focus is not None:
            return summarize_focus(run, focus, source, length, started)
        if source is not None:
            return summarize_document(run, source, length, started)
        return summarize_corpus(run, length, started)

    def stream(self, source: str | None = None, focus: str | None = None, length: str = "medium") -> Iterator[StreamEvent]:
        """The same summary as events: "progress" per map step, then "summary" (or "error"), then "done"."""
        events: queue.Queue[StreamEvent | None] = queue.Queue()

        def report(label: str, done: int, total: int) -> None:
            events.put(StreamEvent(event="progress", data={"label": label, "done": done, "total": total}))

        def work() -> None:
            try:
                events.put(StreamEvent(event="summary", data=self.summarize(source, focus, length, progress=report)))
            except Exception as exc:  # the stream must end with an event, not a dropped connection
                events.put(StreamEvent(event="error", data=error_data(exc)))
            finally:
                events.put(None)

        threading.Thread(target=work, name="citewise-summarize", daemon=True).start()
        while (event := events.get()) is not None:
            yield event
        yield StreamEvent(event="done")
