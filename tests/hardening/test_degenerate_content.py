"""Junk beside real documents: a 5 MB one-character line, a 2 MB base64 blob, a 50k-line CSV and a minified 1 MB
JSON file next to the news articles. The low-information files are refused at ingest with a reason, the CSV (real
tabular data) is indexed, every news answer is exactly what it was without them, and no junk chunk reaches the
top three search hits.

.csv and .json are not ingested at all (unsupported types), so the CSV and the JSON are saved as .txt, the way
exports often are. One engine with the real embedding model and the embedded LLM: the news corpus is ingested once, its answers
recorded, then the junk is ingested into the same index and the answers compared.
"""

from __future__ import annotations

import base64
import json
import random
import shutil
from pathlib import Path

import pytest

from service.config import Settings
from service.engine import Engine

QUESTIONS = [
    "Which treaty bans antipersonnel mines?",
    "Which newspaper reported that the U.S. will provide nonpersistent antipersonnel mines to Ukraine?",
    "When did the war between Russia and Ukraine begin?",
]
REFUSED = {"one-char-5mb.txt", "blob-2mb.txt", "minified-1mb.txt"}


def write_junk(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(17)
    (folder / "one-char-5mb.txt").write_bytes(b"a" * 5_000_000)
    (folder / "blob-2mb.txt").write_text(base64.encodebytes(rng.randbytes(1_500_000)).decode())  # 76-char lines
    cities = ["Lisbon", "Oslo", "Quito", "Perth", "Lagos", "Hanoi", "Tulsa", "Cork"]
    rows = ["id,city,amount,date"] + [
        f"{i},{rng.choice(cities)},{rng.randint(1, 99999) / 100:.2f},2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        for i in range(50_000)
    ]
    (folder / "table-50k.txt").write_text("\n".join(rows) + "\n")
    records, size = [], 0
    while size < 1_000_000:
        record = {"id": len(records), "name": f"item-{rng.getrandbits(32):08x}", "tags": ["a", "b"], "price": rng.random()}
        records.append(record)
        size += len(json.dumps(record, separators=(",", ":")))
    (folder / "minified-1mb.txt").write_text(json.dumps(records, separators=(",", ":")))


def answers(engine: Engine) -> list[tuple[dict, list]]:
    out = []
    for question in QUESTIONS:
        answer = engine.ask(question).model_dump(mode="json", exclude={"timings_ms", "trace"})
        # Spans, not scores: any added document shifts BM25's corpus statistics (IDF, mean length) a little.
        # The top 3 only: the news corpus has 9 chunks, so places 4-8 of k=8 are its weakest chunks, which a
        # CSV chunk may rightly outrank.
        hits = [(h.source, h.start_line, h.end_line) for h in engine.search(question, k=8).results[:3]]
        out.append((answer, hits))
    return out


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, news_dir: Path) -> Engine:
    root = tmp_path_factory.mktemp("degenerate")
    docs = root / "docs"
    shutil.copytree(news_dir, docs)
    with Engine(Settings(home=root / "home")) as engine:
        report = engine.ingest([docs])
        assert report.count("added") == 2, report
        engine.docs_dir = docs  # type: ignore[attr-defined]
        yield engine


@pytest.mark.slow
@pytest.mark.timeout(1800)  # embedding the CSV's ~1,700 chunks: about a minute idle, far longer on a loaded machine
def test_junk_files_leave_every_news_answer_unchanged(engine: Engine) -> None:
    before = answers(engine)
    assert not before[0][0]["refused"], before[0][0]
    junk = engine.docs_dir / "junk"  # type: ignore[attr-defined]
    write_junk(junk)
    report = engine.ingest([junk])
    outcomes = {f.source: (f.outcome, f.reason or "") for f in report.files}
    for name in REFUSED:
        outcome, reason = outcomes[name]
        assert outcome == "failed" and reason.startswith("low-information text"), (name, outcome, reason)
    assert outcomes["table-50k.txt"][0] == "added", outcomes
    sources = {d.source for d in engine.list_documents()}
    assert "table-50k.txt" in sources and not sources & REFUSED
    after = answers(engine)
    for question, (answer, hits), (answer_before, hits_before) in zip(QUESTIONS, after, before):
        assert answer == answer_before, question
        # The same news chunks lead (their order may shift: the CSV's long chunks move BM25's mean length).
        assert {h[0] for h in hits} <= {h[0] for h in hits_before}, question  # news sources only
