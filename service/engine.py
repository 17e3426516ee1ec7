"""The one object the CLI, the HTTP API and the eval runner hold: every user-facing operation is a method here.

The engine owns the external systems (the index: Chroma + manifest + BM25; the LLM server) and opens them
lazily, so `citewise docs list` never starts a model and `citewise search` never loads one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from index.records import DocumentRecord, IngestReport
from service.config import Settings
from service.schemas import Answer, ChatMessage, SearchResponse, StreamEvent, Summary

if TYPE_CHECKING:
    from index.corpus import Corpus
    from service.llm import LLMClient

ProgressCallback = Callable[[str, int, int], None]  # (label, done, total)


class Engine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._corpus: Corpus | None = None
        self._llm: LLMClient | None = None

    # --- external systems, opened on first use -------------------------------------------------
    @property
    def corpus(self) -> "Corpus":
        if self._corpus is None:
            from index.corpus import Corpus

            self._corpus = Corpus.open(self.settings)
        return self._corpus

    @property
    def llm(self) -> "LLMClient":
        if self._llm is None:
            from service.llm import LLMClient

            self._llm = LLMClient.start(self.settings)
        return self._llm

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
        if self._corpus is not None:
            self._corpus.close()
            self._corpus = None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- documents (write path) ----------------------------------------------------------------
    def ingest(
        self, paths: Sequence[Path], prune: bool = False, progress: ProgressCallback | None = None
    ) -> IngestReport:
        return self.corpus.ingest(list(paths), prune=prune, progress=progress)

    def list_documents(self) -> list[DocumentRecord]:
        return self.corpus.list_documents()

    def remove_documents(self, sources: Sequence[str]) -> list[str]:
        return self.corpus.remove(list(sources))

    def document_text(self, source: str) -> str:
        return self.corpus.text(source)

    # --- questions (read path) -----------------------------------------------------------------
    def search(self, query: str, k: int | None = None) -> SearchResponse:
        from service.pipeline.retrieval import search

        return search(self.corpus, query, k or self.settings.top_k)

    def ask(self, question: str, history: Sequence[ChatMessage] = (), k: int | None = None) -> Answer:
        from service.pipeline.answering import answer_question

        return answer_question(self, question, list(history), k)

    def ask_stream(
        self, question: str, history: Sequence[ChatMessage] = (), k: int | None = None
    ) -> Iterator[StreamEvent]:
        from service.pipeline.answering import answer_question_stream

        return answer_question_stream(self, question, list(history), k)

    def summarize(
        self,
        source: str | None = None,
        focus: str | None = None,
        length: str = "medium",
        progress: ProgressCallback | None = None,
    ) -> Summary:
        from service.pipeline.summaries.summarize import summarize

        return summarize(self, source=source, focus=focus, length=length, progress=progress)

    def summarize_stream(
        self, source: str | None = None, focus: str | None = None, length: str = "medium"
    ) -> Iterator[StreamEvent]:
        from service.pipeline.summaries.summarize import summarize_stream

        return summarize_stream(self, source=source, focus=focus, length=length)
