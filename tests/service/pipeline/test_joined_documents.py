"""A capable model's sentence that joins two documents stands only when the documents are linked — one names the
other's subject (its title) or both name someone — whatever the judge says (verifier.unlinked_documents), wired
through a real index, the real embedder and the answer pipeline's document titles."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from service.config import Settings
from service.engine import Engine
from service.profiles import PROFILES
from tests.service.pipeline.scripted import CitingModel

# Invented pages titled as encyclopaedia pages are; only the runner's page says which town she was born in, and
# neither town's census line names its town (the title does).
PAGES = {
    "Mira_Talen.txt": "Mira Talen\n\nMira Talen (born 2 June 1961) is a retired Australian race walker. "
    "She was born in Orrin Vale, Queensland.\n",
    "Orrin_Vale.txt": "Orrin Vale\n\nAt the 2011 Census the town had a population of 7,049.\n",
    "Pell_Creek.txt": "Pell Creek\n\nAt the 2011 Census the village had a population of 6,120.\n",
}
QUESTION = "What was the population at the 2011 Census of the town where Mira Talen was born?"


@pytest.fixture(scope="module")
def model() -> CitingModel:
    return CitingModel("", fact="")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, model: CitingModel) -> Iterator[Engine]:
    folder = tmp_path_factory.mktemp("towns")
    for name, text in PAGES.items():
        (folder / name).write_text(text, encoding="utf-8")
    engine = Engine(Settings(home=Path(tmp_path_factory.mktemp("towns-home")) / "citewise-home"), llm=model)
    engine.ingest([folder])
    try:
        yield engine
    finally:
        engine.close()


@pytest.mark.parametrize(("population", "town"), [("7,049", "Orrin_Vale.txt"), ("6,120", "Pell_Creek.txt")])
def test_a_join_stands_only_between_linked_documents(engine: Engine, model: CitingModel, population: str, town: str) -> None:
    """The draft cites the census line only; the verifier completes it with the runner's page when that page names
    the town the census line's title names (Orrin Vale), and drops it when it does not (Pell Creek) although the
    judge says yes to both."""
    model.sentence = f"The town where Mira Talen was born had a population of {population} at the 2011 Census"
    model.fact = population
    answer = replace(engine.answers(), profile=PROFILES["small"]).answer(QUESTION)
    joined = answer.answer.startswith(model.sentence)
    if town == "Orrin_Vale.txt":
        assert joined, answer.answer
        assert {c.source for c in answer.citations} == {"Mira_Talen.txt", town}, answer.citations
    else:
        assert not joined and population not in answer.answer.split("“")[0], answer.answer
        assert answer.trace.decisions[0].action == "dropped", answer.trace.decisions


def test_one_answer_reads_each_document_once(engine: Engine, model: CitingModel) -> None:
    """Evidence selection, passages, the second hop and the verifier's titles read the same few documents: one
    answer reads each of them once (it read the runner's page four times before)."""
    model.sentence = "The town where Mira Talen was born had a population of 7,049 at the 2011 Census"
    model.fact = "7,049"
    pipeline = replace(engine.answers(), profile=PROFILES["small"])
    reads: Counter[str] = Counter()

    def text_of(source: str) -> str:
        reads[source] += 1
        return pipeline.text_of(source)

    counted = replace(pipeline, text_of=text_of)
    assert counted.answer(QUESTION).answer.startswith(model.sentence)
    assert reads and max(reads.values()) == 1, reads
    reads.clear()
    list(counted.stream(QUESTION))
    assert reads and max(reads.values()) == 1, reads
