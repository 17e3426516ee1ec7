"""`CITEWISE_URL` / `--server`: the CLI against a real running `citewise serve` gives the same JSON as in-process
mode, streams chat from the server, reports the server's errors as one line, and refuses what only runs locally."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hardening.processes import NEWS_DIR, build_news_home, clean_env, cli, running, start_serve

pytestmark = pytest.mark.slow  # a real server with the embedded model

KEY = "remote-cli-key-5d1e"
QUESTION = "Which treaty bans antipersonnel mines?"


def _answer_fields(payload: dict) -> dict:
    """What an answer says and cites (timings differ from run to run)."""
    return {k: payload[k] for k in ("answer", "refused", "citations", "route")}


SUITE = f"""name: remote
docs: {NEWS_DIR}
questions:
  - id: treaty
    question: {QUESTION}
    facts: [["Ottawa"]]
    sources: [000_1ca178c960a0782e.txt]
  - id: absent
    question: What is the population of Calder Falls?
    answerable: false
"""


def _scored(payload: dict) -> list[tuple]:
    """Per question: what was answered and how it scored (latencies differ)."""
    return [(q["id"], q["answer"]["answer"], q["scores"]) for q in payload["questions"]]


def test_remote_mode_matches_in_process_mode(tmp_path: Path) -> None:
    home = build_news_home(tmp_path / "home")
    local = clean_env(home=str(home), llm_threads="1")
    suite = tmp_path / "remote.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    expected = {
        "docs": json.loads(cli("docs", "list", "--json", env=local).stdout),
        "search": json.loads(cli("search", "Ottawa Treaty", "-k", "3", "--json", env=local).stdout),
        "ask": _answer_fields(json.loads(cli("ask", QUESTION, "--json", env=local).stdout)),
        "eval": _scored(json.loads(cli("eval", str(suite), "--json", env=local).stdout)),
    }
    with running(start_serve(home, tmp_path, api_key=KEY)) as server:
        remote = clean_env(home=str(tmp_path / "unused"), url=server.url, api_key=KEY)
        assert json.loads(cli("docs", "list", "--json", env=remote).stdout) == expected["docs"]
        assert json.loads(cli("search", "Ottawa Treaty", "-k", "3", "--json", env=remote).stdout) == expected["search"]
        asked = cli("ask", QUESTION, "--json", env=remote)
        assert asked.returncode == 0, asked.stderr
        assert _answer_fields(json.loads(asked.stdout)) == expected["ask"]

        # --server URL does the same as CITEWISE_URL
        flagged = cli("--server", server.url, "search", "Ottawa Treaty", "-k", "3", "--json", env={**remote, "CITEWISE_URL": ""})
        assert json.loads(flagged.stdout) == expected["search"], flagged.stderr

        # a suite asked of the server's documents scores as it does in process
        evaluated = cli("eval", str(suite), "--json", env=remote)
        assert evaluated.returncode == 0, evaluated.stderr
        assert _scored(json.loads(evaluated.stdout)) == expected["eval"]
        assert json.loads(evaluated.stdout)["provider"] == f"citewise serve: {server.url}"
        other_docs = tmp_path / "other-docs"  # a suite over a document the server does not hold: an error
        other_docs.mkdir()
        (other_docs / "notes.txt").write_text("The Ottawa Treaty was signed in 1997.\n", encoding="utf-8")
        other = tmp_path / "other.yaml"
        other.write_text(SUITE.replace(str(NEWS_DIR), str(other_docs)).replace("000_1ca178c960a0782e.txt", "notes.txt"))
        absent = cli("eval", str(other), env=remote)
        assert absent.returncode == 1 and "does not hold the suite's documents (notes.txt)" in absent.stderr
        assert "notes.txt" not in {d["source"] for d in json.loads(cli("docs", "list", "--json", env=remote).stdout)}
        dataset = cli("eval", "--dataset", "squad2", str(tmp_path), env=remote)
        assert dataset.returncode == 2 and "--dataset builds its own index" in dataset.stderr

        chat = cli("chat", env=remote, stdin=f"{QUESTION}\n".encode())  # streamed from the server's SSE
        assert chat.returncode == 0 and "Ottawa" in chat.stdout and "Sources" in chat.stdout, chat.stderr

        # the server's errors, as one line; nothing local was created
        wrong_key = cli("docs", "list", env={**remote, "CITEWISE_API_KEY": "not-the-key"})
        assert wrong_key.returncode == 1 and len(wrong_key.stderr.strip().splitlines()) == 1, wrong_key.stderr
        unknown = cli("docs", "rm", "nope.txt", env=remote)
        assert unknown.returncode == 1
        assert unknown.stderr.strip() == "error: not an ingested document: nope.txt (see `citewise docs list`)"
        refused = cli("ingest", str(tmp_path), env=remote)
        assert refused.returncode == 2 and "ingest reads local folders" in refused.stderr
        assert not (tmp_path / "unused").exists()
    unreachable = cli("ask", QUESTION, env={**remote, "CITEWISE_URL": "http://127.0.0.1:9"})
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("error: cannot reach citewise serve at http://127.0.0.1:9")
