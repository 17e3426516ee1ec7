"""Secrets never leak: with CITEWISE_API_KEY and an LLM API key set, good and bad requests (wrong keys, failing
model calls, streamed errors, readiness problems) leave neither key — nor a wrong key someone tried — in the
server's log or in any response body; the CLI's errors do not print the LLM key either."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hardening.processes import (
    Process,
    api,
    build_news_home,
    clean_env,
    cli,
    free_port,
    running,
    start_serve,
)

API_KEY = "cw-api-7f3a9b1c5d2e8f40a6b7c8d9e0f1a2b3"
LLM_KEY = "sk-llm-4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b"
TRIED_KEY = "sk-someone-elses-0a1b2c3d4e5f6a7b8c9d"
SECRETS = (API_KEY, LLM_KEY, TRIED_KEY)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("secrets")


@pytest.fixture(scope="module")
def llm_url() -> str:
    """A closed port: every model call fails, so the error paths (which mention the LLM server) all run."""
    return f"http://127.0.0.1:{free_port()}/v1"


@pytest.fixture(scope="module")
def server(workdir: Path, llm_url: str) -> Iterator[Process]:
    home = build_news_home(workdir / "home")
    process = start_serve(home, workdir, ready=False, api_key=API_KEY, llm_base_url=llm_url, llm_api_key=LLM_KEY, llm_max_retries="0")
    with running(process):
        yield process


def _requests(client: httpx.Client) -> list[httpx.Response]:
    """A spread of good and bad requests; returns every response."""
    good = {"Authorization": f"Bearer {API_KEY}"}
    responses = [
        client.get("/healthz"),
        client.get("/readyz"),
        client.get("/v1/documents"),
        client.get("/v1/documents", headers={"Authorization": f"Bearer {TRIED_KEY}"}),
        client.get("/v1/documents", headers={"Authorization": TRIED_KEY}),
        client.get("/v1/documents", headers={"Authorization": f"Basic {TRIED_KEY}"}),
        client.get("/v1/documents", headers={"Authorization": f"Bearer {API_KEY}x"}),
        client.post("/v1/search", json={"query": TRIED_KEY}, headers={"Authorization": f"Bearer {TRIED_KEY}"}),
        client.get("/v1/documents", headers=good),
        client.get("/readyz", headers=good),
        client.post("/v1/search", json={"query": "Ottawa Treaty"}, headers=good),
        client.post("/v1/ask", json={"question": "Which treaty bans antipersonnel mines?"}, headers=good),
        client.post("/v1/ask", json={"question": "Which treaty bans mines?", "stream": True}, headers=good),
        client.post("/v1/chat/completions", json={"model": "citewise", "messages": [{"role": "user", "content": "Who signed?"}]}, headers=good),
        client.post("/v1/ask", content=b"{not json", headers={**good, "Content-Type": "application/json"}),
        client.delete("/v1/documents/nope.txt", headers=good),
        client.get("/v1/models", headers={"Authorization": f"Bearer {LLM_KEY}"}),
    ]
    return responses


def test_keys_never_appear_in_logs_or_bodies(server: Process, llm_url: str) -> None:
    with api(server, timeout=120) as client:  # no default key: each request sets its own header
        responses = _requests(client)
    statuses = [r.status_code for r in responses]
    assert statuses[2:8] == [401] * 6, statuses  # no key, wrong keys, wrong scheme, key with a suffix
    assert statuses[8] == 200 and statuses[10] == 200
    assert statuses[11] in (502, 503) and statuses[16] == 401  # the model is down; the LLM key is no API key
    for response in responses:
        body = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
        for secret in SECRETS:
            assert secret not in body, (response.request.url, secret, body[:300])

    log = server.log()
    assert "GET /v1/documents 401" in log and "POST /v1/ask 503" in log, log[-2000:]  # the log saw the failures
    for secret in SECRETS:
        assert secret not in log, f"{secret[:8]}… leaked into the server log"
        assert secret[:12] not in log  # not even a prefix of it

    done = cli("ask", "Which treaty bans mines?", env=clean_env(home=str(server.log_path.parent / "home"), llm_base_url=llm_url, llm_api_key=LLM_KEY, llm_max_retries="0"))
    assert done.returncode != 0 and LLM_KEY not in done.stdout + done.stderr and LLM_KEY[:12] not in done.stderr
