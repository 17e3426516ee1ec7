"""Suite validation: every mistake is reported with the suite file and the line it is on."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from evals.suite import SuiteError, load_suite

NEWS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "news"
A, B = "000_1ca178c960a0782e.txt", "001_846b2a5c2ae0efae.txt"


def write(tmp_path: Path, body: str, docs: Path = NEWS) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(f"docs: {docs}\n" + textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    return str(info.value)


def test_valid_suite_loads_with_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
        name: news
        questions:
          - id: treaty
            question: Which treaty bans antipersonnel mines?
            facts: [["Ottawa"], "not signed"]
            sources: [{B}]
            tags: [lookup]
          - id: followup
            question: And when?
            facts: [["June 2022"]]
            sources: [{B}]
            history:
              - {{role: user, content: "What did Biden pledge?"}}
              - {{role: assistant, content: To limit anti-personnel mines.}}
          - id: absent
            question: How many mines will be shipped?
            answerable: false
        thresholds: {{fact_recall: 0.5, latency_p95_ms: 30000}}
    """)
    suite = load_suite(path)
    assert suite.title == "news"
    assert suite.docs_dir == NEWS.resolve()
    assert [q.id for q in suite.questions] == ["treaty", "followup", "absent"]
    assert suite.questions[0].facts == [["Ottawa"], ["not signed"]]  # a bare string is one alternative
    assert suite.questions[1].history[0].role == "user"
    assert suite.questions[2].answerable is False and suite.questions[2].facts == []
    assert suite.thresholds["fact_recall"] == 0.5


def test_docs_is_relative_to_the_suite_file_and_overridable(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("x\n")
    path = tmp_path / "s.yaml"
    path.write_text("docs: corpus\nquestions:\n  - {id: q, question: x, facts: [x], sources: [a.txt]}\n")
    assert load_suite(path).docs_dir == (tmp_path / "corpus").resolve()
    with pytest.raises(SuiteError, match=r"s\.yaml:\d+: q: source 'a\.txt' names no file"):
        load_suite(path, docs=NEWS)


def test_unknown_key_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
        questions:
          - id: q1
            question: Which treaty?
            facts: [[Ottawa]]
            sources: [{B}]
            colour: red
    """)
    assert error_of(path) == f"{path}:7: unknown key 'colour' (at questions.0.colour)"


def test_missing_field_names_the_item_line(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
        questions:
          - id: q1
            question: Which treaty?
            facts: [[Ottawa]]
            sources: [{B}]
          - id: q2
            facts: [[x]]
            sources: [{B}]
    """)
    assert error_of(path) == f"{path}:7: missing field 'question' (at questions.1.question)"


def test_source_naming_no_file_points_at_that_entry(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
        questions:
          - id: q1
            question: Which treaty?
            facts: [[Ottawa]]
            sources:
              - {A}
              - 002_missing.txt
    """)
    message = error_of(path)
    assert message.startswith(f"{path}:8: q1: source '002_missing.txt' names no file in ")


def test_duplicate_ids_name_the_second_line(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
        questions:
          - id: same
            question: One?
            facts: [[x]]
            sources: [{A}]
          - id: same
            question: Two?
            answerable: false
    """)
    assert error_of(path) == f"{path}:7: duplicate id 'same' (first used on line 3)"


def test_answerable_question_needs_facts_and_unanswerable_cannot_have_them(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
        questions:
          - id: q1
            question: Which treaty?
            sources: [{A}]
    """)
    assert "needs `facts`" in error_of(path) and f"{path}:3:" in error_of(path)
    path = write(tmp_path, """
        questions:
          - id: q1
            question: How many mines?
            answerable: false
            facts: [["12"]]
    """)
    assert f"{path}:3: an unanswerable question" in error_of(path)


def test_wrong_types_and_bad_history_role(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
        questions:
          - id: q1
            question: Which?
            facts: [[x]]
            sources: [{A}]
            history:
              - {{role: robot, content: hi}}
    """)
    assert error_of(path).startswith(f"{path}:8: ")
    path = write(tmp_path, f"""
        questions:
          - id: q1
            question: Which?
            facts: [[x]]
            sources: [{A}]
            answerable: maybe
    """)
    assert error_of(path).startswith(f"{path}:7: ")


def test_duplicate_yaml_key_yaml_syntax_and_unknown_threshold(tmp_path: Path) -> None:
    path = write(tmp_path, """
        questions:
          - id: q1
            id: q2
            question: x
    """)
    assert error_of(path) == f"{path}:4: duplicate key 'id'"
    path = write(tmp_path, "questions: [\n")
    assert error_of(path).startswith(f"{path}:") and "invalid YAML" in error_of(path)
    path = write(tmp_path, f"""
        questions:
          - {{id: q, question: x, facts: [x], sources: [{A}]}}
        thresholds:
          recall: 0.5
    """)
    assert error_of(path).startswith(f"{path}:5: unknown metric 'recall' in thresholds")


def test_missing_docs_folder_and_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, "questions: []\n", docs=tmp_path / "nowhere")
    assert error_of(path).startswith(f"{path}:1: docs folder")
    with pytest.raises(SuiteError, match="cannot read suite"):
        load_suite(tmp_path / "absent.yaml")


def test_summary_cases_validate_their_source(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
        summaries:
          - id: s1
            source: {A}
            focus: landmines
            facts: [[Ottawa]]
            sources: [{A}]
          - id: s2
            source: nope.txt
            facts: [[x]]
    """)
    assert error_of(path) == f"{path}:9: s2: source 'nope.txt' names no file in {NEWS.resolve()}"


def test_summary_differences_are_pairs_of_facts(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("The battery lasts 8 hours.", encoding="utf-8")
    path = tmp_path / "s.yaml"
    case = "  - id: s1\n    facts: [battery]\n    differences:\n      - [\"8 hours\", [\"12 hours\", \"twelve hours\"]]\n"
    path.write_text("docs: docs\nsummaries:\n" + case, encoding="utf-8")
    suite = load_suite(path)
    assert suite.summaries[0].differences == [(["8 hours"], ["12 hours", "twelve hours"])]
    path.write_text("docs: docs\nsummaries:\n" + case.replace('["8 hours", ', '["8 hours", "9 hours", '), encoding="utf-8")
    with pytest.raises(SuiteError, match=r"s\.yaml:\d+"):
        load_suite(path)
