"""The contract types: one set used by the CLI's --json, the HTTP API and the eval runner.

Shapes follow ../shared/docs/architecture.md ("Contract" sections); extra fields are allowed there.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# The index's own records are contract types too (`docs list --json`, ingest reports, upload results).
from index.locations import LineMap as LineMap
from index.records import DocumentRecord as DocumentRecord
from index.records import FileResult as FileResult
from index.records import IngestReport as IngestReport

# Where a span is in the original file (index.locations.Location): absent from the JSON when unknown.
_PAGE = "1-based PDF page of the span's first line (PDF only)."
_FILE_START = "1-based first line of the original file holding the span (txt, md, html)."
_FILE_END = "1-based last line of the original file holding the span (txt, md, html)."
_DOCX_PARAGRAPH = "1-based body paragraph of a .docx (python-docx: `Document.paragraphs[n - 1]`)."
_DOCX_TABLE = "1-based table of a .docx (`Document.tables[n - 1]`); with `docx_row`."
_DOCX_ROW = "1-based row within `docx_table`."


def _unknown(value: object) -> bool:
    return value is None


class SearchHit(BaseModel):
    source: str
    start_line: int
    end_line: int
    score: float
    text: str
    chunk_id: str | None = None
    dense_score: float | None = None  # cosine similarity, when the dense ranking found this chunk
    bm25_score: float | None = None  # BM25 score, when the lexical ranking found this chunk
    page: int | None = Field(default=None, exclude_if=_unknown, description=_PAGE)
    file_start_line: int | None = Field(default=None, exclude_if=_unknown, description=_FILE_START)
    file_end_line: int | None = Field(default=None, exclude_if=_unknown, description=_FILE_END)
    docx_paragraph: int | None = Field(default=None, exclude_if=_unknown, description=_DOCX_PARAGRAPH)
    docx_table: int | None = Field(default=None, exclude_if=_unknown, description=_DOCX_TABLE)
    docx_row: int | None = Field(default=None, exclude_if=_unknown, description=_DOCX_ROW)


class SearchResponse(BaseModel):
    query: str
    results: list[SearchHit]
    id: str | None = None


class Citation(BaseModel):
    """A pointer to verbatim text: `quote` occurs in `source` within lines start_line..end_line (of the extracted
    text), and where that is in the original file: `page`, `file_start_line`..`file_end_line`, or `docx_paragraph`
    / `docx_table` + `docx_row` (each absent when unknown or not applicable to the format)."""

    id: int
    source: str
    start_line: int
    end_line: int
    quote: str
    page: int | None = Field(default=None, exclude_if=_unknown, description=_PAGE)
    file_start_line: int | None = Field(default=None, exclude_if=_unknown, description=_FILE_START)
    file_end_line: int | None = Field(default=None, exclude_if=_unknown, description=_FILE_END)
    docx_paragraph: int | None = Field(default=None, exclude_if=_unknown, description=_DOCX_PARAGRAPH)
    docx_table: int | None = Field(default=None, exclude_if=_unknown, description=_DOCX_TABLE)
    docx_row: int | None = Field(default=None, exclude_if=_unknown, description=_DOCX_ROW)


class ChatMessage(BaseModel):
    role: Literal["user", "assistant", "system"]
    content: str


class Suggestion(BaseModel):
    """A close source offered with a refusal: not a citation, just where to look."""

    source: str
    start_line: int
    end_line: int
    text: str


class Evidence(BaseModel):
    """One numbered evidence sentence shown to the model, with its exact span."""

    number: int
    source: str
    start_line: int
    end_line: int
    text: str
    score: float = 0.0


class VerifierDecision(BaseModel):
    """What the verifier did to one sentence of the model's draft, and why."""

    sentence: str
    action: Literal["kept", "reattributed", "dropped", "marker_removed", "extractive"]
    cited: list[int] = Field(default_factory=list)
    reason: str = ""
    contradicted_by: str | None = None  # dropped: what says its opposite (“a sentence of the evidence”, the question's “word”)


class Trace(BaseModel):
    """How an answer came to be: cheap to build, and where debugging starts."""

    standalone_question: str | None = None
    profile: str | None = None  # the model profile that ran (tiny, small, large)
    route: str = "answer"
    retrieved: list[SearchHit] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    draft: str | None = None
    decisions: list[VerifierDecision] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)


class TokenUsage(BaseModel):
    """Tokens the model server counted for one answer (all its model calls); zeros when it reports none."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def add(self, prompt: int, completion: int) -> None:
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        self.total_tokens = self.prompt_tokens + self.completion_tokens


class Answer(BaseModel):
    """The answer JSON of `ask --json` and `POST /v1/ask`."""

    answer: str
    refused: bool
    citations: list[Citation]
    suggestions: list[Suggestion] = Field(default_factory=list)
    route: Literal["answer", "summary"] = "answer"  # summary: a question about the corpus or one document
    # the question's names that no retrieved text mentions ("Ireland" over Irish news that never writes it): the
    # answer stands on what the documents say, and the reader learns what they never say
    unmentioned: list[str] = Field(default_factory=list)
    model: str | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)
    usage: TokenUsage | None = None  # the model server's token counts (None: no model call, e.g. a refusal)
    trace: Trace | None = None

    def unmentioned_note(self) -> str | None:
        """The line shown beside the answer (terminal, OpenAI-compatible reply) about the names it never mentions."""
        return f"Note: the documents never mention {', '.join(self.unmentioned)}." if self.unmentioned else None


class SummaryTrace(BaseModel):
    """How a summary came to be: chunk groups per document, the model's drafts, what the verifier kept."""

    groups: dict[str, int] = Field(default_factory=dict)
    drafts: list[str] = Field(default_factory=list)
    decisions: list[VerifierDecision] = Field(default_factory=list)
    profile: str | None = None  # the model profile; None: extractive was asked for (no model)


class Summary(BaseModel):
    """The JSON of `summarize --json` and `POST /v1/summarize`."""

    summary: str
    bullets: list[str]
    differences: list[str] = Field(default_factory=list)
    citations: list[Citation]
    source: str | None = None
    focus: str | None = None
    model: str | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)
    trace: SummaryTrace | None = None


class StreamEvent(BaseModel):
    """One event of a streamed answer or summary (README "Streaming"). Answers: `draft` (str: the model's draft
    not yet verified — provisional, replaces the previous `draft`), `sentence` ({"text", "citations"}: one
    verified sentence as the final answer has it) and `token` (str: the same text as a delta of the verified
    answer; all `token`s joined are the final answer text), then `answer` (the verified answer JSON), `done`."""

    event: Literal["draft", "sentence", "token", "progress", "answer", "summary", "error", "done"]
    data: str | Answer | Summary | dict | None = None
