"""An external model server (`citewise llm-server`, a separate process) behind `citewise serve`: when it dies
mid-request the API answers 502/503 with the JSON error shape (streams end with an `error` event) — never a
500 or a hang — and it recovers by itself once the model server is back on the same port."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.evals.test_eval_e2e import ONE as ONE_QUESTION_SUITE
from tests.hardening.processes import (
    NEWS_A,
    NEWS_B,
    Process,
    api,
    build_news_home,
    clean_env,
    cli,
    running,
    start_llm_server,
    start_serve,
)

pytestmark = pytest.mark.slow

QUESTION = "Which treaty bans antipersonnel mines, and has the US signed it?"
REQUEST_LIMIT_S = 120.0  # far above retries with backoff; a hang shows up as a timeout here


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("external-llm")


@pytest.fixture(scope="module")
def stack(workdir: Path) -> Iterator[tuple[Process, Process]]:
    """(model server, API server); the test kills the model server and starts its replacements itself."""
    home = build_news_home(workdir / "home")
    with running(start_llm_server(workdir)) as model:
        with running(start_serve(home, workdir, llm_base_url=model.url + "/v1")) as server:
            yield model, server


def _sse_events(response: httpx.Response) -> Iterator[tuple[str, str]]:
    event = ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            yield event, line.split(":", 1)[1].strip()


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code in (502, 503), (response.status_code, response.text)
    error = response.json()["error"]
    assert set(error) >= {"code", "message"} and "\n" not in error["message"], error




def test_a_served_model_s_profile_comes_from_what_the_server_serves(stack: tuple[Process, Process]) -> None:
    """`citewise llm-server` serves SmolLM2-135M: the API reached over HTTP runs the tiny profile, as it would
    embedded (the small profile would ask a 135M model to judge support and to paraphrase), and says so."""
    _, server = stack
    with api(server, timeout=REQUEST_LIMIT_S) as client:
        answer = client.post("/v1/ask", json={"question": QUESTION})
    assert answer.status_code == 200, answer.text
    assert answer.json()["trace"]["profile"] == "tiny", answer.json()["trace"]


def test_eval_judge_scores_answers_with_the_external_model(stack: tuple[Process, Process], workdir: Path) -> None:
    """`citewise eval --judge` asks the external server to judge each answer; the score sits beside the
    deterministic metrics. Without an external server it is a one-line error."""
    model, _ = stack
    suite = workdir / "judged.yaml"
    suite.write_text(ONE_QUESTION_SUITE, encoding="utf-8")
    refused = cli("eval", str(suite), "--judge", env=clean_env(home=str(workdir / "judge-home-0")))
    assert refused.returncode == 1 and refused.stderr.strip().count("\n") == 0
    assert "CITEWISE_LLM_BASE_URL" in refused.stderr
    env = clean_env(home=str(workdir / "judge-home"), llm_base_url=model.url + "/v1", llm_timeout_s="600")
    done = cli("eval", str(suite), "--judge", "--json", env=env, timeout=900)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    scores = result["questions"][0]["scores"]
    assert "judge_faithfulness" in scores and "fact_recall" in scores
    judged = scores["judge_faithfulness"]
    assert judged is None or 0.0 <= judged <= 1.0
    assert result["provider"] != "embedded"


def test_model_server_death_mid_request_is_a_503_and_the_api_recovers(
    stack: tuple[Process, Process], workdir: Path
) -> None:
    model, server = stack
    port = int(model.url.rsplit(":", 1)[1])
    with api(server, timeout=REQUEST_LIMIT_S) as client:
        # Streamed: kill the model server as soon as the first token arrives → an `error` event, then `done`.
        with client.stream("POST", "/v1/ask", json={"question": QUESTION, "stream": True}) as response:
            assert response.status_code == 200
            events = []
            for event, data in _sse_events(response):
                events.append((event, data))
                if event == "draft" and model.alive():  # the model's first token
                    model.kill9()
        names = [e for e, _ in events]
        assert "draft" in names and names[-1] == "done", names
        if "answer" not in names:  # the draft could have been complete already; otherwise the failure is reported
            error = json.loads(next(d for e, d in events if e == "error"))
            assert error["code"] != "internal" and "LLM server" in error["message"], error

        # Plain, while the model server is down: a JSON 502/503, in bounded time.
        started = time.monotonic()
        _assert_unavailable(client.post("/v1/ask", json={"question": QUESTION}))
        assert time.monotonic() - started < REQUEST_LIMIT_S
        _assert_unavailable(client.post("/v1/chat/completions", json={"model": "citewise", "messages": [{"role": "user", "content": QUESTION}]}))
        assert client.get("/readyz").status_code == 503
        assert client.post("/v1/search", json={"query": "Ottawa Treaty"}).status_code == 200  # retrieval unaffected

        # Plain, dying mid-request: the model server is killed while it works on the answer.
        restarted = start_llm_server(workdir, port=port)
        try:
            outcome: dict[str, httpx.Response] = {}
            asker = threading.Thread(target=lambda: outcome.setdefault("r", client.post("/v1/ask", json={"question": QUESTION})))
            asker.start()
            _wait_for_slot_busy(restarted)
            restarted.kill9()
            asker.join(REQUEST_LIMIT_S)
            assert not asker.is_alive(), "the API hung after the model server died"
            if outcome["r"].status_code != 200:  # the answer may have been finished just before the kill
                _assert_unavailable(outcome["r"])

            # Back on the same port: the same API process answers again, without a restart.
            back = start_llm_server(workdir, port=port)
            try:
                answer = client.post("/v1/ask", json={"question": QUESTION})
                assert answer.status_code == 200, answer.text
                assert {c["source"] for c in answer.json()["citations"]} <= {NEWS_A, NEWS_B}
                assert client.get("/readyz").status_code == 200
            finally:
                back.stop()
        finally:
            restarted.stop()
    assert server.alive()
    assert " 500 " not in server.log() and "Traceback" not in server.log(), server.log()[-3000:]


def _wait_for_slot_busy(model: Process, timeout: float = 60.0) -> None:
    """Until the model server reports a slot processing a request (llama.cpp's /slots), or the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            slots = httpx.get(model.url + "/slots", timeout=5).json()
            if any(s.get("is_processing") for s in slots):
                return
        except (httpx.HTTPError, ValueError, AttributeError):
            pass
        time.sleep(0.05)
