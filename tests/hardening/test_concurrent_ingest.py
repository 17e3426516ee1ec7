"""Two `citewise ingest` processes on one CITEWISE_HOME are serialised by the write lock (a killed holder releases
it), and a reader in another process during an update sees the old or the new version of a document, never
neither."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

from service.pipeline.retrieval import retrieve
from tests.hardening.index_checks import assert_consistent, open_corpus
from tests.hardening.processes import (
    CITEWISE,
    clean_env,
    cli,
    kill_at,
    settles_idle,
    start_paused,
)

OLD = "The lock keeper at Marrow Weir logs the river level every morning at six.\n"
NEW = "The lock keeper at Marrow Weir now logs the river level every evening at nine.\n"
QUERY = "Marrow Weir lock keeper river level"
BLOCKED_FOR_S = 3.0


def _ingest(home: Path, *paths: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(CITEWISE), "ingest", *map(str, paths)], env=clean_env(home=str(home)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def test_reader_during_crash_and_update_sees_old_or_new_never_neither(tmp_path: Path) -> None:
    home, docs = tmp_path / "home", tmp_path / "docs"
    docs.mkdir()
    (docs / "weir.txt").write_text(OLD, encoding="utf-8")
    assert cli("ingest", str(docs), env=clean_env(home=str(home))).returncode == 0

    reader = open_corpus(home)  # a long-lived reader, like a running API process
    seen: list[str] = []
    stop = threading.Event()

    def read_forever() -> None:
        while not stop.is_set():
            hits = [h for h in retrieve(reader, QUERY, 3) if h.source == "weir.txt"]
            text = reader.text("weir.txt")  # read a moment later: it may already be the next version
            version = "new" if hits and "evening" in hits[0].text else "old" if hits and "morning" in hits[0].text else ""
            whole = "evening" in text or "morning" in text
            seen.append(version if version and whole else f"neither: {hits} {text!r}")
            time.sleep(0.05)

    thread = threading.Thread(target=read_forever, daemon=True)
    thread.start()
    try:
        (docs / "weir.txt").write_text(NEW, encoding="utf-8")
        kill_at("after_chroma_write", home, docs)  # new chunks written, manifest not switched, then kill -9
        time.sleep(0.5)
        updater = _ingest(home, docs)  # repairs, then switches to the new version while the reader reads
        out, err = updater.communicate(timeout=300)
        assert updater.returncode == 0 and "1 updated" in out, err
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join(30)
        reader.close()

    neither = [s for s in seen if s.startswith("neither")]
    assert seen and not neither, neither[:3]
    assert "old" in seen and seen[-1] == "new"
    assert seen == sorted(seen, key=lambda s: s == "new"), "went back to the old version after seeing the new one"
    assert_consistent(home, docs)


def test_lock_blocks_a_second_writer_while_the_first_holds_it(tmp_path: Path) -> None:
    home, docs, extra = tmp_path / "home", tmp_path / "docs", tmp_path / "extra"
    docs.mkdir()
    extra.mkdir()
    (docs / "weir.txt").write_text(OLD, encoding="utf-8")
    (extra / "orchard.txt").write_text("The orchard has forty-one pear trees.\n", encoding="utf-8")
    holder = start_paused("after_manifest_switch", clean_env(home=str(home)), docs)
    try:
        writer2 = _ingest(home, extra)
        assert settles_idle(writer2), "the second writer finished (or kept working) while the lock was held"
        time.sleep(BLOCKED_FOR_S)
        assert writer2.poll() is None, "the second writer did not wait for the lock"
        listed = cli("docs", "list", "--json", env=clean_env(home=str(home))).stdout
        assert "orchard.txt" not in listed  # nothing of writer 2 is written while writer 1 holds the lock
    finally:
        holder.kill()  # kill -9: the lock is released with the process
        holder.wait(30)
    out, err = writer2.communicate(timeout=300)
    assert writer2.returncode == 0 and "1 added" in out, err
    (docs / "orchard.txt").write_bytes((extra / "orchard.txt").read_bytes())  # the files the index now holds
    assert_consistent(home, docs)
