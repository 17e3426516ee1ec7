"""The composition root: the one object the CLI, the HTTP API, the MCP server and the eval runner hold.

The engine owns the external systems (the index: Chroma + manifest + BM25; the LLM server), opens them lazily
(so `citewise docs list` never starts a model and `citewise search` never loads one), and is the only place that
wires the pipelines: each receives exactly the collaborators it needs (retrieval, texts, the encoder, the model)
and never sees the engine itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from index.records import DocumentRecord, IngestReport
from service.config import Settings
from service.pipeline.ports import ProgressCallback
from service.profiles import ModelProfile, choose_profile
from service.schemas import (
    Answer,
    ChatMessage,
    LineMap,
    SearchHit,
    SearchResponse,
    StreamEvent,
    Summary,
)

if TYPE_CHECKING:
    from index.corpus import Corpus
    from service.llm import LLMClient
    from service.pipeline.answering import AnswerPipeline
    from service.pipeline.summaries.summarize import SummaryPipeline


class Engine:
    def __init__(self, settings: Settings, *, corpus: Corpus | None = None, llm: LLMClient | None = None) -> None:
        """`corpus` and `llm` may be given (borrowed: their owner closes them); otherwise they are opened on first use
        from `settings` and closed by `close()`."""
        self.settings = settings
        self._corpus: Corpus | None = corpus
        self._llm: LLMClient | None = llm
        self._owns_corpus, self._owns_llm = corpus is None, llm is None
        self._answers: AnswerPipeline | None = None
        self._profile: ModelProfile | None = None
        # a warm-up thread and the first question may open things at once; one lock each, so that the model can
        # start while the index opens (Engine.answers)
        self._opening_corpus = threading.Lock()
        self._opening_llm = threading.Lock()
        self._wiring = threading.Lock()  # one AnswerPipeline, also when warm-up and the first question race

    # --- external systems, opened on first use -------------------------------------------------
    @property
    def corpus(self) -> Corpus:
        if self._corpus is None:
            with self._opening_corpus:
                if self._corpus is None:
                    from index.corpus import Corpus

                    self._corpus = Corpus.open(self.settings)
        return self._corpus

    @property
    def llm(self) -> LLMClient:
        if self._llm is None:
            with self._opening_llm:
                if self._llm is None:
                    from service.llm import LLMClient

                    self._llm = LLMClient.start(self.settings)
        return self._llm

    def warm_up(self) -> None:
        """Open the index, load the embedding model and start the LLM now (`citewise chat` does this in the
        background while the user types). A failure is left for the first question to report."""
        try:
            self.answers()  # the index, the embedder and the model, started side by side
        except Exception:  # reported, in the user's context, by the question that needs it
            pass

    def open_index(self) -> None:
        """Open the index now (creating its tables if new) instead of on first use."""
        self.corpus  # noqa: B018 - the property opens it

    @property
    def llm_started(self) -> bool:
        return self._llm is not None

    def close(self) -> None:
        self._answers = self._profile = None
        if self._llm is not None and self._owns_llm:
            self._llm.close()
        if self._corpus is not None and self._owns_corpus:
            self._corpus.close()
        self._llm = self._corpus = None
        self._owns_corpus = self._owns_llm = True

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- wiring ---------------------------------------------------------------------------------
    def retrieve(self, query: str, k: int) -> list[SearchHit]:
        """Hybrid retrieval through the LangChain retriever (what the pipelines call)."""
        from service.pipeline.langchain_retriever import HybridRetriever, hits_from_documents

        return hits_from_documents(HybridRetriever(corpus=self.corpus, k=k).invoke(query))

    def answers(self) -> AnswerPipeline:
        with self._wiring:
            if self._answers is None:
                self._answers = self._answer_pipeline()
            return self._answers

    def _answer_pipeline(self) -> AnswerPipeline:
        from concurrent.futures import ThreadPoolExecutor

        from service.pipeline.answering import AnswerPipeline

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="citewise-llm-start") as pool:
            # the model starts while the index opens and the embedder loads: a cold `citewise ask` pays for the
            # longer of the two, not their sum (benchmark: make bench BENCH=cli)
            started = pool.submit(lambda: self.llm)
            corpus = self.corpus
            corpus.embedder.encode(["warm-up"])
            llm = started.result()  # a model that failed to start raises here, as before
        return AnswerPipeline(
            retrieve=self.retrieve,
            text_of=corpus.text,
            encoder=corpus.embedder,
            llm=llm,
            top_k=self.settings.top_k,
            evidence_max=self.settings.evidence_max,
            profile=self.profile(),
            answer_check=self.settings.answer_check,
            locate=corpus.locate,
            summarize=lambda source, focus: self.summarize(source=source, focus=focus),
            sources=lambda: [d.source for d in corpus.list_documents()],
        )

    def profile(self) -> ModelProfile:
        """The model profile answers run with: CITEWISE_LLM_PROFILE, else chosen from the model (service.profiles)."""
        if self._profile is None:
            llm = self.llm
            asked = not (self.settings.llm_profile or llm.embedded)  # the override, or our own model: no question
            served = llm.served_model() if asked else None
            self._profile = choose_profile(
                self.settings.llm_profile,
                embedded_model=self.settings.llm if llm.embedded else None,
                model_id=served.id if served else llm.model_name,
                context_tokens=served.context_tokens if served else None,
            )
        return self._profile

    def summary_profile(self) -> ModelProfile:
        """The profile summaries run with; for the embedded model known from the settings (no model is started)."""
        if self._profile is None and self.settings.uses_embedded_llm:
            return choose_profile(self.settings.llm_profile, embedded_model=self.settings.llm, model_id="")
        return self.profile()

    def summaries(self, extractive: bool = False) -> SummaryPipeline:
        """The summary pipeline; `extractive` leaves the model out (no model is started). A profile without
        synthesis (the tiny embedded model) quotes too: its rewording measured worse than the quoted sentences
        (Multi-News ROUGE, evals/bench_summaries.py) and costs ~15 s per summary."""
        from service.pipeline.summaries.summarize import SummaryPipeline

        corpus = self.corpus
        profile = self.summary_profile() if not extractive else None
        return SummaryPipeline(
            documents=corpus,
            retrieve=self.retrieve,
            encoder=corpus.embedder,
            llm=None if profile is None or not profile.synthesis else self.llm,
            profile=profile.name if profile is not None else None,
            judge=profile is not None and profile.judge,
            context_tokens=self.settings.llm_context_tokens,
            top_k=self.settings.top_k,
            locate=corpus.locate,
        )

    # --- documents (write path) ----------------------------------------------------------------
    def ingest(
        self, paths: Sequence[Path], prune: bool = False, progress: ProgressCallback | None = None
    ) -> IngestReport:
        return self.corpus.ingest(list(paths), prune=prune, progress=progress)

    def upload(self, files: Sequence[tuple[str | None, BinaryIO]], prefix: str | None = None) -> IngestReport:
        """Ingest uploaded files: (file name, binary stream) pairs, named `prefix/file name`."""
        return self.corpus.ingest_streams(files, prefix)

    def list_documents(self) -> list[DocumentRecord]:
        if self._corpus is None and not self.settings.chroma_url:
            # a listing is one read of the manifest: no Chroma client, no embedding model (`citewise docs list`)
            from index.manifest import Manifest

            manifest = Manifest(self.settings.manifest_path)
            try:
                return [r.record() for r in manifest.rows()]
            finally:
                manifest.close()
        return self.corpus.list_documents()

    def remove_documents(self, sources: Sequence[str]) -> list[str]:
        return self.corpus.remove(list(sources))

    def document_text(self, source: str) -> str:
        return self.corpus.text(source)

    def line_map(self, source: str) -> LineMap | None:
        """Where each extracted line of a document is in its original file (None when unknown)."""
        return self.corpus.line_map(source)

    # --- questions (read path) -----------------------------------------------------------------
    def search(self, query: str, k: int | None = None) -> SearchResponse:
        from service.pipeline.retrieval import search

        return search(self.corpus, query, k or self.settings.top_k)

    def ask(self, question: str, history: Sequence[ChatMessage] = (), k: int | None = None) -> Answer:
        return self.answers().answer(question, list(history), k)

    def ask_stream(
        self, question: str, history: Sequence[ChatMessage] = (), k: int | None = None
    ) -> Iterator[StreamEvent]:
        return self.answers().stream(question, list(history), k)

    def summarize(
        self,
        source: str | None = None,
        focus: str | None = None,
        length: str = "medium",
        progress: ProgressCallback | None = None,
        extractive: bool = False,
    ) -> Summary:
        return self.summaries(extractive).summarize(source=source, focus=focus, length=length, progress=progress)

    def summarize_stream(
        self, source: str | None = None, focus: str | None = None, length: str = "medium", extractive: bool = False
    ) -> Iterator[StreamEvent]:
        return self.summaries(extractive).stream(source=source, focus=focus, length=length)
