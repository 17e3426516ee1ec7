"""Watched folders (`citewise ingest FOLDER --watch`, `citewise serve --watch FOLDER`): a file created, edited,
renamed and deleted is indexed, replaced, moved and removed, and the index is consistent afterwards (no orphan
chunks or texts, lexical index in step: the crash checks' helper). Latencies are printed, not asserted (the
machine is shared); the timeout only catches a watcher that never reacts."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from service.llm import free_port
from tests.hardening.index_checks import assert_consistent
from tests.hardening.processes import CITEWISE, clean_env, cli, running, start, wait_until

REACT_TIMEOUT_S = 60.0  # far above the debounce (0.3 s); a loaded CI machine embeds slowly


def _lines(stream) -> queue.Queue[str]:
    """The stream's lines, as they arrive, on a queue (read by a thread)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in stream], daemon=True).start()
    return lines


def _expect(lines: queue.Queue[str], wanted: set[str], started: float) -> float:
    """Wait for every line in `wanted` (other lines may come between); seconds since `started`."""
    missing = set(wanted)
    deadline = time.monotonic() + REACT_TIMEOUT_S
    while missing:
        try:
            missing.discard(lines.get(timeout=max(0.1, deadline - time.monotonic())))
        except queue.Empty:
            pytest.fail(f"the watcher did not report {sorted(missing)} within {REACT_TIMEOUT_S:.0f} s")
    return time.monotonic() - started


def test_ingest_watch_follows_create_edit_rename_delete(tmp_path: Path) -> None:
    folder, home = tmp_path / "docs", tmp_path / "home"
    folder.mkdir()
    (folder / "keep.md").write_text("# Notes\n\nThe keeper stays in the folder the whole time.\n")
    proc = subprocess.Popen(
        [str(CITEWISE), "ingest", str(folder), "--watch"], env=clean_env(home=str(home)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        out, err = _lines(proc.stdout), _lines(proc.stderr)
        _expect(out, {"added: keep.md"}, time.monotonic())
        _expect(err, {f"watching {folder.resolve()} (Ctrl-C to stop)"}, time.monotonic())
        note = folder / "note.txt"
        steps = {}
        t = time.monotonic()
        note.write_text("The pump station was inspected on 3 March.\n")
        steps["create"] = _expect(out, {"added: note.txt"}, t)
        t = time.monotonic()
        note.write_text("The pump station was inspected on 9 March and passed.\n")
        steps["edit"] = _expect(out, {"updated: note.txt"}, t)
        t = time.monotonic()
        note.rename(folder / "renamed.txt")
        steps["rename"] = _expect(out, {"removed: note.txt", "added: renamed.txt"}, t)
        t = time.monotonic()
        (folder / "renamed.txt").unlink()
        steps["delete"] = _expect(out, {"removed: renamed.txt"}, t)
        print("watch latencies (s):", {k: round(v, 2) for k, v in steps.items()})
        (folder / "last.txt").write_text("Added last, before the watcher stops.\n")
        _expect(out, {"added: last.txt"}, time.monotonic())
        proc.send_signal(signal.SIGINT)  # Ctrl-C: stop cleanly
        assert proc.wait(timeout=180) == 0
        _expect(err, {"stopped watching"}, time.monotonic())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert_consistent(home, folder)


def test_serve_watch_keeps_the_served_index_in_sync(tmp_path: Path) -> None:
    folder, home = tmp_path / "docs", tmp_path / "home"
    folder.mkdir()
    (folder / "first.txt").write_text("The first document is about the reservoir inlet valve.\n")
    port = free_port()
    process = start(
        [str(CITEWISE), "serve", "--host", "127.0.0.1", "--port", str(port), "--watch", str(folder)],
        clean_env(home=str(home), llm_threads="1"), tmp_path / "serve.log", f"http://127.0.0.1:{port}",
    )  # fmt: skip
    with running(process):
        wait_until(process, "/healthz")

        def sources() -> list[str]:
            return [d["source"] for d in httpx.get(f"{process.url}/v1/documents", timeout=30).json()]

        def becomes(expected: list[str]) -> float:
            started = time.monotonic()
            while sources() != expected:
                assert process.alive(), process.log()[-3000:]
                assert time.monotonic() - started < REACT_TIMEOUT_S, f"documents {sources()} != {expected}"
                time.sleep(0.1)
            return time.monotonic() - started

        becomes(["first.txt"])  # the folder is ingested when the server starts
        (folder / "second.txt").write_text("The second document is about the contractor's letter.\n")
        added = becomes(["first.txt", "second.txt"])
        (folder / "first.txt").unlink()
        removed = becomes(["second.txt"])
        hits = httpx.post(f"{process.url}/v1/search", json={"query": "contractor letter", "k": 3}, timeout=60).json()
        assert [h["source"] for h in hits["results"]] == ["second.txt"]
        print(f"serve --watch: added in {added:.2f} s, removed in {removed:.2f} s")
        assert "watching" in process.log() and "Traceback" not in process.log(), process.log()[-3000:]
    assert_consistent(home, folder)


def test_watch_takes_folders(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("text\n")
    done = cli("ingest", str(tmp_path / "a.txt"), "--watch", env=clean_env(home=str(tmp_path / "home")))
    assert done.returncode == 2 and done.stderr.strip() == (
        f"error: --watch takes folders: {tmp_path / 'a.txt'} is not one (see 'citewise ingest --help')"
    )
    assert not (tmp_path / "home").exists()
