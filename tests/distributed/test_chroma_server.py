"""Server mode: a real `chroma run` server (CITEWISE_CHROMA_URL) gives the same results as the embedded store, and
two API replicas with different CITEWISE_HOMEs sharing it see the same documents (the manifest and the texts
live in the Chroma server; each replica's BM25 index follows the shared manifest version)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest

from tests.hardening.processes import (
    NEWS_A,
    NEWS_B,
    NEWS_DIR,
    Process,
    api,
    clean_env,
    cli,
    running,
    start_chroma,
    start_llm_server,
    start_serve,
)

pytestmark = pytest.mark.slow

QUERIES = ["Ottawa Treaty antipersonnel mines", "ATACMS long-range missiles", "anti-tank mines pledge June 2022"]
QUESTION = "Which treaty bans antipersonnel mines?"
LIGHTHOUSE = "The Harwick lighthouse keeper, Odile Brennan, repainted the tower cobalt blue in 1931.\n"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("distributed")


@pytest.fixture(scope="module")
def chroma(workdir: Path) -> Iterator[Process]:
    with running(start_chroma(workdir / "chroma-data", workdir)) as process:
        yield process


@pytest.fixture(scope="module")
def model(workdir: Path) -> Iterator[Process]:
    with running(start_llm_server(workdir)) as process:
        yield process


def _env(home: Path, model: Process, chroma: Process | None = None, **extra: str) -> dict[str, str]:
    settings = {"home": str(home), "llm_base_url": model.url + "/v1", "llm_threads": "1", **extra}
    if chroma is not None:
        settings["chroma_url"] = chroma.url
    return clean_env(**settings)


def _json(done) -> object:  # noqa: ANN001 - CompletedProcess
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _docs(env: dict[str, str]) -> list[tuple[str, int, str]]:
    return [(d["source"], d["chunks"], d["sha256"]) for d in _json(cli("docs", "list", "--json", env=env))]  # type: ignore[union-attr]


def _search(env: dict[str, str], query: str) -> list[tuple[str, int, int]]:
    found = _json(cli("search", query, "-k", "4", "--json", env=env))
    return [(h["source"], h["start_line"], h["end_line"]) for h in found["results"]]  # type: ignore[index]


def test_cli_against_chroma_server_matches_embedded_mode(workdir: Path, chroma: Process, model: Process) -> None:
    embedded = _env(workdir / "embedded-home", model)
    server = _env(workdir / "server-home", model, chroma, collection="parity")
    for env in (embedded, server):
        assert cli("ingest", str(NEWS_DIR), env=env).returncode == 0

    assert _docs(server) == _docs(embedded)
    assert not (workdir / "server-home" / "chroma").exists(), "server mode must not open a local Chroma store"
    remote = chromadb.HttpClient(host="127.0.0.1", port=int(chroma.url.rsplit(":", 1)[1]))
    assert remote.get_collection("parity").count() == sum(chunks for _, chunks, _ in _docs(embedded))
    for query in QUERIES:
        assert _search(server, query) == _search(embedded, query), query

    answers = [_json(cli("ask", QUESTION, "--json", env=env)) for env in (embedded, server)]
    assert answers[0]["answer"] == answers[1]["answer"]  # type: ignore[index]
    assert answers[0]["citations"] == answers[1]["citations"]  # type: ignore[index]
    assert {c["source"] for c in answers[1]["citations"]} <= {NEWS_A, NEWS_B}  # type: ignore[index]

    # Delete through server mode: the document, its chunks and its text are gone from the server.
    assert cli("docs", "rm", NEWS_A, env=server).returncode == 0
    assert [d[0] for d in _docs(server)] == [NEWS_B]
    assert remote.get_collection("parity").count() == _docs(server)[0][1]
    assert all(source != NEWS_A for query in QUERIES for source, _, _ in _search(server, query))
    # A fresh CITEWISE_HOME (another machine) sees the same state: nothing about it is stored locally.
    elsewhere = _env(workdir / "other-machine", model, chroma, collection="parity")
    assert _docs(elsewhere) == _docs(server)
    assert _search(elsewhere, QUERIES[2]) == _search(server, QUERIES[2])


def test_two_replicas_share_one_chroma_server(workdir: Path, chroma: Process, model: Process) -> None:
    shared = {"chroma_url": chroma.url, "llm_base_url": model.url + "/v1", "collection": "replicas"}
    seed = _env(workdir / "seed-home", model, chroma, collection="replicas")
    assert cli("ingest", str(NEWS_DIR), env=seed).returncode == 0
    upload = workdir / "lighthouse.txt"
    upload.write_text(LIGHTHOUSE, encoding="utf-8")

    with running(start_serve(workdir / "replica-a", workdir, **shared)) as a, running(
        start_serve(workdir / "replica-b", workdir, **shared)
    ) as b, api(a) as client_a, api(b) as client_b:
        sources = lambda client: sorted(d["source"] for d in client.get("/v1/documents").json())  # noqa: E731
        assert sources(client_a) == sources(client_b) == [NEWS_A, NEWS_B]
        client_b.post("/v1/search", json={"query": "Harwick lighthouse"}).raise_for_status()  # B caches a view now

        with upload.open("rb") as f:
            uploaded = client_a.post("/v1/documents", files={"files": ("lighthouse.txt", f, "text/plain")})
        assert uploaded.status_code == 200, uploaded.text
        assert sources(client_b) == sorted([NEWS_A, NEWS_B, "lighthouse.txt"])

        hits = client_b.post("/v1/search", json={"query": "Harwick lighthouse cobalt blue"}).json()["results"]
        assert hits and hits[0]["source"] == "lighthouse.txt"  # dense and BM25 both follow the new version
        answer = client_b.post("/v1/ask", json={"question": "What colour did Odile Brennan paint the Harwick lighthouse?"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert not body["refused"] and "lighthouse.txt" in {c["source"] for c in body["citations"]}, body
        quote = next(c for c in body["citations"] if c["source"] == "lighthouse.txt")
        assert quote["quote"] in LIGHTHOUSE  # B read the text from the server to check the quote

        assert client_b.delete("/v1/documents/lighthouse.txt").status_code == 200
        assert sources(client_a) == [NEWS_A, NEWS_B]
        hits = client_a.post("/v1/search", json={"query": "Harwick lighthouse cobalt blue"}).json()["results"]
        assert all(h["source"] != "lighthouse.txt" for h in hits)
