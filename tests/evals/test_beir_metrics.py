"""BEIR metric definitions on hand-made rankings, and reading a BEIR folder."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from evals.beir import doc_id_of, load_beir, mrr_at, ndcg_at, rank_documents, recall_at
from service.errors import InvalidInput

SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "scifact"


def test_ndcg_recall_mrr_standard_definitions() -> None:
    relevant = {"d1": 1, "d2": 1}
    assert ndcg_at(["d1", "d2", "x"], relevant) == pytest.approx(1.0)
    # d2 at rank 2 only: DCG = 1/log2(3); IDCG = 1 + 1/log2(3)
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert ndcg_at(["x", "d2"], relevant) == pytest.approx(expected)
    assert ndcg_at(["x"] * 10 + ["d1"], relevant, 10) == 0.0
    assert ndcg_at(["d1"], {"d1": 2, "d2": 1}) == pytest.approx(2 / (2 + 1 / math.log2(3)))  # graded gain
    assert recall_at(["x", "d1", "y"], relevant, 10) == 0.5 and recall_at(["x", "d1"], relevant, 1) == 0.0
    assert mrr_at(["x", "y", "d2"], relevant) == pytest.approx(1 / 3) and mrr_at(["x"], relevant) == 0.0
    assert mrr_at(["x", "d1"], {"d1": 0}) == 0.0  # zero relevance is not relevant


def test_chunks_map_back_to_documents_in_best_chunk_order() -> None:
    assert doc_id_of("4983.txt") == "4983" and doc_id_of("beir/12.txt") == "12"
    assert rank_documents(["7.txt", "3.txt", "7.txt", "9.txt"]) == ["7", "3", "9"]


def test_load_scifact_and_reject_a_broken_folder(tmp_path: Path) -> None:
    data = load_beir(SCIFACT)
    assert len(data.corpus) == 5183 and len(data.queries) == 300
    assert sum(len(v) for v in data.qrels.values()) == 339
    assert all(doc in data.corpus for rels in data.qrels.values() for doc in rels)
    assert data.corpus["4983"].startswith("Microstructural development of human newborn cerebral white matter")
    with pytest.raises(InvalidInput, match="corpus.jsonl is missing"):
        load_beir(tmp_path)
