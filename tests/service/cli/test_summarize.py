"""`citewise summarize` when the model cannot be reached: an error like `ask`'s, unless --extractive was asked for."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import Settings

pytestmark = pytest.mark.slow  # the real embedding model in a subprocess

CITEWISE = Path(sys.executable).parent / "citewise"
FAQ = "customer-faq.html"


@pytest.fixture(scope="module")
def faq_settings(tmp_path_factory: pytest.TempPathFactory, examples_dir: Path) -> Settings:
    from index.corpus import Corpus

    settings = Settings(home=tmp_path_factory.mktemp("faq-index") / "citewise-home")
    corpus = Corpus.open(settings)
    try:
        corpus.ingest([examples_dir / FAQ])
    finally:
        corpus.close()
    return settings


def _dead_model_env(settings: Settings) -> dict[str, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEWISE_", "OPENAI_"))}
    return {
        **env,
        "CITEWISE_HOME": str(settings.home),
        "CITEWISE_LLM_BASE_URL": f"http://127.0.0.1:{dead}/v1",
        "CITEWISE_LLM_MAX_RETRIES": "0",
        "CITEWISE_LLM_TIMEOUT_S": "5",
    }


def test_dead_model_summarize_fails_unless_extractive(faq_settings: Settings) -> None:
    env = _dead_model_env(faq_settings)
    failed = subprocess.run(
        [str(CITEWISE), "summarize", FAQ, "--length", "short", "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert failed.returncode == 1, (failed.stdout, failed.stderr)
    assert failed.stdout == ""
    lines = [line for line in failed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot reach the LLM server" in lines[0], failed.stderr
    assert "Traceback" not in failed.stderr and "LLMUnavailable" not in failed.stderr

    quoted = subprocess.run(
        [str(CITEWISE), "summarize", FAQ, "--length", "short", "--extractive", "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert quoted.returncode == 0, quoted.stderr
    summary = json.loads(quoted.stdout)
    assert summary["model"] is None, "an extractive summary names no model"
    assert summary["bullets"] and summary["citations"]
