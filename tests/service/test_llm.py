"""The LLM client against the real embedded model (xllamacpp) through the real openai client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from service.config import Settings
from service.errors import LLMUnavailable
from service.llm import EMBEDDED_MODEL_NAME, LLMClient, embedded_model_path, free_port, served_entry
from service.profiles import profile_from_model
from service.schemas import ChatMessage


def test_embedded_model_file_is_found_without_importing_its_package() -> None:
    path = embedded_model_path()
    assert path.name.endswith(".gguf") and path.stat().st_size > 50_000_000


def test_embedded_client_completes_streams_and_checks(llm: LLMClient) -> None:
    if llm.embedded:
        assert llm.model_name == EMBEDDED_MODEL_NAME and llm.base_url.startswith("http://127.0.0.1:")
    llm.check()
    question = [ChatMessage(role="user", content="Name the capital of France in one word.")]
    whole = llm.complete(question, max_tokens=8)
    assert whole.strip()
    deltas = list(llm.stream(question, max_tokens=8))
    assert len(deltas) >= 2 and "".join(deltas).strip()
    assert "".join(deltas) == whole, "temperature 0: streaming and non-streaming give the same text"


def test_wrong_model_name_is_a_one_line_error(llm: LLMClient, news_settings: Settings) -> None:
    if not llm.embedded:
        pytest.skip("model names of an external server are not ours to assume")
    wrong = LLMClient(settings=news_settings, base_url=llm.base_url, model_name="no-such-model", api_key="x")
    with pytest.raises(LLMUnavailable) as error:
        wrong.check()
    message = str(error.value)
    assert "no-such-model" in message and EMBEDDED_MODEL_NAME in message and "\n" not in message


def test_unreachable_server_is_a_one_line_error_and_starts_nothing(news_settings: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    settings = news_settings.model_copy(update={"llm_base_url": url, "llm_max_retries": 1, "llm_timeout_s": 5.0})
    client = LLMClient.start(settings)
    assert not client.embedded and client.base_url == url
    for call in (client.check, lambda: client.complete([ChatMessage(role="user", content="hi")], max_tokens=2)):
        with pytest.raises(LLMUnavailable) as error:
            call()
        assert str(error.value) == f"cannot reach the LLM server at {url}"
    with pytest.raises(LLMUnavailable):
        list(client.stream([ChatMessage(role="user", content="hi")], max_tokens=2))


def test_the_served_model_is_read_from_the_servers_model_list() -> None:
    """`/v1/models` as vLLM, OpenRouter and llama.cpp write it (parsing only; `test_external_llm` asks a real one)."""
    vllm = [{"id": "Qwen/Qwen2.5-7B-Instruct", "max_model_len": 32768}, {"id": "other-model", "max_model_len": 4096}]
    assert served_entry(vllm, "Qwen/Qwen2.5-7B-Instruct").context_tokens == 32768
    assert served_entry(vllm, "missing").model_dump() == {"id": "missing", "context_tokens": None}  # no guess among many
    router = [{"id": "some/model", "context_length": 131072}]
    routed = served_entry(router, "some/model")
    assert profile_from_model(routed.id, routed.context_tokens).name == "large"
    # a single-model server ignores the requested name: its one model is what answers
    llama = [{"id": "SmolLM2-135M-Instruct", "meta": {"n_ctx_train": 8192}}]
    served = served_entry(llama, "whatever-the-client-asked")
    assert (served.id, served.context_tokens) == ("SmolLM2-135M-Instruct", 8192)
    assert profile_from_model(served.id, served.context_tokens).name == "tiny"
    assert served_entry([], "gpt-4o").id == "gpt-4o"


def test_openai_variables_are_the_fallback_and_citewise_ones_win(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CITEWISE_LLM_BASE_URL", "CITEWISE_LLM_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert Settings(_env_file=None).uses_embedded_llm
    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai.example/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fallback")
    fallback = Settings(_env_file=None)
    assert fallback.llm_base_url == "http://openai.example/v1" and not fallback.uses_embedded_llm
    assert fallback.llm_api_key is not None and fallback.llm_api_key.get_secret_value() == "sk-fallback"
    monkeypatch.setenv("CITEWISE_LLM_BASE_URL", "http://vllm.internal:8081/v1")
    monkeypatch.setenv("CITEWISE_LLM_API_KEY", "sk-citewise")
    own = Settings(_env_file=None)
    assert own.llm_base_url == "http://vllm.internal:8081/v1"
    assert own.llm_api_key is not None and own.llm_api_key.get_secret_value() == "sk-citewise"
    client = LLMClient.start(own)  # external: nothing is started, the client points at the configured server
    assert not client.embedded and client.base_url == "http://vllm.internal:8081/v1"


@contextmanager
def flaky_proxy(target: str, failures: int) -> Iterator[tuple[str, list[int]]]:
    """An HTTP proxy in front of the real model server that answers the first `failures` requests with 503
    (an overloaded or restarting server) and forwards the rest; yields its /v1 URL and the statuses it sent."""
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if len(statuses) < failures:
                statuses.append(503)
                self.send_response(503)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error": {"message": "overloaded"}}')
                return
            reply = httpx.post(target.rstrip("/") + self.path.removeprefix("/v1"), content=body,
                               headers={"Content-Type": "application/json"}, timeout=120)  # fmt: skip
            statuses.append(reply.status_code)
            self.send_response(reply.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", statuses
    finally:
        server.shutdown()
        server.server_close()


def test_5xx_replies_are_retried_with_backoff_then_answered(llm: LLMClient, news_settings: Settings) -> None:
    """Two 503s in a row (within llm_max_retries) cost a short wait, not the answer."""
    with flaky_proxy(llm.base_url, failures=2) as (url, statuses):
        settings = news_settings.model_copy(update={"llm_base_url": url, "llm_model": llm.model_name, "llm_max_retries": 3})
        reply = LLMClient.start(settings).complete([ChatMessage(role="user", content="Say yes.")], max_tokens=4)
    assert reply.strip() and statuses == [503, 503, 200]
    with flaky_proxy(llm.base_url, failures=5) as (url, statuses):
        settings = news_settings.model_copy(update={"llm_base_url": url, "llm_model": llm.model_name, "llm_max_retries": 2})
        with pytest.raises(LLMUnavailable, match="HTTP 503"):
            LLMClient.start(settings).complete([ChatMessage(role="user", content="Say yes.")], max_tokens=4)
    assert statuses == [503, 503, 503], "one try and two retries, then a one-line error"


# Questions of evals/suites/examples.yaml over its text documents; asked in one order and then in reverse, their
# drafts changed while llama.cpp reused the previous prompt's cached prefix (model_files.py prompt_cache).
ORDER_QUESTIONS = [
    "When does construction start?",
    "How large is the yearly loan payment, and when is the first payment due?",
    "Where will north-side customers get their water while the reservoir is offline, and how will it differ?",
    "What is the phone number of the project hotline?",
    "How did the board vote on the construction contract?",
    "How much will a typical monthly bill rise?",
    "Who is the project manager?",
    "How long can the water shut-offs on Ridge Road last, and how much notice do homes get?",
]


@pytest.mark.slow
def test_the_embedded_model_drafts_the_same_whatever_was_asked_before(
    llm: LLMClient, tmp_path: Path, examples_dir: Path
) -> None:
    """Evals and CI gates must reproduce: the tiny model's draft for a question may not depend on which prompt
    the server read before it (with the prompt cache on, the second question's draft differed)."""
    from service.engine import Engine

    texts = ("project-overview.md", "board-minutes-2025-01-14.txt", "customer-faq.html", "budget-memo-2025-02-03.txt")
    with Engine(Settings(home=tmp_path / "home"), llm=llm) as engine:
        engine.ingest([examples_dir / name for name in texts])
        forward = [engine.ask(q).trace.draft for q in ORDER_QUESTIONS]
        backward = [engine.ask(q).trace.draft for q in reversed(ORDER_QUESTIONS)][::-1]
    assert forward == backward
