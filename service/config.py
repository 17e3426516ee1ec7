"""All configuration, read once from the environment (and `.env`) and passed down.

Only this module reads environment variables. Everything else receives a `Settings`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.config import IndexConfig


class Settings(BaseSettings, IndexConfig):
    """citewise settings; every field (the index's own from `IndexConfig` included) is `CITEWISE_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="CITEWISE_", env_file=".env", extra="ignore", populate_by_name=True)

    # The embedded model to start (a name in service/model_files.py REGISTRY: tiny | quality | quality-small);
    # with an external server it only names the default model id. Models are installed under `models_dir`
    # (default: <venv>/share/citewise/models).
    llm: str = "tiny"
    models_dir: Path | None = None

    # External OpenAI-compatible LLM server; when unset, the embedded model is started.
    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CITEWISE_LLM_BASE_URL", "OPENAI_BASE_URL")
    )
    llm_model: str | None = None
    llm_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("CITEWISE_LLM_API_KEY", "OPENAI_API_KEY")
    )
    llm_timeout_s: float = 60.0
    llm_max_retries: int = 3
    llm_context_tokens: int = 4096  # the engine's budget; the embedded model's n_ctx is its registry value unless set
    llm_threads: int | None = None  # None: chosen at start from the cores free (service.model_files.choose_threads)
    # The model profile (tiny | small | large); chosen from the model when unset (service/profiles.py).
    llm_profile: Literal["tiny", "small", "large"] | None = None
    # With a capable profile, the model checks its whole answer against what it cites and "no" refuses: strict
    # mode, off by default — with the 1.5B quality model it trades answered multi-hop questions for refused
    # unanswerable ones (README "The answer check"); a stronger model should lose less.
    answer_check: bool = False

    # HTTP API key; when set, every /v1/* route requires `Authorization: Bearer <key>`.
    api_key: SecretStr | None = None
    # A running `citewise serve` for the CLI to talk to (ask, search, summarize, chat, docs) instead of opening the
    # index and starting the model itself; its key is `api_key`.
    url: str | None = None

    # HTTP API limits (over → 413/422 JSON) and the queue in front of the model (full → 503 + Retry-After).
    api_max_question_chars: int = 4000
    api_max_history_messages: int = 20
    api_max_upload_mb: float = 50.0  # per uploaded file
    api_max_upload_request_mb: float = 200.0  # a whole multipart upload request
    api_max_json_kb: int = 1024  # any other request body
    generation_concurrency: int = 1  # requests the model works on at once (the embedded model: one)
    generation_queue_size: int = 8  # requests waiting for the model beyond those
    generation_queue_timeout_s: float = 120.0  # longest wait for the model before 503
    api_retry_after_s: int = 10

    # Retrieval and evidence.
    top_k: int = 8
    evidence_max: int = 6

    @property
    def uses_embedded_llm(self) -> bool:
        return not self.llm_base_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()


def export_to_workers(**values: str) -> None:
    """Publish settings overrides (e.g. the shared model's URL) to worker processes started after this call:
    uvicorn's workers read their Settings from the environment."""
    for name, value in values.items():
        os.environ[f"CITEWISE_{name.upper()}"] = value
    get_settings.cache_clear()
