"""Server mode: a real `chroma run` server (CITEWISE_CHROMA_URL) gives the same results as the embedded store, and
two API replicas with different CITEWISE_HOMEs sharing it see the same documents (the manifest and the texts
live in the Chroma server; each replica's BM25 index follows the shared manifest version)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest

from tests.hardening.processes import (
    CITEWISE,
    NEWS_A,
    NEWS_B,
    NEWS_DIR,
    Process,
    api,
    clean_env,
    cli,
    running,
    settles_idle,
    start_chroma,
    start_llm_server,
    start_paused,
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


def _search(env: dict[str, str], queries: Path) -> list[list[tuple[str, int, int]]]:
    """Every query of the file in one CLI run: per query, the ranked (source, start_line, end_line)."""
    done = cli("search", "--queries", str(queries), "-k", "4", "--json", env=env)
    assert done.returncode == 0, done.stderr
    rankings = [json.loads(line)["results"] for line in done.stdout.splitlines() if line.strip()]
    assert len(rankings) == len(QUERIES)
    return [[(h["source"], h["start_line"], h["end_line"]) for h in hits] for hits in rankings]


def test_cli_against_chroma_server_matches_embedded_mode(workdir: Path, chroma: Process, model: Process) -> None:
    embedded = _env(workdir / "embedded-home", model)
    server = _env(workdir / "server-home", model, chroma, collection="parity")
    for env in (embedded, server):
        assert cli("ingest", str(NEWS_DIR), env=env).returncode == 0

    queries = workdir / "queries.txt"
    queries.write_text("\n".join(QUERIES) + "\n", encoding="utf-8")
    assert _docs(server) == _docs(embedded)
    assert not (workdir / "server-home" / "chroma").exists(), "server mode must not open a local Chroma store"
    remote = chromadb.HttpClient(host="127.0.0.1", port=int(chroma.url.rsplit(":", 1)[1]))
    assert remote.get_collection("parity").count() == sum(chunks for _, chunks, _ in _docs(embedded))
    assert _search(server, queries) == _search(embedded, queries)

    answers = [_json(cli("ask", QUESTION, "--json", env=env)) for env in (embedded, server)]
    assert answers[0]["answer"] == answers[1]["answer"]  # type: ignore[index]
    assert answers[0]["citations"] == answers[1]["citations"]  # type: ignore[index]
    assert {c["source"] for c in answers[1]["citations"]} <= {NEWS_A, NEWS_B}  # type: ignore[index]

    # Delete through server mode: the document, its chunks and its text are gone from the server, and a fresh
    # CITEWISE_HOME (another machine) sees exactly that: nothing about the documents is stored locally.
    assert cli("docs", "rm", NEWS_A, env=server).returncode == 0
    elsewhere = _env(workdir / "other-machine", model, chroma, collection="parity")
    remaining = _docs(elsewhere)
    assert [d[0] for d in remaining] == [NEWS_B]
    assert remote.get_collection("parity").count() == remaining[0][1]
    texts = remote.get_collection("parity-manifest").get(where={"kind": "text"}, include=["metadatas"])
    assert {m["sha256"] for m in texts["metadatas"]} == {remaining[0][2]}
    assert all(source == NEWS_B for ranking in _search(elsewhere, queries) for source, _, _ in ranking)


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


def test_writers_on_two_machines_take_turns(workdir: Path, chroma: Process, model: Process) -> None:
    """A writer paused mid-ingest (new chunks written, manifest not switched) holds the lease in the server: a
    writer with another CITEWISE_HOME waits instead of sweeping those chunks away as orphans; once the first is
    killed, its lease expires and the second proceeds and repairs."""
    docs, extra = workdir / "lease-docs", workdir / "lease-extra"
    docs.mkdir()
    extra.mkdir()
    (docs / "weir.txt").write_text("The Marrow Weir lock keeper logs the river level at six.\n", encoding="utf-8")
    (extra / "orchard.txt").write_text("The orchard has forty-one pear trees.\n", encoding="utf-8")
    first_env = _env(workdir / "machine-1", model, chroma, collection="lease")
    second_env = _env(workdir / "machine-2", model, chroma, collection="lease")
    first = start_paused("after_chroma_write", first_env, docs)
    try:
        remote = chromadb.HttpClient(host="127.0.0.1", port=int(chroma.url.rsplit(":", 1)[1]))
        in_flight = set(remote.get_collection("lease").get(include=[])["ids"])
        assert in_flight
        second = subprocess.Popen(
            [str(CITEWISE), "ingest", str(extra)], env=second_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True,
        )  # fmt: skip
        assert settles_idle(second), "the second writer did not wait for the first one's lease"
        assert second.poll() is None
        assert set(remote.get_collection("lease").get(include=[])["ids"]) >= in_flight, "in-flight chunks were swept"
    finally:
        first.kill()
        first.wait(30)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0 and "1 added" in out, err
    listed = _docs(second_env)
    assert [d[0] for d in listed] == ["orchard.txt"]  # the killed writer never switched its manifest row
    assert remote.get_collection("lease").count() == listed[0][1]  # and its orphans were swept after it died
