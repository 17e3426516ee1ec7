"""The FTS5 lexical index: BM25 ranking over stems, updated by deltas that read only the changed chunks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from index.lexical import LexicalIndex, LexicalView

TEXTS = {
    "a-0": "The Ottawa Treaty bans antipersonnel mines.",
    "a-1": "Ukraine received anti-tank mines earlier in the war.",
    "b-0": "The harbour bell was cast in Leeds and recast in 1954.",
    "c-0": "Ferries leave Skerrin pier every night at nine.",
}


class Manifest:
    """Stands in for the manifest's (generation, referenced ids)."""

    def __init__(self) -> None:
        self.gen, self.ids = 1, set(TEXTS)

    def snapshot(self) -> tuple[int, set[str]]:
        return self.gen, set(self.ids)

    def generation(self) -> int:
        return self.gen


class Fetch:
    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        self.asked: list[list[str]] = []

    def __call__(self, ids: Sequence[str]) -> dict[str, str]:
        self.asked.append(list(ids))
        return {cid: self.texts[cid] for cid in ids if cid in self.texts}


@pytest.fixture
def index(tmp_path: Path) -> LexicalIndex:
    return LexicalIndex(tmp_path / "lexical.sqlite3")


def test_ranks_by_shared_stems_and_leaves_out_chunks_sharing_none(index: LexicalIndex) -> None:
    manifest, fetch = Manifest(), Fetch(TEXTS)
    assert index.sync(manifest.snapshot, manifest.generation, fetch) == (1, set(TEXTS))
    hits = index.search("which treaty banned anti-personnel mines?", 10)
    assert [cid for cid, _ in hits][:1] == ["a-0"]
    assert {cid for cid, _ in hits} == {"a-0", "a-1"}  # "mines" → "mine" matches a-1 too; b and c share nothing
    assert all(score > 0 for _, score in hits)
    assert index.search("the and of", 10) == []  # stopwords only


def test_an_update_reads_only_the_added_chunks_and_drops_removed_ones(index: LexicalIndex) -> None:
    manifest, fetch = Manifest(), Fetch(dict(TEXTS, **{"d-0": "A new pier opened at Skerrin."}))
    index.sync(manifest.snapshot, manifest.generation, fetch)
    manifest.gen, manifest.ids = 2, (manifest.ids - {"c-0"}) | {"d-0"}
    index.sync(manifest.snapshot, manifest.generation, fetch)
    assert fetch.asked[-1] == ["d-0"]
    assert index.ids() == manifest.ids and index.generation() == 2
    assert [cid for cid, _ in index.search("Skerrin pier", 5)] == ["d-0"]
    index.sync(manifest.snapshot, manifest.generation, fetch)  # same generation: nothing read
    assert len(fetch.asked) == 2


def test_a_failed_sync_leaves_the_previous_state_and_the_next_one_completes(index: LexicalIndex) -> None:
    manifest = Manifest()
    index.sync(manifest.snapshot, manifest.generation, Fetch(TEXTS))
    manifest.gen, manifest.ids = 2, manifest.ids | {"d-0"}

    class Broken(dict):
        def __contains__(self, key: object) -> bool:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        index.sync(manifest.snapshot, manifest.generation, lambda ids: Broken())
    assert index.generation() == 1 and index.ids() == set(TEXTS)
    index.sync(manifest.snapshot, manifest.generation, Fetch({"d-0": "A new pier."}))
    assert index.generation() == 2 and "d-0" in index.ids()


def test_a_view_sees_only_its_own_chunk_ids(index: LexicalIndex) -> None:
    manifest = Manifest()
    index.sync(manifest.snapshot, manifest.generation, Fetch(TEXTS))
    view = LexicalView(index, frozenset({"a-1", "b-0"}))
    assert [cid for cid, _ in view.search("mines treaty", 5)] == ["a-1"]


def test_a_repeated_stem_counts_more_and_expansion_finds_chunks_sharing_no_query_stem(index: LexicalIndex) -> None:
    from index.lexical import expansion_terms

    manifest, fetch = Manifest(), Fetch(TEXTS)
    index.sync(manifest.snapshot, manifest.generation, fetch)
    plain = dict(index.search_stems({"mine": 1, "bell": 1}, 10))
    weighted = dict(index.search_stems({"mine": 1, "bell": 3}, 10))
    assert weighted["b-0"] > plain["b-0"] and weighted["a-0"] == pytest.approx(plain["a-0"])
    assert index.search_stems({}, 10) == [] and index.search_stems({"mine": 1}, 0) == []

    # The feedback chunk's heaviest stems, not the query's: "harbour", "cast", ... (ties by stem)
    terms = expansion_terms("When was the bell recast?", [TEXTS["b-0"]], 3)
    assert terms == ["1954", "cast", "harbour"]
    assert expansion_terms("bell", ["", "the and of"], 5) == []  # nothing left after stopwords

    # Expanded by the top chunk's stems, "treaty" reaches a-1, which shares no stem with it ("mines").
    view = LexicalView(index, frozenset(TEXTS))
    assert [cid for cid, _ in view.search("treaty", 10)] == ["a-0"]
    expanded = view.search_expanded("treaty", [TEXTS["a-0"]], 5, 3, 10)
    assert [cid for cid, _ in expanded] == ["a-0", "a-1"]
    assert [cid for cid, _ in LexicalView(index, frozenset({"a-1"})).search_expanded("treaty", [TEXTS["a-0"]], 5, 3, 10)] == ["a-1"]
