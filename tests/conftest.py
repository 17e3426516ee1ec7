"""Shared fixtures: paths to the repo, the shared corpora and datasets, isolated settings, and a news index.

Real components only: the fixtures open real Chroma indexes with the real embedding model. The news index is
built once per session; tests that change an index use the function-scoped `settings` (a fresh CITEWISE_HOME).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.config import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"  # third-party texts stay outside the repo (/work/shared)
NEWS_DIR = SHARED_DIR / "corpus" / "news"
EXAMPLES_DIR = REPO_ROOT / "examples"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED_DIR


@pytest.fixture(scope="session")
def news_dir() -> Path:
    assert NEWS_DIR.is_dir(), f"missing shared news corpus at {NEWS_DIR}"
    return NEWS_DIR


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES_DIR


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings with a fresh CITEWISE_HOME under tmp_path (also exported, for CLI subprocesses)."""
    home = tmp_path / "citewise-home"
    monkeypatch.setenv("CITEWISE_HOME", str(home))
    get_settings.cache_clear()
    yield Settings(home=home)
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def news_settings(tmp_path_factory: pytest.TempPathFactory, news_dir: Path) -> Settings:
    """Settings whose CITEWISE_HOME holds an index of ../shared/corpus/news (built once per session).

    Treat it as read-only: tests that ingest or remove documents use `settings` instead.
    """
    from index.corpus import Corpus

    home = tmp_path_factory.mktemp("news-index") / "citewise-home"
    settings = Settings(home=home)
    corpus = Corpus.open(settings)
    try:
        report = corpus.ingest([news_dir])
    finally:
        corpus.close()
    assert not report.failed_paths and report.count("added") == 2, report
    return settings


@pytest.fixture(scope="session")
def news_corpus(news_settings: Settings) -> Iterator[object]:
    """An open `index.corpus.Corpus` over the session's news index (read-only use)."""
    from index.corpus import Corpus

    corpus = Corpus.open(news_settings)
    yield corpus
    corpus.close()
