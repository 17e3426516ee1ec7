"""The manifest's change journal: a reader some generations behind gets exactly the chunk ids added and removed
since, and is told to re-read everything (None) when the journal does not reach back that far."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from index.manifest import JOURNAL_KEEP, Manifest, ManifestChange, ManifestRow, compose


def _row(source: str, *chunks: str, sha: str = "s") -> ManifestRow:
    return ManifestRow(source, sha, list(chunks), datetime(2026, 12, 4, tzinfo=UTC), None, None)


@pytest.fixture
def manifest(tmp_path: Path) -> Manifest:
    return Manifest(tmp_path / "manifest.sqlite3")


def test_add_change_and_delete_are_journaled_under_the_generation_they_produce(manifest: Manifest) -> None:
    manifest.replace([_row("a.txt", "a-1", "a-2"), _row("b.txt", "b-1")])
    assert manifest.changes_since(0) == ManifestChange(1, frozenset({"a-1", "a-2", "b-1"}), frozenset())
    manifest.replace([_row("a.txt", "a-2", "a-3", sha="t")])  # a changed: a-1 gone, a-3 new, a-2 kept
    assert manifest.changes_since(1) == ManifestChange(2, frozenset({"a-3"}), frozenset({"a-1"}))
    manifest.delete(["b.txt"])
    assert manifest.changes_since(2) == ManifestChange(3, frozenset(), frozenset({"b-1"}))
    # Composed across generations: what a reader at 1 must apply, and what it then holds.
    since_one = manifest.changes_since(1)
    assert since_one == ManifestChange(3, frozenset({"a-3"}), frozenset({"a-1", "b-1"}))
    assert since_one.applied_to(frozenset({"a-1", "a-2", "b-1"})) == manifest.referenced_ids()
    assert manifest.changes_since(3) == ManifestChange(3)


def test_a_chunk_added_then_removed_within_the_span_is_neither() -> None:
    change = compose(9, [(["x", "y"], []), ([], ["x"]), (["z"], ["w"]), (["w"], [])])
    assert change == ManifestChange(9, frozenset({"y", "z"}), frozenset())


def test_beyond_the_journal_or_ahead_of_the_manifest_there_is_no_change(manifest: Manifest) -> None:
    for n in range(JOURNAL_KEEP + 3):
        manifest.replace([_row("a.txt", f"a-{n}", sha=str(n))])
    current = manifest.generation()
    assert current == JOURNAL_KEEP + 3
    assert manifest.changes_since(current - JOURNAL_KEEP) == ManifestChange(
        current, frozenset({f"a-{current - 1}"}), frozenset({f"a-{current - JOURNAL_KEEP - 1}"})
    )
    assert manifest.changes_since(current - JOURNAL_KEEP - 1) is None  # its next change was pruned
    assert manifest.changes_since(0) is None
    assert manifest.changes_since(current + 1) is None  # a reader of another (replaced) manifest


def test_a_manifest_written_before_the_journal_existed_sends_readers_to_a_full_read(tmp_path: Path) -> None:
    path = tmp_path / "manifest.sqlite3"
    Manifest(path).replace([_row("a.txt", "a-1")])
    with sqlite3.connect(path) as db:  # as an older version left it: no journal rows
        db.execute("DELETE FROM changes")
    reopened = Manifest(path)
    reopened.replace([_row("b.txt", "b-1")])
    assert reopened.changes_since(0) is None
    assert reopened.changes_since(1) == ManifestChange(2, frozenset({"b-1"}), frozenset())


def test_a_write_that_fails_after_journaling_leaves_no_journal_entry(manifest: Manifest) -> None:
    manifest.replace([_row("a.txt", "a-1")])
    broken = ManifestRow("b.txt", "s", ["b-1"], "not a datetime", None, None)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):  # fails inside the transaction, after the journal insert
        manifest.replace([broken])
    assert manifest.generation() == 1
    manifest.replace([_row("c.txt", "c-1")])
    assert manifest.changes_since(1) == ManifestChange(2, frozenset({"c-1"}), frozenset())
    assert manifest.changes_since(0) == ManifestChange(2, frozenset({"a-1", "c-1"}), frozenset())


def test_the_chunk_count_follows_every_write_and_is_summed_once_for_an_older_manifest(tmp_path: Path) -> None:
    path = tmp_path / "manifest.sqlite3"
    manifest = Manifest(path)
    manifest.replace([_row("a.txt", "a-1", "a-2"), _row("b.txt", "b-1")])
    manifest.replace([_row("a.txt", "a-3", sha="t")])
    assert manifest.chunk_count() == 2
    manifest.delete(["b.txt", "b.txt", "missing.txt"])
    assert manifest.chunk_count() == 1
    with sqlite3.connect(path) as db:  # as an older version left it: no kept count
        db.execute("DELETE FROM meta WHERE key='chunks'")
    assert Manifest(path).chunk_count() == 1
