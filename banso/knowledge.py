"""The shell's adapter to the retrieval library: its plain parameters, read from Settings."""

from __future__ import annotations

from core.metrics import observe_query
from core.settings import Settings
from retrieval.cache import EmbeddingCache
from retrieval.embedders import Embedder, make_embedder
from retrieval.service import EmbeddingPool, PoolLimits, Retriever, build_retriever, eval_cache


def embedder_of(settings: Settings) -> Embedder:
    return make_embedder(settings.embedder, query_prefix=settings.embedder_query_prefix,
                         passage_prefix=settings.embedder_passage_prefix)


def load_retriever(settings: Settings, *, embedder: Embedder | None = None) -> Retriever:
    """The saved index of settings.knowledge_dir (built if missing or stale), ready to serve."""
    embedder = embedder or embedder_of(settings)
    return build_retriever(settings.knowledge_dir, settings.index_dir, embedder,
                           queries=query_pool(settings, embedder),
                           max_query_tokens=settings.query_max_tokens)


def query_pool(settings: Settings, embedder: Embedder) -> EmbeddingPool:
    """The query embedder's bounded queue and cache, sized by the settings, counted in metrics."""
    limits = PoolLimits(
        max_waiting=settings.query_queue_size, max_per_client=settings.query_queue_per_client,
        timeout=settings.query_wait_seconds, cache_size=settings.query_cache_size,
    )
    return EmbeddingPool(embedder, limits, observe=observe_query)


def evaluation_cache(settings: Settings, embedder: Embedder) -> EmbeddingCache:
    return eval_cache(settings.data_dir / "eval-cache", embedder)
