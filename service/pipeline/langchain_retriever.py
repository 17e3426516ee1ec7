"""`retrieve` as a LangChain retriever: what the answer and focus-summary chains retrieve through.

Apart from service/pipeline/retrieval.py so that `citewise search`, which needs no chain, does not load LangChain
(about 0.3 s of a cold start).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from service.pipeline.retrieval import Mode, retrieve
from service.schemas import SearchHit


class HybridRetriever(BaseRetriever):
    """`retrieve` as a LangChain retriever, so it composes with chains (documents carry the hit as metadata).

    The answer and focus-summary pipelines retrieve through it; `hits_from_documents` turns its documents back
    into `SearchHit`s, so anything that can be a LangChain retriever can stand in for it.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    corpus: Any  # index.corpus.Corpus (Any: pydantic need not know the type)
    k: int = 8
    mode: Mode = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(page_content=hit.text, metadata=hit.model_dump(exclude={"text"}), id=hit.chunk_id)
            for hit in retrieve(self.corpus, query, self.k, self.mode)
        ]


def hits_from_documents(documents: list[Document]) -> list[SearchHit]:
    """The `SearchHit`s a `HybridRetriever` returned as documents (text from page_content, the rest metadata)."""
    return [SearchHit(text=d.page_content, **d.metadata) for d in documents]

