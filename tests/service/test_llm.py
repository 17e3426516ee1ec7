"""The LLM client against the real embedded model (xllamacpp) through the real openai client."""

from __future__ import annotations

import socket

import pytest

from service.config import Settings
from service.errors import LLMUnavailable
from service.llm import EMBEDDED_MODEL_NAME, LLMClient, embedded_model_path
from service.schemas import ChatMessage


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    url = f"http://127.0.0.1:{_free_port()}/v1"
    settings = news_settings.model_copy(update={"llm_base_url": url, "llm_max_retries": 1, "llm_timeout_s": 5.0})
    client = LLMClient.start(settings)
    assert not client.embedded and client.base_url == url
    for call in (client.check, lambda: client.complete([ChatMessage(role="user", content="hi")], max_tokens=2)):
        with pytest.raises(LLMUnavailable) as error:
            call()
        assert str(error.value) == f"cannot reach the LLM server at {url}"
    with pytest.raises(LLMUnavailable):
        list(client.stream([ChatMessage(role="user", content="hi")], max_tokens=2))
