"""Watched folders: keep the index in sync while files are added, changed, renamed and deleted.

`citewise ingest FOLDER --watch` and `citewise serve --watch FOLDER` run `watch_folders`: the `watchfiles` library
(Rust `notify` underneath) reports file-system events, debounced into batches; each batch re-runs the ordinary
idempotent ingest of the watched folders with pruning. That is the same code path, lock and crash safety as
`citewise ingest`: unchanged files are only hashed, a changed file is replaced, a renamed one moves (removed under
its old name, added under the new), a deleted one is pruned. A failing batch (another writer holds the lock, a
file vanished mid-read) is reported and the next event retries it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from service.errors import UsageProblem
from service.schemas import IngestReport

log = logging.getLogger("citewise.watch")


class Ingest(Protocol):
    """`Engine.ingest`: the watcher calls it with the folders and `prune=True`."""

    def __call__(self, paths: Sequence[Path], prune: bool = False) -> IngestReport: ...

DEBOUNCE_MS = 300  # events closer together than this are one batch (an editor's save is several events)
STEP_MS = 50  # how often the watcher looks for events within a debounce window
READY_TIMEOUT_MS = 1000  # the watcher yields after this long without events: the first such yield means "running"


def watched_folders(paths: Sequence[Path]) -> list[Path]:
    """The folders to watch, resolved; a usage error for anything that is not an existing folder."""
    folders = []
    for path in paths:
        if not path.is_dir():
            raise UsageProblem(f"--watch takes folders: {path} is not one")
        folders.append(path.resolve())
    return folders


def watch_folders(
    folders: Sequence[Path],
    *,
    ingest: Ingest,
    on_report: Callable[[IngestReport], None],
    on_error: Callable[[Exception], None],
    on_ready: Callable[[], None] = lambda: None,
    ignore: Sequence[Path] = (),
    stop: threading.Event | None = None,
) -> None:
    """Call `ingest(folders, prune=True)` after every debounced batch of changes under `folders` (paths under
    `ignore`, e.g. an index home inside a watched folder, do not count), until `stop` is set or Ctrl-C.

    Once the watcher is running, one catch-up ingest covers whatever changed before it started (nothing is missed
    between an earlier ingest and the first event); then `on_ready`."""
    from watchfiles import DefaultFilter, watch

    watch_filter = DefaultFilter(ignore_paths=[str(p.resolve()) for p in ignore])
    ready = False
    for changes in watch(
        *folders, watch_filter=watch_filter, debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=stop,
        raise_interrupt=False, yield_on_timeout=True, rust_timeout=READY_TIMEOUT_MS,
    ):  # fmt: skip
        if ready and not changes:  # a timeout with nothing changed
            continue
        try:
            report = ingest(list(folders), prune=True)
        except Exception as e:  # reported; the next batch of events tries again
            on_error(e)
            continue
        finally:
            if not ready:
                ready = True
                on_ready()
        on_report(report)


@contextmanager
def watching_in_background(
    folders: Sequence[Path], *, ingest: Ingest, ignore: Sequence[Path] = ()
) -> Iterator[None]:
    """For `citewise serve --watch`: while the block runs, a thread ingests `folders` once, then keeps the index
    in sync with them (logged); stopped when the block ends. `ingest` is the serving engine's own (one index
    client per process: a second one on a fresh index races the first)."""
    if not folders:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        watch_folders(
            folders,
            ingest=ingest,
            on_report=lambda report: log.info("watch: %s", report.summary_line()) if report.changed() else None,
            on_error=lambda e: log.error("watch: %s", e),
            on_ready=lambda: log.info("watching %s", ", ".join(map(str, folders))),
            ignore=ignore,
            stop=stop,
        )

    thread = threading.Thread(target=run, name="citewise-watch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
