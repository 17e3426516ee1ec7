"""The small interfaces the pipelines need from the outside world. The engine passes real ones in (the corpus,
the LangChain retriever, the embedding model, the LLM client); the pipelines never import the engine."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Protocol

from index.locations import Location
from index.records import Chunk, DocumentRecord
from service.schemas import SearchHit, TokenUsage

if TYPE_CHECKING:  # types only: the LLM client module imports openai and LangChain (seconds `--help` need not pay)
    import numpy as np

    from service.llm import Message

ProgressCallback = Callable[[str, int, int], None]  # (label, done, total)
TextOf = Callable[[str], str]  # a document's extracted text by source (UnknownSource if there is none)


Locate = Callable[[str, int, int], Location]  # (source, start_line, end_line) → where that is in the original file


class Encoder(Protocol):
    """Unit-length sentence embeddings (the index's embedding model)."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


class Retrieve(Protocol):
    """Hybrid retrieval: the best `k` chunks for `query`, best first."""

    def __call__(self, query: str, k: int) -> list[SearchHit]: ...


class ChatModel(Protocol):
    """An OpenAI-compatible chat model (service.llm.LLMClient); `usage`, when given, is added the server's counts."""

    @property
    def model_name(self) -> str: ...

    def complete(
        self, messages: Sequence[Message], max_tokens: int | None = None, usage: TokenUsage | None = None
    ) -> str: ...

    def stream(
        self, messages: Sequence[Message], max_tokens: int | None = None, usage: TokenUsage | None = None
    ) -> Generator[str, None, None]: ...


class DocumentSource(Protocol):
    """What summaries read of the index: the documents, their chunks and their extracted texts."""

    def list_documents(self) -> list[DocumentRecord]: ...

    def chunks_for(self, source: str) -> list[Chunk]: ...

    def text(self, source: str) -> str: ...
