"""`citewise ingest` / `docs list` / `docs rm` as a user runs them (subprocesses), and offline ingestion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

from index.corpus import Corpus
from service.config import Settings


def _cli(args: list[str], settings: Settings, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "CITEWISE_HOME": str(settings.home), **env}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args], capture_output=True, text=True, env=full_env, timeout=300
    )


def test_ingest_list_rm_through_the_cli(settings: Settings, news_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "does-not-exist"
    result = _cli(["ingest", str(news_dir), str(missing)], settings)
    assert result.returncode == 1  # one given path failed entirely …
    assert result.stderr.strip() == f"failed: {missing}: no such file or folder"  # … with one line
    assert result.stdout.strip().splitlines() == [  # which files changed, then the counts
        "added: 000_1ca178c960a0782e.txt",
        "added: 001_846b2a5c2ae0efae.txt",
        "2 added, 0 updated, 0 unchanged, 0 removed, 0 skipped, 1 failed",
    ]
    quiet_home = settings.model_copy(update={"home": tmp_path / "quiet-home"})
    quiet = _cli(["ingest", "--quiet", str(news_dir)], quiet_home)  # --quiet: the counts only
    assert quiet.returncode == 0 and quiet.stdout.strip() == "2 added, 0 updated, 0 unchanged, 0 removed, 0 skipped, 0 failed"
    again = _cli(["ingest", str(news_dir)], settings)  # nothing changed: only the counts
    assert again.returncode == 0 and again.stdout.strip() == "0 added, 0 updated, 2 unchanged, 0 removed, 0 skipped, 0 failed"

    result = _cli(["docs", "list", "--json"], settings)
    assert result.returncode == 0, result.stderr
    docs = json.loads(result.stdout)
    assert [d["source"] for d in docs] == ["000_1ca178c960a0782e.txt", "001_846b2a5c2ae0efae.txt"]
    for d in docs:
        assert set(d) == {"source", "chunks", "sha256", "ingested_at"}
        assert d["chunks"] >= 3 and len(d["sha256"]) == 64
        datetime.fromisoformat(d["ingested_at"].replace("Z", "+00:00"))

    result = _cli(["docs", "rm", "000_1ca178c960a0782e.txt", "nope.txt"], settings)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: not an ingested document: nope.txt (see `citewise docs list`)"
    ]
    result = _cli(["docs", "rm", "000_1ca178c960a0782e.txt"], settings)
    assert result.returncode == 0, result.stderr
    corpus = Corpus.open(settings)
    assert [d.source for d in corpus.list_documents()] == ["001_846b2a5c2ae0efae.txt"]
    assert corpus.store.all_ids() == corpus.manifest.referenced_ids()
    corpus.close()


OFFLINE_SCRIPT = textwrap.dedent(
    """
    import socket, sys
    from pathlib import Path

    def refuse(*args, **kwargs):
        raise OSError("network access attempted during offline ingestion")

    _connect = socket.socket.connect
    def guarded_connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            refuse()
        return _connect(self, address)
    socket.socket.connect = guarded_connect
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    from index.corpus import Corpus
    from service.config import Settings
    corpus = Corpus.open(Settings(home=Path(sys.argv[1])))
    report = corpus.ingest([Path(sys.argv[2])])
    from service.pipeline.retrieval import retrieve
    hits = retrieve(corpus, "Ottawa Treaty", 1)
    print(report.summary_line(), hits[0].source)
    """
)


def test_ingestion_and_search_work_with_networking_disabled(settings: Settings, news_dir: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT, str(settings.home), str(news_dir)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "2 added, 0 updated, 0 unchanged, 0 removed, 0 skipped, 0 failed 000_1ca178c960a0782e.txt"
