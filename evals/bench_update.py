"""One-file updates on a large index vs an empty one: add, change and delete a 60-byte Markdown file.

Target: each operation on the 15k-chunk SciFact index takes ≤ 1.3× the same operation on an empty index
(the lexical index applies only the change: index/lexical.py). The two indexes take turns, round by round, so a
shared machine's load shifts fall on both. Chroma's own one-vector upsert and delete are timed beside them over
300 consecutive writes per collection: enough to span several of Chroma's syncs, whose pending records every
write pays for (index/store.py: HNSW_SYNC_RECORDS). Also prints the one-off cost of building the
lexical index from an existing index (e.g. one built before it existed) and peak RSS.

Server mode (`chroma run`, two replicas with their own CITEWISE_HOME): the SciFact index is copied into the
server, replica A adds / changes / deletes, replica B's next search must find the new version; B's catch-up
time is printed beside A's writes, with the chunk texts it read and its full manifest reads (target: 0).

The SciFact index is reused from --home (build it once: `python -m evals.bench_beir --home DIR`); the file is
removed again at the end, so the index is left as it was.

    python -m evals.bench_update [--home DIR] [--repeats 10] [--modes embedded,server]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from chromadb.api.models.Collection import Collection

from evals.bench_beir import INDEX_HOME
from evals.bench_ingest import peak_rss_mb
from evals.chroma_server import chroma_server
from evals.index_copy import copy_documents
from index.corpus import Corpus
from index.embeddings import MiniLMEmbedder
from service.config import Settings
from service.pipeline.retrieval import retrieve

TARGET_RATIO = 1.3
CHROMA_PAIRS = 300  # Chroma-alone upsert + delete pairs per collection
NOTE = "# Harbour notes\n\nThe harbour bell was recast in {year}.\n"  # about 60 bytes


def elapsed(step: object) -> float:
    started = time.perf_counter()
    step()  # type: ignore[operator]
    return time.perf_counter() - started


def scan_costs(corpus: Corpus) -> dict[str, float]:
    """Seconds of the reads every update still makes over the whole index (ids, not texts)."""
    costs = {
        "Chroma: all chunk ids (orphan sweep)": elapsed(corpus.store.all_ids),
        "manifest: all rows (snapshot)": elapsed(corpus.manifest.rows),
        "lexical index: all ids (delta)": elapsed(corpus.lexical.ids),
    }
    queries = ["effects of vitamin D on bone density", "gene expression in tumour cells", "antibiotic resistance"]
    lexical = [elapsed(lambda q=q: corpus.search_view().bm25.search(q, 100)) for q in queries * 3]
    hybrid = [elapsed(lambda q=q: retrieve(corpus, q, 8)) for q in queries * 3]
    costs["lexical search p50 (k=100)"] = statistics.median(lexical)
    costs["hybrid retrieve p50 (k=8)"] = statistics.median(hybrid)
    return costs


class UpdateRounds:
    """Add / change / delete of one small file through `writer`, one round at a time, so that rounds on two
    indexes can alternate (`interleaved`) and a shared machine's load shifts fall on both alike. With a `reader`
    (a second replica on the same Chroma server), also its catch-up after each (`follow …`: its next search view),
    checked by a BM25 search that must find the new version, and what the catch-ups read (`reader …` counts)."""

    def __init__(self, writer: Corpus, folder: Path, reader: Corpus | None = None) -> None:
        self.writer, self.reader = writer, reader
        writer.search_view()  # the writer's view (and its lexical index) brought up to date first
        self.reads = _count_reads(reader) if reader is not None else {}
        if reader is not None:
            reader.search_view()
            self.reads.update(chunks=0, full=0)
        self.times: dict[str, list[float]] = {op: [] for op in ("add", "change", "delete")}
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "bench-update-note.md"

    def _follow(self, op: str, expect: str | None) -> None:
        if self.reader is None:
            return
        self.times.setdefault(f"follow {op}", []).append(elapsed(self.reader.search_view))
        hits = [h for h in retrieve(self.reader, "harbour bell recast", 3, "bm25") if h.source == self.path.name]
        found = hits[0].text if hits else None
        if (expect is None) != (found is None) or (expect is not None and expect not in (found or "")):
            raise RuntimeError(f"the second replica did not follow the {op}: found {found!r}")

    def round(self, i: int) -> None:
        writer, path = self.writer, self.path
        path.write_text(NOTE.format(year=1954 + i))
        self.times["add"].append(elapsed(lambda: writer.ingest([path])))
        self._follow("add", str(1954 + i))
        path.write_text(NOTE.format(year=1887 + i))
        self.times["change"].append(elapsed(lambda: writer.ingest([path])))
        self._follow("change", str(1887 + i))
        self.times["delete"].append(elapsed(lambda: writer.remove([path.name])))
        self._follow("delete", None)
        writer.search_view()

    def figures(self) -> dict[str, float]:
        """Median seconds per operation (and the reader's read counts)."""
        figures = {op: statistics.median(values) for op, values in self.times.items()}
        if self.reader is not None:
            figures["reader chunk texts read"] = self.reads["chunks"]
            figures["reader full manifest reads"] = self.reads["full"]
        return figures


def interleaved(rounds: list[UpdateRounds], repeats: int) -> list[dict[str, float]]:
    """Each index's round i in turn (order swapped every round), then each one's medians."""
    for i in range(repeats):
        for one in rounds if i % 2 == 0 else rounds[::-1]:
            one.round(i)
    return [one.figures() for one in rounds]


def measure(writer: Corpus, folder: Path, repeats: int, reader: Corpus | None = None) -> dict[str, float]:
    """Median seconds of add / change / delete of one small file through `writer` (one index alone)."""
    return interleaved([UpdateRounds(writer, folder, reader)], repeats)[0]


def _count_reads(reader: Corpus) -> dict[str, int]:
    """Count the chunks a replica fetches and its reads of every manifest row, from now on."""
    counts = {"chunks": 0, "full": 0}
    get, snapshot = reader.store.get, reader.manifest.snapshot

    def counted_get(ids):  # noqa: ANN001, ANN202 - same signature as ChunkStore.get
        counts["chunks"] += len(ids)
        return get(ids)

    def counted_snapshot():  # noqa: ANN202
        counts["full"] += 1
        return snapshot()

    reader.store.get = counted_get  # type: ignore[method-assign]
    reader.manifest.snapshot = counted_snapshot  # type: ignore[method-assign]
    return counts


def chroma_alone(collections: list[Collection], pairs: int = CHROMA_PAIRS) -> list[dict[str, float]]:
    """Median seconds of Chroma's own upsert and delete of one vector (a bench-probe id, deleted again; a killed
    run's leftover is an orphan the next write sweeps), over `pairs` consecutive pairs per collection, the
    collections taking turns: the part of an update no index of ours can make independent of the collection's
    size (its HNSW graph and SQLite tables). Enough pairs to span several of Chroma's syncs (index/store.py)."""
    import numpy as np

    from index.embeddings import DIMENSIONS

    vector = np.random.default_rng(0).standard_normal(DIMENSIONS).astype(np.float32)
    vector /= np.linalg.norm(vector)
    times: list[dict[str, list[float]]] = [{"upsert": [], "delete": []} for _ in collections]
    for i in range(pairs):
        for collection, own in zip(collections, times):
            own["upsert"].append(elapsed(lambda i=i, c=collection: c.upsert(
                ids=[f"bench-probe-{i}"], embeddings=[vector.tolist()], documents=["probe"], metadatas=[{"source": "probe"}])))
            own["delete"].append(elapsed(lambda i=i, c=collection: c.delete(ids=[f"bench-probe-{i}"])))
    return [{op: statistics.median(values) for op, values in own.items()} for own in times]


def print_table(title: str, large: dict[str, float], empty: dict[str, float], chroma_large: dict[str, float],
                chroma_empty: dict[str, float]) -> None:  # fmt: skip
    print(f"\n{title}")
    print("| operation | large ms | empty ms | ratio | target |")
    print("|---|---:|---:|---:|---:|")
    for op in [op for op in large if op in ("add", "change", "delete") or op.startswith("follow")]:
        ratio = large[op] / empty[op] if empty[op] else float("inf")
        verdict = f"≤ {TARGET_RATIO} {'ok' if ratio <= TARGET_RATIO else 'MISSED'}"
        print(f"| {op} | {large[op] * 1000:.1f} | {empty[op] * 1000:.1f} | {ratio:.2f} | {verdict} |")
    for op in ("upsert", "delete"):
        print(f"| Chroma alone: one-vector {op} (median of {CHROMA_PAIRS}) | {chroma_large[op] * 1000:.1f} | {chroma_empty[op] * 1000:.1f} "
              f"| {chroma_large[op] / chroma_empty[op]:.2f} | |")
    # What is left of each operation without Chroma's own vector writes (add: one upsert; change: one upsert and
    # one delete; delete: one delete): the part of an update this code owns.
    chroma_ops = {"add": ("upsert",), "change": ("upsert", "delete"), "delete": ("delete",)}
    own = {op: (large[op] - sum(chroma_large[c] for c in cs), empty[op] - sum(chroma_empty[c] for c in cs))
           for op, cs in chroma_ops.items()}  # fmt: skip
    print("without Chroma's own vector writes: " + ", ".join(
        f"{op} {big * 1000:.1f} vs {small * 1000:.1f} ms ({big / small:.2f})" if small > 0 else f"{op} n/a"
        for op, (big, small) in own.items()))  # fmt: skip
    for key in ("reader chunk texts read", "reader full manifest reads"):
        if key in large:
            print(f"{key}: {int(large[key])} on the large index, {int(empty[key])} on the empty one")


def local_run(home: Path, folder: Path, repeats: int, embedder: MiniLMEmbedder) -> None:
    corpus = Corpus(Settings(home=home), embedder=embedder)
    empty_corpus = Corpus(Settings(home=folder / "empty-home"), embedder=embedder)
    try:
        fresh = corpus.lexical.generation() != corpus.manifest.generation()
        build = elapsed(corpus.search_view)
        chunks = len(corpus.search_view().valid_ids)
        parts = scan_costs(corpus)
        print("per-update costs that still grow with the index (scale model):")
        for name, seconds in parts.items():
            print(f"  {name}: {seconds * 1000:.0f} ms")
        if fresh:
            print(f"lexical index built from the existing {chunks} chunks in {build:.1f} s (one-off)")
        large, empty = interleaved(
            [UpdateRounds(corpus, folder / "large"), UpdateRounds(empty_corpus, folder / "empty")], repeats)
        chroma_large, chroma_empty = chroma_alone([corpus.store.collection, empty_corpus.store.collection])
    finally:
        corpus.close()
        empty_corpus.close()
    print_table(f"one-file update, median of {repeats}, the two indexes taking turns: {chunks}-chunk index vs "
                "empty index (embedded)", large, empty, chroma_large, chroma_empty)  # fmt: skip


def server_run(home: Path, folder: Path, repeats: int, embedder: MiniLMEmbedder) -> None:
    """The same on a `chroma run` server with two replicas (own CITEWISE_HOMEs): the SciFact index is copied
    into the server once (evals/index_copy.py), replica A writes, replica B follows."""
    with chroma_server(folder / "chroma") as url:
        local = Corpus(Settings(home=home), embedder=embedder)
        replicas = {
            name: [Corpus(Settings(home=folder / f"{name}-{r}", chroma_url=url, collection=name), embedder=embedder)
                   for r in ("a", "b")]
            for name in ("scifact", "empty")
        }  # fmt: skip
        try:
            started = time.perf_counter()
            chunks = copy_documents(local, replicas["scifact"][0], local.manifest.rows())
            print(f"server mode: {chunks} chunks copied into a chroma run server in {time.perf_counter() - started:.0f} s")
            first = elapsed(replicas["scifact"][1].search_view)
            print(f"replica B's first view (every row and chunk text read once): {first:.1f} s")
            large, empty = interleaved([
                UpdateRounds(replicas[name][0], folder / name, reader=replicas[name][1]) for name in ("scifact", "empty")
            ], repeats)  # fmt: skip
            chroma_large, chroma_empty = chroma_alone(
                [replicas[name][0].store.collection for name in ("scifact", "empty")])
        finally:
            local.close()
            for pair in replicas.values():
                for corpus in pair:
                    corpus.close()
    print_table(f"one-file update, median of {repeats}, the two collections taking turns: {chunks}-chunk collection "
                "vs empty one (chroma run, replica A writes, B follows)", large, empty, chroma_large, chroma_empty)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=INDEX_HOME, help="a SciFact index (see evals.bench_beir)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--modes", default="embedded,server", help="comma-separated: embedded,server")
    args = parser.parse_args(argv if argv is not None else [])
    if not (args.home / "manifest.sqlite3").is_file():
        print(f"no index in {args.home}: build it with `python -m evals.bench_beir --home {args.home}`")
        return
    embedder = MiniLMEmbedder()
    with tempfile.TemporaryDirectory(prefix="bench-update-") as tmp:
        if "embedded" in args.modes:
            local_run(args.home, Path(tmp) / "embedded", args.repeats, embedder)
        if "server" in args.modes:
            server_run(args.home, Path(tmp) / "server", args.repeats, embedder)
    print(f"peak RSS {peak_rss_mb():.0f} MB; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
