"""The HTTP API against a real uvicorn server on 127.0.0.1, the real index (news corpus) and the real local model.

One engine (index + embedded model) is started once per session and shared by a few apps that differ only in
settings: the main one (API key on, small limits), an open one (no key), one with no room in the generation queue,
and one whose LLM server is unreachable (errors mid-stream).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
import uvicorn
from fastapi import FastAPI

from index.ingest import source_name as upload_source  # the rule uploads are named by
from service.config import Settings
from service.engine import Engine
from service.errors import InvalidInput
from service.http.app import create_app
from service.schemas import Answer, SearchResponse

NEWS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "news"
TREATY_SOURCE = "001_846b2a5c2ae0efae.txt"
API_KEY = "test-key-3b9d"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
TIMEOUT = httpx.Timeout(600.0, connect=10.0)

pytestmark = pytest.mark.slow

# --- harness ----------------------------------------------------------------------------------------------------


@contextmanager
def running(app: FastAPI, startup_timeout_s: float = 300) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@dataclass
class SSEvent:
    event: str
    data: str


def parse_sse(lines: Iterable[str]) -> Iterator[SSEvent]:
    """text/event-stream: `event:`/`data:` fields, an empty line ends an event, `:` lines are comments (pings)."""
    event, data = "message", []
    for line in lines:
        if line == "":
            if data or event != "message":
                yield SSEvent(event, "\n".join(data))
            event, data = "message", []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
    if data:
        yield SSEvent(event, "\n".join(data))


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """Every error the API returns is {"error": {"code", "message"}}."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def assert_grounded(answer: Answer) -> None:
    """The answer JSON contract: every [n] has a citation, every quote is verbatim within its lines."""
    ids = {c.id for c in answer.citations}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)} <= ids
    for c in answer.citations:
        path = NEWS / c.source
        if path.exists():
            lines = path.read_text(encoding="utf-8").split("\n")
            assert c.quote in "\n".join(lines[c.start_line - 1 : c.end_line]), c


# --- fixtures ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def api_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api") / "citewise-home"


@pytest.fixture(scope="session")
def engine(api_home: Path) -> Iterator[Engine]:
    """The one engine (index + embedded model) every app in this module shares."""
    with Engine(Settings(home=api_home)) as engine:
        report = engine.ingest([NEWS])
        assert report.count("added") == 2, report
        yield engine


def api_settings(home: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        home=home,
        api_key=API_KEY,
        api_max_question_chars=300,
        api_max_history_messages=4,
        api_max_upload_mb=0.05,
        api_max_upload_request_mb=0.2,
        api_max_json_kb=16,
        api_retry_after_s=7,
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def base_url(engine: Engine, api_home: Path) -> Iterator[str]:
    with running(create_app(api_settings(api_home), engine)) as url:
        yield url


@pytest.fixture(scope="session")
def open_url(engine: Engine, api_home: Path) -> Iterator[str]:
    with running(create_app(api_settings(api_home, api_key=None), engine)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=TIMEOUT) as c:
        yield c


# --- health, docs, auth --------------------------------------------------------------------------------------------


def test_healthz_is_open_and_request_ids_round_trip(base_url: str) -> None:
    r = httpx.get(f"{base_url}/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    r = httpx.get(f"{base_url}/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = httpx.get(f"{base_url}/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert r.headers["x-request-id"] != "bad id\twith spaces"


def test_readyz_reports_index_and_model(base_url: str) -> None:
    r = httpx.get(f"{base_url}/readyz", timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ready"] and body["index"] and body["llm"] and body["documents"] >= 2


def test_openapi_docs(base_url: str) -> None:
    assert httpx.get(f"{base_url}/docs").status_code == 200
    spec = httpx.get(f"{base_url}/openapi.json").json()
    for path in ("/v1/ask", "/v1/search", "/v1/documents", "/v1/documents/{source}", "/v1/chat/completions"):
        assert path in spec["paths"]


def test_api_key_required_on_every_v1_route(base_url: str, open_url: str) -> None:
    routes = [
        ("GET", "/v1/documents", None),
        ("POST", "/v1/search", {"query": "mines"}),
        ("POST", "/v1/ask", {"question": "mines?"}),
        ("POST", "/v1/summarize", {}),
        ("DELETE", "/v1/documents/x.txt", None),
        ("GET", "/v1/models", None),
        ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
    ]
    for method, path, body in routes:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}):
            r = httpx.request(method, f"{base_url}{path}", json=body, headers=headers)
            assert_error(r, 401, "unauthorized")
            assert r.headers["www-authenticate"] == "Bearer"
            assert API_KEY not in r.text
    assert httpx.get(f"{base_url}/v1/documents", headers=AUTH).status_code == 200
    # without a key configured the API is open
    assert httpx.get(f"{open_url}/v1/documents").status_code == 200


# --- retrieval and documents --------------------------------------------------------------------------------------


def test_search(client: httpx.Client) -> None:
    r = client.post("/v1/search", json={"query": "Ottawa Treaty antipersonnel mines", "k": 3})
    assert r.status_code == 200, r.text
    result = SearchResponse.model_validate(r.json())
    assert result.query == "Ottawa Treaty antipersonnel mines"
    assert 1 <= len(result.results) <= 3
    # Both articles name the treaty; the top chunk must be one that does.
    assert "Ottawa" in result.results[0].text
    assert {"source", "start_line", "end_line", "score", "text"} <= set(r.json()["results"][0])


def test_list_documents(client: httpx.Client) -> None:
    r = client.get("/v1/documents")
    assert r.status_code == 200
    docs = r.json()
    assert {d["source"] for d in docs} >= {"000_1ca178c960a0782e.txt", TREATY_SOURCE}
    assert {"source", "chunks", "sha256", "ingested_at"} <= set(docs[0])


def test_upload_names_are_sanitized(client: httpx.Client) -> None:
    before = client.get("/v1/documents").json()
    bad_uploads = [
        ({"files": ("../../etc/passwd", b"root:x:0:0")}, {}),
        ({"files": ("/etc/passwd", b"root:x:0:0")}, {}),
        ({"files": ("..\\..\\evil.txt", b"evil")}, {}),
        ({"files": ("ok.txt", b"fine")}, {"path": "../outside"}),
        ({"files": ("ok.txt", b"fine")}, {"path": "/abs"}),
    ]
    for files, data in bad_uploads:
        assert_error(client.post("/v1/documents", files=files, data=data), 422, "invalid_input")
    assert client.get("/v1/documents").json() == before
    assert upload_source("team/notes", "a b.txt") == "team/notes/a b.txt"
    assert upload_source(None, "sub/dir/x.md") == "sub/dir/x.md"
    assert upload_source("a/./b", "x.txt") == "a/b/x.txt"
    for prefix, name in (("a/../..", "x.txt"), (None, "x\x00.txt"), (None, "C:/x.txt"), (None, ""), ("a", "..")):
        with pytest.raises(InvalidInput):
            upload_source(prefix, name)


def test_delete_unknown_document(client: httpx.Client) -> None:
    assert_error(client.delete("/v1/documents/nope/missing.txt"), 404, "unknown_source")
    assert_error(client.delete("/v1/documents/..%2F..%2Fetc%2Fpasswd"), 404)


def test_upload_binary_garbage_is_rejected_per_file(client: httpx.Client) -> None:
    before = client.get("/v1/documents").json()
    r = client.post("/v1/documents", files={"files": ("fake.pdf", b"\x00\x01not a pdf at all\xff" * 50)})
    error = assert_error(r, 422, "upload_rejected")
    assert error["files"][0]["source"] == "fake.pdf" and error["files"][0]["outcome"] in ("failed", "skipped")
    assert client.get("/v1/documents").json() == before


# --- limits and malformed input ------------------------------------------------------------------------------------


def test_question_and_history_limits(client: httpx.Client) -> None:
    long_question = "why " * 100  # 400 chars > 300
    assert_error(client.post("/v1/ask", json={"question": long_question}), 422, "limit_exceeded")
    history = [{"role": "user", "content": "hi"}] * 5  # > 4
    assert_error(client.post("/v1/ask", json={"question": "mines?", "history": history}), 422, "limit_exceeded")
    messages = [{"role": "user", "content": long_question}]
    assert_error(client.post("/v1/chat/completions", json={"messages": messages}), 422, "limit_exceeded")
    assert_error(client.post("/v1/search", json={"query": long_question}), 422, "limit_exceeded")


def test_body_and_upload_size_limits(client: httpx.Client) -> None:
    # JSON body over api_max_json_kb (16 KB)
    assert_error(client.post("/v1/ask", json={"question": "x" * 20_000}), 413, "too_large")
    # the same without a Content-Length (chunked): bytes are counted as they arrive
    chunked = (part for part in [b'{"question": "', b"x" * 20_000, b'"}'])
    r = client.post("/v1/ask", content=chunked, headers={"Content-Type": "application/json"})
    assert_error(r, 413, "too_large")
    # one file over api_max_upload_mb (0.05 MB), within the request limit
    assert_error(client.post("/v1/documents", files={"files": ("big.txt", b"a " * 40_000)}), 413, "too_large")
    # the whole upload request over api_max_upload_request_mb (0.2 MB)
    files = [("files", (f"part{i}.txt", b"b " * 20_000)) for i in range(6)]
    assert_error(client.post("/v1/documents", files=files), 413, "too_large")
    assert "big.txt" not in {d["source"] for d in client.get("/v1/documents").json()}


def test_malformed_and_invalid_requests(client: httpx.Client) -> None:
    r = client.post("/v1/ask", content=b'{"question": ', headers={"Content-Type": "application/json"})
    assert_error(r, 422, "malformed_json")
    assert_error(client.post("/v1/ask", json={"question": 5}), 422, "validation_error")
    assert_error(client.post("/v1/ask", json={}), 422, "validation_error")
    assert_error(client.post("/v1/ask", json={"question": "q", "k": 0}), 422, "validation_error")
    assert_error(client.post("/v1/ask", json={"question": "q", "history": [{"role": "wizard", "content": "x"}]}), 422)
    assert_error(client.post("/v1/ask", json=[1, 2, 3]), 422)
    assert_error(client.post("/v1/ask", content=b"question=x", headers={"Content-Type": "text/plain"}), 422)
    assert_error(client.post("/v1/chat/completions", json={"messages": []}), 422)
    last_is_assistant = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
    assert_error(client.post("/v1/chat/completions", json=last_is_assistant), 422, "invalid_input")
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(client.put("/v1/ask", json={"question": "q"}), 405, "method_not_allowed")
    assert_error(client.post("/v1/documents", json={"files": "x"}), 422)


# --- answers -------------------------------------------------------------------------------------------------------


def test_ask_plain(client: httpx.Client) -> None:
    r = client.post("/v1/ask", json={"question": "Which treaty bans antipersonnel mines?"})
    assert r.status_code == 200, r.text
    answer = Answer.model_validate(r.json())
    assert not answer.refused
    assert "Ottawa" in answer.answer
    assert TREATY_SOURCE in {c.source for c in answer.citations}
    assert_grounded(answer)
    timing = r.headers["server-timing"]
    assert "queue_wait;dur=" in timing and "engine;dur=" in timing and "answer.total;dur=" in timing


def stream_ask(client: httpx.Client, body: dict) -> list[SSEvent]:
    with client.stream("POST", "/v1/ask", json={**body, "stream": True}) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return list(parse_sse(r.iter_lines()))


def test_ask_streamed(client: httpx.Client) -> None:
    events = stream_ask(client, {"question": "Has the United States signed the Ottawa Treaty?"})
    names = [e.event for e in events]
    assert names[-2:] == ["answer", "done"], names
    assert "token" in names and set(names[: names.index("answer")]) <= {"draft", "sentence", "token", "progress"}
    answer = Answer.model_validate_json(events[-2].data)
    assert not answer.refused and answer.citations
    assert TREATY_SOURCE in {c.source for c in answer.citations}
    assert_grounded(answer)
    # what streams as text is verified: every token is part of the final answer, and together they are it
    tokens = [e.data for e in events if e.event == "token"]
    assert all(t.strip() and t.strip() in answer.answer for t in tokens), (tokens, answer.answer)
    assert "".join(tokens) == answer.answer
    sentences = [json.loads(e.data) for e in events if e.event == "sentence"]
    assert [s["text"] for s in sentences] == [t.strip() for t in tokens]
    assert all(c in [x.model_dump() for x in answer.citations] for s in sentences for c in s["citations"])
    assert "draft" in names, "the provisional draft is streamed too (as `draft`, never as `token`)"


def test_upload_ask_delete(client: httpx.Client) -> None:
    note = (
        "Harbor notes for the spring season.\n"
        "The Quillfeather lighthouse on Marrow Island was repainted bright green in 2023.\n"
        "Ferries to Marrow Island leave twice a day.\n"
    )
    r = client.post("/v1/documents", files={"files": ("lighthouse.txt", note.encode())}, data={"path": "uploads"})
    assert r.status_code == 200, r.text
    assert r.json()["files"] == [{"source": "uploads/lighthouse.txt", "outcome": "added", "reason": None, "chunks": 1}]
    assert "uploads/lighthouse.txt" in {d["source"] for d in client.get("/v1/documents").json()}

    question = {"question": "What color was the Quillfeather lighthouse repainted?"}
    answer = Answer.model_validate(client.post("/v1/ask", json=question).json())
    assert not answer.refused, answer
    assert "uploads/lighthouse.txt" in {c.source for c in answer.citations}
    assert "green" in answer.answer.lower()

    r = client.delete("/v1/documents/uploads/lighthouse.txt")
    assert r.status_code == 200 and r.json() == {"removed": ["uploads/lighthouse.txt"]}
    assert "uploads/lighthouse.txt" not in {d["source"] for d in client.get("/v1/documents").json()}
    after = Answer.model_validate(client.post("/v1/ask", json=question).json())
    assert "uploads/lighthouse.txt" not in {c.source for c in after.citations}
    assert "uploads/lighthouse.txt" not in {s.source for s in after.suggestions}


def test_summarize_maps_errors_and_answers(client: httpx.Client) -> None:
    assert_error(client.post("/v1/summarize", json={"source": "no-such-file.txt"}), 404, "unknown_source")
    assert_error(client.post("/v1/summarize", json={"length": "huge"}), 422, "validation_error")
    r = client.post("/v1/summarize", json={"source": TREATY_SOURCE, "length": "short"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"summary", "bullets", "differences", "citations"} <= set(body)
    assert 1 <= len(body["bullets"]) <= 3 and body["differences"] == []
    assert {c["source"] for c in body["citations"]} == {TREATY_SOURCE}
    used = {int(n) for text in [body["summary"], *body["bullets"]] for n in re.findall(r"\[(\d+)\]", text)}
    assert used == {c["id"] for c in body["citations"]}


# --- OpenAI-compatible endpoint through the official client -------------------------------------------------------


STREAMED_QUESTION = "Why did Biden approve mines for Ukraine?"  # a kept draft sentence + an evidence sentence


@pytest.fixture
def oai(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=API_KEY, max_retries=0, timeout=600)


def test_openai_models_and_auth(oai: openai.OpenAI, base_url: str) -> None:
    assert [m.id for m in oai.models.list().data] == ["citewise", "citewise-rag"]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{base_url}/v1", api_key="wrong", max_retries=0).models.list()


def assert_annotations_point_at_markers(content: str, annotations: list[dict], citations: list[dict]) -> None:
    """Every marker of the answer part has one annotation per number it cites, whose range is exactly the marker,
    and whose file_citation carries that citation's file, quote and lines (plus any other Citation field)."""
    answer_part = content.split("\n\nSources:\n", 1)[0]
    expected = [
        (m.start(), m.end(), int(n))
        for m in re.finditer(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]", answer_part)
        for n in dict.fromkeys(re.split(r"\s*[,;]\s*", m.group(1)))
    ]
    assert expected, content
    by_id = {c["id"]: c for c in citations}
    got = []
    for a in annotations:
        assert a["type"] == "file_citation"
        start, end, fc = a["start_index"], a["end_index"], a["file_citation"]
        marker = content[start:end]
        assert re.fullmatch(r"\[\d+(?:\s*[,;]\s*\d+)*\]", marker), (marker, content)
        number = next(c["id"] for c in citations if c["source"] == fc["file_id"] and c["quote"] == fc["quote"]
                      and c["start_line"] == fc["start_line"] and str(c["id"]) in re.findall(r"\d+", marker))
        citation = by_id[number]
        assert fc["filename"] == citation["source"] and fc["end_line"] == citation["end_line"]
        assert {k: v for k, v in citation.items() if k not in ("id", "source") and v is not None}.items() <= fc.items()
        got.append((start, end, number))
    assert sorted(got) == sorted(expected)


def test_openai_chat_plain(oai: openai.OpenAI) -> None:
    reply = oai.chat.completions.create(
        model="citewise",
        messages=[
            {"role": "system", "content": "You are a pirate."},
            {"role": "user", "content": "Which treaty bans antipersonnel mines?"},
        ],
        temperature=0.2,
    )
    content = reply.choices[0].message.content or ""
    assert reply.choices[0].finish_reason == "stop"
    assert "Ottawa" in content and "Sources:" in content and TREATY_SOURCE in content
    citations = (reply.model_extra or {})["citations"]
    assert citations and TREATY_SOURCE in {c["source"] for c in citations}
    for c in citations:
        assert f"[{c['id']}]" in content
    # the standard place: message.annotations, parsed by the official client (file_citation fields as extras)
    annotations = [a.model_dump() for a in reply.choices[0].message.annotations or []]
    assert_annotations_point_at_markers(content, annotations, citations)


def test_openai_unknown_model_is_openais_not_found(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Which treaty bans mines?"}])
    error = caught.value.body
    assert isinstance(error, dict) and error["code"] == "model_not_found", error  # the client unwraps "error"
    assert error["type"] == "invalid_request_error" and error["param"] == "model" and "gpt-4o" in error["message"]


def test_openai_chat_streamed(oai: openai.OpenAI) -> None:
    """Content arrives as it is verified (a multi-sentence answer: chunks at distinct times), usage is filled."""
    stream = oai.chat.completions.create(
        model="citewise-rag",
        messages=[{"role": "user", "content": STREAMED_QUESTION}],
        stream=True,
    )
    chunks, arrived = [], []
    for chunk in stream:
        chunks.append(chunk)
        arrived.append(time.monotonic())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    content_times = [t for c, t in zip(chunks, arrived) if c.choices and c.choices[0].delta.content]
    # each verified sentence is its own chunk, sent when verified (not one burst of word pieces at the end)
    assert len(content_times) >= 2 and len(set(content_times)) == len(content_times), content_times
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert chunks[0].model == "citewise-rag"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert "Sources:" in text
    citations = (chunks[-1].model_extra or {})["citations"]
    assert citations and all(f"[{c['id']}]" in text for c in citations)
    annotations = [a for c in chunks if c.choices for a in (c.choices[0].delta.model_extra or {}).get("annotations") or []]
    assert_annotations_point_at_markers(text, annotations, citations)
    plain = oai.chat.completions.create(model="citewise", messages=[{"role": "user", "content": STREAMED_QUESTION}])
    assert plain.usage is not None and plain.usage.prompt_tokens > 0


def test_openai_stream_is_chunk_events_ending_in_done(client: httpx.Client) -> None:
    """The wire format other OpenAI clients parse: `data: {chunk}` lines, then `data: [DONE]`."""
    body = {"model": "citewise", "stream": True, "messages": [{"role": "user", "content": "Which treaty bans mines?"}]}
    with client.stream("POST", "/v1/chat/completions", json=body) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        data = [line[len("data: "):] for line in r.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]" and len(data) >= 3
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_openai_history_is_used_for_follow_ups(oai: openai.OpenAI) -> None:
    first = "Which treaty bans antipersonnel mines?"
    reply = oai.chat.completions.create(model="citewise", messages=[{"role": "user", "content": first}])
    follow = oai.chat.completions.create(
        model="citewise",
        messages=[
            {"role": "user", "content": first},
            {"role": "assistant", "content": reply.choices[0].message.content or ""},
            {"role": "user", "content": "Has the United States signed it?"},
        ],
    )
    assert TREATY_SOURCE in {c["source"] for c in (follow.model_extra or {})["citations"]}


# --- generation queue, concurrency, streams that fail ------------------------------------------------------------


def test_full_queue_gives_503_and_retrieval_is_not_blocked(engine: Engine, api_home: Path) -> None:
    """No room to wait (queue size 0): one request generates, the others get 503 + Retry-After, never 500.
    While the model works, search still answers (it does not wait for generation)."""
    app = create_app(api_settings(api_home, generation_queue_size=0, generation_queue_timeout_s=600), engine)
    with running(app) as url, httpx.Client(base_url=url, headers=AUTH, timeout=TIMEOUT) as c:
        first_token = threading.Event()
        finished: dict[str, float] = {}

        def streamed() -> list[SSEvent]:
            with c.stream("POST", "/v1/ask", json={"question": "Why did Biden approve mines?", "stream": True}) as r:
                assert r.status_code == 200
                events = []
                for ev in parse_sse(r.iter_lines()):
                    if ev.event in ("draft", "token"):  # the model is generating (drafts stream before verified text)
                        first_token.set()
                    events.append(ev)
            finished["ask"] = time.monotonic()
            first_token.set()
            return events

        with ThreadPoolExecutor(max_workers=6) as pool:
            generating = pool.submit(streamed)
            assert first_token.wait(600)
            others = [
                pool.submit(c.post, "/v1/ask", json={"question": "Which treaty bans mines?"}) for _ in range(2)
            ] + [
                pool.submit(c.post, "/v1/ask", json={"question": "Which treaty bans mines?", "stream": True})
            ] + [
                pool.submit(
                    c.post, "/v1/chat/completions", json={"messages": [{"role": "user", "content": "Treaty?"}]}
                )
            ]
            search = c.post("/v1/search", json={"query": "Ottawa Treaty"})
            finished["search"] = time.monotonic()
            responses = [f.result() for f in others]
            events = generating.result()

    assert search.status_code == 200
    if "ask" in finished:
        assert finished["search"] < finished["ask"], "search waited for the generation to finish"
    for r in responses:
        assert_error(r, 503, "busy")
        assert r.headers["retry-after"] == "7"
    assert [e.event for e in events][-2:] == ["answer", "done"]


def test_llm_failure_mid_stream_is_an_error_event(engine: Engine, api_home: Path) -> None:
    """The model server is unreachable: plain ask → 503 JSON; streamed ask → an `error` event, then `done`."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    # (llm_base_url is set through its env-name alias: Settings does not populate it by field name)
    settings = api_settings(
        api_home, CITEWISE_LLM_BASE_URL=f"http://127.0.0.1:{dead_port}/v1", llm_max_retries=0, llm_timeout_s=5
    )
    assert settings.llm_base_url
    with Engine(settings, corpus=engine.corpus) as broken:  # same index (borrowed), unreachable model
        with running(create_app(settings, broken)) as url:
            with httpx.Client(base_url=url, headers=AUTH, timeout=TIMEOUT) as c:
                r = c.get("/readyz")
                assert r.status_code == 503 and r.json()["error"]["code"] == "not_ready"
                assert_error(c.post("/v1/ask", json={"question": "Which treaty bans mines?"}), 503, "llm_unavailable")
                events = stream_ask(c, {"question": "Which treaty bans mines?"})
                # summaries report the failure the same way, unless an extractive summary was asked for
                summary = {"source": TREATY_SOURCE, "length": "short"}
                assert_error(c.post("/v1/summarize", json=summary), 503, "llm_unavailable")
                quoted = c.post("/v1/summarize", json={**summary, "extractive": True})
                assert quoted.status_code == 200, quoted.text
                assert quoted.json()["model"] is None and quoted.json()["bullets"]
                with c.stream("POST", "/v1/summarize", json={**summary, "stream": True}) as r:
                    summary_events = [e.event for e in parse_sse(r.iter_lines())]
                assert summary_events[-2:] == ["error", "done"], summary_events
    assert [e.event for e in events][-2:] == ["error", "done"], events
    error = json.loads(events[-2].data)
    assert error["code"] == "llm_unavailable" and "cannot reach" in error["message"]


def test_request_log_has_id_and_stage_timings(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="citewise.api"):
        r = client.post("/v1/search", json={"query": "mines"}, headers={"X-Request-ID": "log-test-42"})
        assert r.status_code == 200
        time.sleep(0.2)
    assert r.headers["x-request-id"] == "log-test-42"
    assert "search;dur=" in r.headers["server-timing"]
    lines = [rec.getMessage() for rec in caplog.records if "log-test-42" in rec.getMessage()]
    assert lines and "POST /v1/search 200" in lines[0] and "search_ms=" in lines[0]
    assert API_KEY not in caplog.text
