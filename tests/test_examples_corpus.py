"""Guards for the hand-written content: the sample corpus in examples/ and the two eval suites over it and the news.

The suites are acceptance tests, so a typo in a fact or a source name would silently cost points forever. Here every
fact of every answerable question (and summary case) must occur in the text the ingest extracts from one of its
expected source files, and the generated .pdf/.docx must be readable by the libraries the loaders use.
"""

from __future__ import annotations

import importlib.util
import io
import re
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from evals.scorers import fact_found, normalize
from evals.suite import load_suite
from index.loaders import discover, extract_text

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SUITES = REPO / "evals" / "suites"
SUITE_FILES = ["news.yaml", "examples.yaml", "products.yaml"]
TAGS = {"lookup", "number", "date", "cross-doc", "emphasis", "unanswerable", "follow-up", "disagreement"}
CORPUS = {
    "project-overview.md",
    "board-minutes-2025-01-14.txt",
    "budget-memo-2025-02-03.txt",
    "customer-faq.html",
    "generated/inspection-report.pdf",
    "generated/contractor-letter.docx",
}


def _load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_examples", EXAMPLES.parent / "evals" / "build_examples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    module = _load_builder()
    module.build_all()  # what `make examples` does; the examples suite names these files
    return module


def _suite(name: str) -> tuple[dict, Path]:
    path = SUITES / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data, (path.parent / data["docs"]).resolve()


@pytest.fixture(scope="module")
def texts(builder: ModuleType) -> dict[Path, str]:
    """Extracted text per file, as the ingest sees it (cached across tests)."""
    return {}


def _text(cache: dict[Path, str], path: Path) -> str:
    if path not in cache:
        cache[path] = extract_text(path, path.read_bytes())
    return cache[path]


def _squash(text: str) -> str:
    return " ".join(text.split())


# --- the generated binary documents ---------------------------------------------------------------


def test_pdf_has_the_report_text(builder: ModuleType) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(builder.build_pdf()))
    text = _squash("\n".join(page.extract_text() for page in reader.pages))
    assert builder.INSPECTION_REPORT_TITLE in text
    for paragraph in builder.INSPECTION_REPORT_PARAGRAPHS:
        assert _squash(paragraph) in text


def test_docx_has_the_letter_paragraphs(builder: ModuleType) -> None:
    from docx import Document

    document = Document(io.BytesIO(builder.build_docx()))
    assert [p.text for p in document.paragraphs] == builder.CONTRACTOR_LETTER_PARAGRAPHS


def test_build_is_deterministic_and_skips_current_files(builder: ModuleType, tmp_path: Path) -> None:
    first = builder.build_all(tmp_path)
    assert all(first.values())
    snapshot = {path: path.read_bytes() for path in first}
    assert not any(builder.build_all(tmp_path).values())  # current: nothing rewritten
    assert not any(builder.build_all(tmp_path, force=True).values())  # rebuilt: byte-identical
    assert {path: path.read_bytes() for path in first} == snapshot
    (tmp_path / builder.PDF_NAME).write_bytes(b"stale")
    assert builder.build_all(tmp_path) == {tmp_path / builder.PDF_NAME: True, tmp_path / builder.DOCX_NAME: False}


# --- the corpus -----------------------------------------------------------------------------------------


def test_examples_folder_ingests_exactly_the_corpus(builder: ModuleType, texts: dict[Path, str]) -> None:
    found = discover([EXAMPLES])
    assert {c.source for c in found.candidates} == CORPUS
    for candidate in found.candidates:
        words = len(_text(texts, candidate.path).split())
        assert 150 <= words <= 600, f"{candidate.source}: {words} words"


def test_the_deliberate_disagreement_is_there(builder: ModuleType, texts: dict[Path, str]) -> None:
    minutes = _text(texts, EXAMPLES / "board-minutes-2025-01-14.txt")
    letter = _text(texts, EXAMPLES / "generated/contractor-letter.docx")
    assert "$5,940,000" in minutes and "$5,490,000" not in minutes
    assert "$5,490,000" in letter and "$5,940,000" not in letter


# --- the suites ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SUITE_FILES)
def test_suite_loads_with_the_validator(builder: ModuleType, name: str) -> None:
    suite = load_suite(SUITES / name)
    assert suite.thresholds


@pytest.mark.parametrize("name", SUITE_FILES)
def test_every_source_names_an_existing_file(builder: ModuleType, name: str) -> None:
    data, docs = _suite(name)
    for case in data.get("questions", []) + data.get("summaries", []):
        named = list(case.get("sources", [])) + ([case["source"]] if case.get("source") else [])
        for source in named:
            assert "\\" not in source and not source.startswith("/"), f"{case['id']}: {source!r}"
            assert (docs / source).is_file(), f"{case['id']}: {source!r} is not a file in {docs}"


@pytest.mark.parametrize("name", SUITE_FILES)
def test_every_fact_occurs_in_an_expected_source(builder: ModuleType, texts: dict[Path, str], name: str) -> None:
    data, docs = _suite(name)
    problems = []
    for case in data.get("questions", []) + data.get("summaries", []):
        if case.get("answerable", True) is False:
            continue
        sources = [case["source"]] if case.get("source") else case["sources"]
        source_texts = [_text(texts, docs / source) for source in sources]
        for fact in case["facts"]:
            if not any(fact_found(fact, text) for text in source_texts):
                problems.append(f"{case['id']}: none of {fact} occurs in {sources}")
        for side_a, side_b in case.get("differences") or []:  # the two sides of a labelled disagreement
            with_a = {i for i, text in enumerate(source_texts) if fact_found(side_a, text)}
            with_b = {i for i, text in enumerate(source_texts) if fact_found(side_b, text)}
            if not any(i != j for i in with_a for j in with_b):
                problems.append(f"{case['id']}: {side_a} / {side_b} are not stated by two different sources")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", SUITE_FILES)
def test_no_unlisted_file_holds_a_whole_answer(builder: ModuleType, texts: dict[Path, str], name: str) -> None:
    """A file that contains every fact of a question is a correct citation, so it must be among `sources`
    (otherwise citation precision would punish a right answer)."""
    data, docs = _suite(name)
    files = {c.source: c.path for c in discover([docs]).candidates}
    problems = []
    for case in data.get("questions", []):
        if not case.get("facts"):
            continue
        for source, path in files.items():
            if source not in case["sources"] and all(fact_found(f, _text(texts, path)) for f in case["facts"]):
                problems.append(f"{case['id']}: {source} holds every fact but is not in sources")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", SUITE_FILES)
def test_unanswerable_questions_have_no_facts_or_sources(name: str) -> None:
    data, _ = _suite(name)
    for case in data.get("questions", []):
        if case.get("answerable", True) is False:
            assert "facts" not in case and not case.get("sources"), case["id"]
            assert "unanswerable" in case["tags"], case["id"]


@pytest.mark.parametrize("name", SUITE_FILES)
def test_tags_and_shapes_are_consistent(name: str) -> None:
    data, _ = _suite(name)
    ids = [case["id"] for case in data.get("questions", []) + data.get("summaries", [])]
    assert len(ids) == len(set(ids))
    for case in data.get("questions", []):
        tags = set(case["tags"])
        assert tags and tags <= TAGS, f"{case['id']}: {tags - TAGS}"
        assert ("history" in case) == ("follow-up" in tags), case["id"]
        if "cross-doc" in tags:
            assert len(case["sources"]) >= 2, case["id"]
        for turn in case.get("history", []):
            assert set(turn) == {"role", "content"} and turn["role"] in {"user", "assistant"}, case["id"]
        for fact in case.get("facts", []):
            assert isinstance(fact, list) and fact and all(isinstance(alt, str) and alt for alt in fact)
            # an alternative that normalises to digits only must not be a tiny number matching anywhere
            assert all(not re.fullmatch(r"\d", normalize(alt)) for alt in fact), case["id"]


@pytest.mark.parametrize(
    ("name", "minimum_questions", "minimum_unanswerable"), [("news.yaml", 30, 6), ("examples.yaml", 15, 3)]
)
def test_suite_meets_the_issue_minimums(name: str, minimum_questions: int, minimum_unanswerable: int) -> None:
    data, _ = _suite(name)
    questions = data["questions"]
    tags = [set(q["tags"]) for q in questions]
    assert len(questions) >= minimum_questions
    assert sum("unanswerable" in t for t in tags) >= minimum_unanswerable
    assert sum("follow-up" in t for t in tags) >= 3
    assert sum("cross-doc" in t for t in tags) >= 3
    assert len(data["summaries"]) >= 5
    assert {"fact_recall", "citation_precision", "refusal_accuracy"} <= set(data["thresholds"])
