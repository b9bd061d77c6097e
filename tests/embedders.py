"""A real embedder seen through a test's hands: subclasses override the calls they watch or
slow down and pass the rest through."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.embedders import Embedder, Vectors


class PassThroughEmbedder:
    """Every call goes to `inner` unchanged."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def dim(self) -> int:
        return self._inner.dim

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._inner.embed_passages(texts)

    def count_query_tokens(self, text: str) -> int:
        return self._inner.count_query_tokens(text)
