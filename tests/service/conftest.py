"""Session fixtures for the answering tests: one embedded LLM and one engine over the news index.

The model is started once per test session (loading it and warming its prompt cache costs seconds) and
shared: `news_engine` owns it; tests that need another engine borrow it via `llm`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from index.embeddings import MiniLMEmbedder, get_embedder
from service.config import Settings
from service.engine import Engine
from service.llm import LLMClient

NEWS_A = "000_1ca178c960a0782e.txt"  # Washington Post-based: casualty figures, ATACMS, Sahel
NEWS_B = "001_846b2a5c2ae0efae.txt"  # CNN-based: policy history, June 2022 pledge, anti-tank mines


def one_thread(base: Settings) -> Settings:
    """`base` with the model on one thread: the CI cores are shared, and llama.cpp's threads wait on each
    other — measured here under load, one thread answered in 0.9 s where two took 9-50 s."""
    return base.model_copy(update={"llm_threads": 1})


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    return get_embedder()


@pytest.fixture(scope="session")
def news_engine(news_settings: Settings) -> Iterator[Engine]:
    """An engine over the session's news index, with the embedded model (started on first use)."""
    with Engine(one_thread(news_settings)) as engine:
        yield engine


@pytest.fixture(scope="session")
def llm(news_engine: Engine) -> LLMClient:
    """The session's one LLM client (embedded unless CITEWISE_LLM_BASE_URL points elsewhere)."""
    return news_engine.llm
