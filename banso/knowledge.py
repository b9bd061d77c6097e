"""The shell's adapter to the retrieval library: its plain parameters, read from Settings."""

from __future__ import annotations

from core.settings import Settings
from retrieval.cache import EmbeddingCache
from retrieval.embedders import Embedder, make_embedder
from retrieval.service import Retriever, build_retriever, eval_cache


def embedder_of(settings: Settings) -> Embedder:
    return make_embedder(settings.embedder, query_prefix=settings.embedder_query_prefix,
                         passage_prefix=settings.embedder_passage_prefix)


def load_retriever(settings: Settings, *, embedder: Embedder | None = None) -> Retriever:
    """The saved index of settings.knowledge_dir (built if missing or stale), ready to serve."""
    return build_retriever(settings.knowledge_dir, settings.index_dir,
                           embedder or embedder_of(settings))


def evaluation_cache(settings: Settings, embedder: Embedder) -> EmbeddingCache:
    return eval_cache(settings.data_dir / "eval-cache", embedder)
