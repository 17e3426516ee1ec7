"""Eval suites: the YAML format (hand-written questions with expected facts and sources), loaded and validated.

Every validation error names the suite file and the line it comes from, because suites are edited by hand and a
wrong `sources:` entry would otherwise silently score as a citation miss.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from service.errors import InvalidInput
from service.schemas import ChatMessage

# Aggregate metrics a `thresholds:` block may name. Latency and CEILING_METRICS thresholds are maxima; all others minima.
QUALITY_METRICS = (
    "fact_recall",
    "citation_precision",
    "citation_recall",
    "citation_support",
    "refusal_accuracy",
    "hit_at_k",
    "mrr",
    "pass_rate",
    "verifier_kept",
    "judge_faithfulness",
    "summary_fact_recall",
    "summary_citation_precision",
    "summary_citation_recall",
    "summary_citation_support",
    "differences_precision",
    "differences_recall",
    "answer_accuracy",
    "unanswerable_refused",
    "gold_source_cited",
    "support_recall",
)
# Rates where lower is better: their thresholds are maxima, and a rise beyond the tolerance is a regression.
CEILING_METRICS = ("answerable_refused", "quote_only")
LATENCY_METRICS = ("latency_p50_ms", "latency_p95_ms")
MAXIMUM_METRICS = CEILING_METRICS + LATENCY_METRICS  # thresholds on these are maxima; all others are minima
THRESHOLD_METRICS = QUALITY_METRICS + CEILING_METRICS + LATENCY_METRICS


class SuiteError(InvalidInput):
    """A suite file that cannot be used: the message is `FILE:LINE: what is wrong`."""


Fact = list[str]  # alternatives: any one found in the answer counts


def _as_alternatives(value: Any) -> Any:
    """`facts: ["Ottawa", ["not signed", "has not signed"]]`: a bare string is a fact with one alternative."""
    if isinstance(value, list):
        return [[item] if isinstance(item, str) else item for item in value]
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Question(_Strict):
    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    facts: list[Fact] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    answerable: bool = True
    history: list[ChatMessage] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    _facts = field_validator("facts", mode="before")(_as_alternatives)

    @field_validator("facts")
    @classmethod
    def _no_empty_fact(cls, facts: list[Fact]) -> list[Fact]:
        for fact in facts:
            if not fact or any(not alt.strip() for alt in fact):
                raise ValueError("a fact needs at least one non-empty alternative")
        return facts

    @model_validator(mode="after")
    def _expectations_match_answerability(self) -> Question:
        if self.answerable:
            if not self.facts:
                raise ValueError("an answerable question needs `facts` (or set `answerable: false`)")
            if not self.sources:
                raise ValueError("an answerable question needs `sources`")
        elif self.facts:
            raise ValueError("an unanswerable question (`answerable: false`) cannot have `facts`")
        return self


class SummaryCase(_Strict):
    id: str = Field(min_length=1)
    source: str | None = None  # one document; None summarizes the whole corpus
    focus: str | None = None
    length: Literal["short", "medium", "long"] = "medium"
    facts: list[Fact] = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)
    # The documents' real disagreements, each [side A fact, side B fact]; [] says they have none.
    differences: list[tuple[Fact, Fact]] | None = None

    _facts = field_validator("facts", mode="before")(_as_alternatives)

    @field_validator("differences", mode="before")
    @classmethod
    def _pairs_of_alternatives(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_as_alternatives(pair) for pair in value]
        return value


class Suite(_Strict):
    name: str | None = None
    docs: str = Field(min_length=1)  # relative to the suite file
    questions: list[Question] = Field(default_factory=list)
    summaries: list[SummaryCase] = Field(default_factory=list)
    thresholds: dict[str, float] = Field(default_factory=dict)

    # Set by `load_suite`, never by the YAML.
    _path: Path | None = PrivateAttr(default=None)
    _docs_dir: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The suite file."""
        return self._path

    @property
    def docs_dir(self) -> Path | None:
        """The resolved documents folder (the suite's `docs:` or the --docs override)."""
        return self._docs_dir

    @field_validator("thresholds")
    @classmethod
    def _known_metrics(cls, thresholds: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(thresholds) - set(THRESHOLD_METRICS))
        if unknown:
            raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(THRESHOLD_METRICS)}")
        return thresholds

    @property
    def title(self) -> str:
        return self.name or (self.path.stem if self.path else "suite")


# --- YAML with line numbers -----------------------------------------------------------------------


class _LineDict(dict):
    """A mapping from the YAML that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _LineList(list):
    line: int = 0
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry 1-based line numbers; duplicate keys are errors."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> _LineDict:
        self.flatten_mapping(node)
        result = _LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in result:
                raise _DuplicateKey(key, key_node.start_mark.line + 1)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> _LineList:
        result = _LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineLoader.construct_sequence)


class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.line = line


def _line_of(data: Any, loc: tuple[int | str, ...]) -> int:
    """The line of the deepest YAML node on the path `loc` (a pydantic error location)."""
    line = getattr(data, "line", 1)
    node = data
    for part in loc:
        if isinstance(node, _LineDict) and part in node:
            line = node.key_lines.get(part, line)  # type: ignore[arg-type]
            node = node[part]
        elif isinstance(node, _LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break  # a missing field: the line of the mapping that lacks it
    return line


def _describe(error: ErrorDetails) -> str:
    loc = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key {loc.rsplit('.', 1)[-1]!r} (at {loc})"
    if error["type"] == "missing":
        return f"missing field {loc.rsplit('.', 1)[-1]!r} (at {loc})"
    message = error["msg"].removeprefix("Value error, ")
    return f"{message} (at {loc})" if loc else message


def _fail(path: Path, line: int, message: str) -> SuiteError:
    return SuiteError(f"{path}:{line}: {message}")


def _source_files(docs_dir: Path) -> set[str]:
    """Document sources as ingestion names them: paths relative to the docs folder, with '/' separators."""
    return {p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*") if p.is_file()}


def load_suite(path: Path, docs: Path | None = None) -> Suite:
    """Read and validate a suite file; `docs` overrides the suite's `docs:` folder. Raises SuiteError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SuiteError(f"{path}: cannot read suite: {e.strerror or e}") from None
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as e:
        raise _fail(path, e.line, str(e)) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise _fail(path, line, f"invalid YAML: {getattr(e, 'problem', None) or e}") from None
    if not isinstance(data, _LineDict):
        raise _fail(path, 1, "a suite is a mapping with `docs:` and `questions:`")

    thresholds = data.get("thresholds")
    if isinstance(thresholds, _LineDict):
        for metric in thresholds:
            if metric not in THRESHOLD_METRICS:
                known = ", ".join(THRESHOLD_METRICS)
                raise _fail(path, thresholds.key_lines[metric], f"unknown metric {metric!r} in thresholds; known: {known}")
    if docs is not None:
        data["docs"] = str(docs)
    try:
        suite = Suite.model_validate(dict(data))
    except ValidationError as e:
        first = e.errors()[0]
        more = f" (and {e.error_count() - 1} more error(s))" if e.error_count() > 1 else ""
        raise _fail(path, _line_of(data, tuple(first["loc"])), _describe(first) + more) from None

    docs_dir = Path(docs) if docs is not None else (path.parent / suite.docs)
    docs_dir = docs_dir.resolve()
    if not docs_dir.is_dir():
        line = data.key_lines.get("docs", 1)
        raise _fail(path, line, f"docs folder {str(docs_dir)!r} does not exist")
    suite._path, suite._docs_dir = path, docs_dir

    _check_ids_and_sources(path, data, suite, _source_files(docs_dir))
    if not suite.questions and not suite.summaries:
        raise _fail(path, data.line, "the suite has no `questions:` (or `summaries:`)")
    return suite


def _check_ids_and_sources(path: Path, data: _LineDict, suite: Suite, files: set[str]) -> None:
    seen: dict[str, int] = {}
    sections: tuple[tuple[str, Sequence[Question | SummaryCase]], ...] = (
        ("questions", suite.questions), ("summaries", suite.summaries)
    )
    for section, cases in sections:
        for index, case in enumerate(cases):
            item = data[section][index]
            line = data[section].item_lines[index]
            id_line = item.key_lines.get("id", line)
            if case.id in seen:
                raise _fail(path, id_line, f"duplicate id {case.id!r} (first used on line {seen[case.id]})")
            seen[case.id] = id_line
            named = list(case.sources)
            if isinstance(case, SummaryCase) and case.source:
                named.append(case.source)
            for source in named:
                if source not in files:
                    src_line = _line_of(data, (section, index, "sources"))
                    if isinstance(case, SummaryCase) and source == case.source and source not in case.sources:
                        src_line = item.key_lines.get("source", line)
                    elif "sources" in item:
                        sources_node = item["sources"]
                        if isinstance(sources_node, _LineList) and source in sources_node:
                            src_line = sources_node.item_lines[sources_node.index(source)]
                    raise _fail(
                        path, src_line, f"{case.id}: source {source!r} names no file in {suite.docs_dir}"
                    )
