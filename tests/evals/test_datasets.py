"""The dataset readers on the real shared files: counts, gold sources that map back to written files whose text
holds the gold answer, unanswerable flags, and the deterministic dev/test split and sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.datasets import (
    hotpot_file_name,
    load_dataset,
    load_hotpotqa,
    load_realtimeqa,
    load_squad2,
    select_cases,
    split_of,
)
from service.errors import InvalidInput

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
RTQA = DATASETS / "realtimeqa"
SQUAD = DATASETS / "squad2" / "dev_articles_odd.json"
HOTPOT = DATASETS / "hotpotqa" / "train100.json"


@pytest.fixture(scope="module")
def realtimeqa():
    return load_realtimeqa(RTQA)


@pytest.fixture(scope="module")
def squad():
    return load_squad2(SQUAD)


@pytest.fixture(scope="module")
def hotpot():
    return load_hotpotqa(HOTPOT)


def written(dataset, tmp_path: Path) -> dict[str, str]:
    folder = dataset.write(tmp_path / dataset.name)
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.is_file()}


def test_realtimeqa_counts_and_gold_articles(realtimeqa, tmp_path: Path) -> None:
    assert (len(realtimeqa.documents), len(realtimeqa.cases)) == (106, 102)
    assert all(c.sources for c in realtimeqa.cases) and all(c.answers for c in realtimeqa.cases if c.answerable)
    # 8 gold "articles" were scraped as a video-ad feedback form: their 7 questions cannot be answered from them
    empty = [c for c in realtimeqa.cases if not c.answerable]
    assert len(empty) == 7 and all("quiz answer: Walmart" in c.tags for c in empty if "slashing prices" in c.question)
    assert not any(c.answers for c in empty) and any("slashing prices" in c.question for c in empty)
    files = written(realtimeqa, tmp_path)
    assert len(files) == 106
    raw = {json.loads(line)["doc_id"]: json.loads(line)["text"] for line in (RTQA / "corpus_dev.jsonl").open()}
    first = realtimeqa.cases[0]
    assert first.id == "20220617_0" and first.answers == ["“Squid Game”"]
    assert first.sources == ["rtqa-5b14cd16b6fe.txt"]
    assert files["rtqa-5b14cd16b6fe.txt"] == raw["rtqa-5b14cd16b6fe"]
    for case in realtimeqa.cases:  # every gold source is a written file: a gold citation can be recognised
        assert set(case.sources) <= set(files), case.id
    assert sum(len(c.sources) > 1 for c in realtimeqa.cases) == 12  # questions with several gold articles


def test_squad2_whole_articles_and_unanswerables(squad, tmp_path: Path) -> None:
    assert len(squad.documents) == 8 and len(squad.cases) == 3250
    unanswerable = [c for c in squad.cases if not c.answerable]
    assert len(unanswerable) == 1639 and all(not c.answers for c in unanswerable)
    files = written(squad, tmp_path)
    assert sorted(files) == sorted(d.name for d in squad.documents)
    assert files["01_Computational_complexity_theory.txt"].startswith("Computational complexity theory\n\n")
    for case in squad.cases:
        assert len(case.sources) == 1 and case.sources[0] in files
        if case.answerable:  # the gold span is in the article the case names (so the mapping is right)
            assert case.answers and any(a in files[case.sources[0]] for a in case.answers), case.id


def test_hotpotqa_one_file_per_paragraph_and_supporting_sources(hotpot, tmp_path: Path) -> None:
    assert len(hotpot.documents) == 994 and len(hotpot.cases) == 100 and hotpot.support_recall
    files = written(hotpot, tmp_path)
    assert len(files) == 994
    raw = {r["_id"]: r for r in json.loads(HOTPOT.read_text(encoding="utf-8"))}
    for case in hotpot.cases:
        record = raw[case.id]
        titles = list(dict.fromkeys(t for t, _ in record["supporting_facts"]))
        assert case.sources == [hotpot_file_name(t) for t in titles] and len(case.sources) == 2
        context = dict((t, s) for t, s in record["context"])
        for title, index in record["supporting_facts"]:
            text = files[hotpot_file_name(title)]
            assert text.splitlines()[0] == title
            if index < len(context[title]):  # a few supporting facts point past the paragraph's end upstream
                assert context[title][index].strip() in text
        assert case.answers == [record["answer"]]
    assert hotpot_file_name("Arthur? Arthur!") != hotpot_file_name("Arthur! Arthur?")


def test_split_is_a_partition_and_the_sample_is_deterministic_and_nested(squad) -> None:
    dev, test = select_cases(squad.cases, "dev"), select_cases(squad.cases, "test")
    assert len(dev) + len(test) == len(squad.cases)
    assert not {c.id for c in dev} & {c.id for c in test}
    assert all(split_of(c.id) == "dev" for c in dev)
    thirty = select_cases(squad.cases, "dev", 30)
    assert [c.id for c in thirty] == [c.id for c in select_cases(squad.cases, "dev", 30)]
    assert len(thirty) == 30 and {c.id for c in select_cases(squad.cases, "dev", 20)} <= {c.id for c in thirty}
    assert 8 <= sum(not c.answerable for c in thirty) <= 22  # a sample, not the first article's questions
    assert len({c.sources[0] for c in thirty}) > 3
    with pytest.raises(InvalidInput):
        select_cases(squad.cases, "train")


def test_bad_paths_and_formats_are_one_readable_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="use one of"):
        load_dataset("nq", SQUAD)
    with pytest.raises(InvalidInput, match="no such file"):
        load_squad2(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match="invalid JSON"):
        load_hotpotqa(bad)
    (tmp_path / "questions_dev.jsonl").write_text('{"question_id": "x"}\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="corpus_dev.jsonl"):
        load_realtimeqa(tmp_path)
    (tmp_path / "corpus_dev.jsonl").write_text('{"doc_id": "d", "text": "t"}\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="missing field"):
        load_realtimeqa(tmp_path)
