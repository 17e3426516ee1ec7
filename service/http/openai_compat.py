"""OpenAI-compatible chat: citewise as a "model" any OpenAI client or chat UI can talk to.

Mapping: the last user message is the question, earlier user/assistant turns are the history (system messages
are ignored: the grounding prompt is ours). The reply is the verified answer followed by a sources list; the
citation objects also travel in a `citations` field, and — the standard place OpenAI clients read — as `annotations` on
the message (see `citation_annotations`). Streaming sends the *verified* answer as content chunks, each
sentence as soon as the verifier keeps it (the answer's `token` events): an OpenAI client concatenates every delta,
so drafts are never sent; the sources list follows the last sentence, and the final chunk carries the annotations.
`usage` holds the model server's token counts for the answer's model calls (the draft it wrote, not the verified
reply); zeros when the server reports none or no model call was made (a refusal). Models: `citewise` and the
aliases in MODEL_ALIASES; any other name is answered with OpenAI's 404 `model_not_found` error.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import ServerSentEvent

from service.errors import CitewiseError, InvalidInput, error_from_event
from service.pipeline.markers import MARKER, markers_in
from service.schemas import Answer, ChatMessage, Citation, StreamEvent, TokenUsage

MODEL_ID = "citewise"
MODEL_ALIASES = ("citewise-rag",)  # other names a client may be configured with; all mean citewise
SOURCES_HEADING = "Sources:"
SUGGESTIONS_HEADING = "Closest sources (not citations):"


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class OpenAIMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content if part.type == "text")


class ChatCompletionRequest(BaseModel):
    """The fields citewise uses; the others (temperature, max_tokens, …) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = MODEL_ID
    messages: list[OpenAIMessage] = Field(min_length=1)
    stream: bool = False


class FileCitation(BaseModel):
    """OpenAI's `file_citation` object (Responses API shape), plus every field of our `Citation` but its id."""

    model_config = ConfigDict(extra="allow")

    file_id: str
    filename: str
    quote: str
    start_line: int
    end_line: int


class Annotation(BaseModel):
    """Where one `[n]` marker sits in the content: `content[start_index:end_index]` is the marker text."""

    type: Literal["file_citation"] = "file_citation"
    file_citation: FileCitation
    start_index: int
    end_index: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    annotations: list[Annotation] = Field(default_factory=list)


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage = Field(default_factory=Usage)
    citations: list[Citation] = Field(default_factory=list)
    refused: bool = False


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    annotations: list[Annotation] | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    citations: list[Citation] | None = None
    refused: bool | None = None


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "citewise"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class UnknownModel(CitewiseError):
    """A `model` that is not citewise: OpenAI's own error shape, so OpenAI clients raise NotFoundError."""

    code = "model_not_found"
    http_status = 404

    def __init__(self, model: str) -> None:
        names = ", ".join((MODEL_ID, *MODEL_ALIASES))
        super().__init__(f"The model `{model}` does not exist; this server answers as: {names}")

    # with our `code` and `message` this is exactly OpenAI's {"error": {"message", "type", "param", "code"}}
    error_fields = {"type": "invalid_request_error", "param": "model"}


def model_list() -> ModelList:
    return ModelList(data=[Model(id=name) for name in (MODEL_ID, *MODEL_ALIASES)])


def check_model(request: ChatCompletionRequest) -> str:
    """The model name to echo back; UnknownModel unless it is citewise or an alias."""
    if request.model not in (MODEL_ID, *MODEL_ALIASES):
        raise UnknownModel(request.model)
    return request.model


def usage(counted: TokenUsage | None) -> Usage:
    return Usage(**counted.model_dump()) if counted is not None else Usage()


def strip_sources(content: str) -> str:
    """An earlier citewise reply without its sources list, so history holds the answer text only."""
    for heading in (SOURCES_HEADING, SUGGESTIONS_HEADING):
        content = content.split(f"\n\n{heading}\n", 1)[0]
    return content


def to_question(request: ChatCompletionRequest) -> tuple[str, list[ChatMessage]]:
    """(question, history): the last message must be the user's question."""
    last = request.messages[-1]
    if last.role != "user":
        raise InvalidInput("the last message must be the user's question (role 'user')")
    history = [
        ChatMessage(role=m.role, content=strip_sources(m.text()) if m.role == "assistant" else m.text())
        for m in request.messages[:-1]
        if m.role in ("user", "assistant") and m.text().strip()
    ]
    return last.text(), history


def reply_text(answer: Answer) -> str:
    """The answer with `[n]` markers, then the sources list that resolves them (or a refusal's suggestions), then
    the question's names the documents never mention."""
    lines = [answer.answer]
    if answer.citations:
        lines += ["", SOURCES_HEADING]
        for c in answer.citations:
            span = f"{c.start_line}" if c.start_line == c.end_line else f"{c.start_line}-{c.end_line}"
            lines.append(f"[{c.id}] {c.source}:{span} — “{c.quote}”")
    elif answer.suggestions:
        lines += ["", SUGGESTIONS_HEADING]
        lines += [f"- {s.source}:{s.start_line}-{s.end_line}" for s in answer.suggestions]
    if note := answer.unmentioned_note():  # after the sources: a follow-up's history drops it with them
        lines += ["", note]
    return "\n".join(lines)


def citation_annotations(content: str, citations: list[Citation]) -> list[Annotation]:
    """One annotation per cited number per marker in the answer part of `content` (the "Sources:" list is not
    scanned): a marker `[1, 3]` gives two annotations with the same character range."""
    by_id = {c.id: c for c in citations}
    body = content.split(f"\n\n{SOURCES_HEADING}\n", 1)[0]
    found: list[Annotation] = []
    for match in MARKER.finditer(body):
        for number in markers_in(match.group(0)):
            citation = by_id.get(number)
            if citation is None:
                continue
            extra = citation.model_dump(exclude={"id", "source", "quote", "start_line", "end_line"}, exclude_none=True)
            found.append(
                Annotation(
                    file_citation=FileCitation(
                        file_id=citation.source,
                        filename=citation.source,
                        quote=citation.quote,
                        start_line=citation.start_line,
                        end_line=citation.end_line,
                        **extra,
                    ),
                    start_index=match.start(),
                    end_index=match.end(),
                )
            )
    return found


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def completion(answer: Answer, model: str) -> ChatCompletion:
    text = reply_text(answer)
    return ChatCompletion(
        id=_completion_id(),
        created=int(time.time()),
        model=model or MODEL_ID,
        choices=[Choice(message=AssistantMessage(content=text, annotations=citation_annotations(text, answer.citations)))],
        usage=usage(answer.usage),
        citations=answer.citations,
        refused=answer.refused,
    )


async def completion_chunks(
    events: AsyncIterator[StreamEvent], model: str, error_payload: Callable[[BaseException], dict[str, str]]
) -> AsyncIterator[ServerSentEvent]:
    """OpenAI-style `chat.completion.chunk` events for a streamed answer, ending with `data: [DONE]`."""
    cid, created, model = _completion_id(), int(time.time()), model or MODEL_ID

    def chunk(delta: Delta, finish: bool = False, **extra: Any) -> ServerSentEvent:
        body = ChatCompletionChunk(
            id=cid,
            created=created,
            model=model,
            choices=[ChunkChoice(delta=delta, finish_reason="stop" if finish else None)],
            **extra,
        )
        return ServerSentEvent(data=body.model_dump_json(exclude_none=True))

    yield chunk(Delta(role="assistant", content=""))
    answer: Answer | None = None
    error: dict[str, str] | None = None
    sent = ""
    try:
        async for event in events:
            if event.event == "token" and isinstance(event.data, str) and event.data:
                sent += event.data
                yield chunk(Delta(content=event.data))  # a verified sentence, as soon as it is verified
            elif event.event == "answer" and isinstance(event.data, Answer):
                answer = event.data
            elif event.event == "error":
                error = error_from_event(event.data)
                break
    except Exception as exc:
        error = error_payload(exc)
    if answer is None and error is None:
        error = {"code": "internal", "message": "the answer stream ended without an answer"}
    if error is not None:
        yield ServerSentEvent(data=json.dumps({"error": {**error, "type": error["code"]}}))
    else:
        assert answer is not None
        reply = reply_text(answer)
        rest = reply[len(sent) :] if reply.startswith(sent) else reply  # the sources list (tokens are the answer by construction)
        if rest:
            yield chunk(Delta(content=rest))
        done = Delta(annotations=citation_annotations(reply, answer.citations))
        yield chunk(done, finish=True, citations=answer.citations, refused=answer.refused, usage=usage(answer.usage))
    yield ServerSentEvent(data="[DONE]")
