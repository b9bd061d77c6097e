"""The retriever other rooms use: search with a decision, built from knowledge files or entries.

`Retriever.search` is safe to call from many threads while `reload_if_changed` runs: a reload
builds a whole new index and swaps one reference, so a search sees either the old index or the
new one, never a mix.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.cache import EmbeddingCache, cache_folder
from retrieval.confidence import EVIDENCE_DEPTH, ConfidenceModel, default_model, evidence
from retrieval.embedders import Embedder
from retrieval.embedding_pool import EmbeddingPool, PoolLimits, QueryBusy
from retrieval.index import HybridIndex, Query, Ranking
from retrieval.language import detect_lang
from retrieval.models import Entry, SearchResult, Visibility
from retrieval.queries import DEFAULT_MAX_TOKENS, PreparedQuery, QueryError, prepare
from retrieval.query_cache import Vector
from retrieval.rerank import Candidates, Reranker, default_reranker
from retrieval.scoring import Scoring
from retrieval.tokenizer import tokenize

if TYPE_CHECKING:
    from retrieval.store import KnowledgeSource

logger = logging.getLogger(__name__)

MAX_K = 100

__all__ = [
    "MAX_K", "EmbeddingPool", "PoolLimits", "QueryBusy", "QueryError", "Retriever",
    "build_retriever", "eval_cache",
]


class Retriever:
    def __init__(
        self,
        index: HybridIndex,
        embedder: Embedder,
        *,
        scoring: Scoring | None = None,
        source: KnowledgeSource | None = None,
        confidence: ConfidenceModel | None = None,
        reranker: Reranker | None = None,
        queries: EmbeddingPool | None = None,
        max_query_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        self._index = index
        self._embedder = embedder
        self.queries = queries or EmbeddingPool(embedder)
        self.max_query_tokens = max_query_tokens
        self.scoring = scoring or Scoring()
        self.confidence = confidence or default_model()
        # The shipped re-ranker unless one is given; set to None to rank by fusion alone.
        self.reranker = reranker or default_reranker()
        self._source = source
        self._reload_lock = threading.Lock()

    @classmethod
    def from_entries(
        cls,
        entries: Sequence[Entry],
        embedder: Embedder,
        *,
        scoring: Scoring | None = None,
        cache: EmbeddingCache | None = None,
        confidence: ConfidenceModel | None = None,
        reranker: Reranker | None = None,
        queries: EmbeddingPool | None = None,
    ) -> Retriever:
        """An in-memory retriever over `entries` (tests, evaluation, tools)."""
        index = HybridIndex.build(
            list(entries), embedder, cache if cache is not None else EmbeddingCache()
        )
        return cls(index, embedder, scoring=scoring, confidence=confidence, reranker=reranker,
                   queries=queries)

    @property
    def entries(self) -> list[Entry]:
        return self._index.entries

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    @property
    def broken_files(self) -> list[str]:
        """Knowledge files the live index could not read (`path:line: message`)."""
        return list(self._source.broken_files) if self._source else []

    def prepare(self, query: str) -> PreparedQuery:
        """`query` cleaned and capped at `max_query_tokens` (its `cost` is known before search).

        Hiragana loanwords are folded to the katakana this index holds (retrieval/kana.py).
        """
        return prepare(query, self._embedder.count_query_tokens, self.max_query_tokens,
                       self._index.fold)

    def search(
        self, query: str | PreparedQuery, visibility: Visibility = Visibility.PUBLIC,
        k: int = 10, *, client: str = "",
    ) -> SearchResult:
        """Ranked entries `visibility` may see, and whether the top one answers the question.

        Only the start of a long question within the token cap is searched. `client` (an
        address, a user id) is whose turn it is in the embedder's fair queue; a full queue
        raises `QueryBusy`.
        """
        prepared = query if isinstance(query, PreparedQuery) else self.prepare(query)
        _check_k(k)
        return self.search_vector(prepared, self.queries.vector(prepared, client), visibility, k)

    def search_vector(
        self, prepared: PreparedQuery, vector: Vector,
        visibility: Visibility = Visibility.PUBLIC, k: int = 10,
    ) -> SearchResult:
        """`search` with the query vector already at hand (from `queries.submit`)."""
        _check_k(k)
        # The decision looks past the top few, whatever k the caller wants shown.
        ranking, terms = self._rank(prepared, vector, visibility, max(k, EVIDENCE_DEPTH))
        model = self.confidence
        decision, confidence = model.judge(evidence(ranking, terms, model.duplicate_similarity))
        asked = prepared.asked
        return SearchResult(asked, decision, ranking.hits[:k], detect_lang(asked), confidence)

    def rank(
        self, query: str | PreparedQuery, visibility: Visibility, k: int, *, client: str = "",
    ) -> tuple[Ranking, int]:
        """The ranking behind `search` and the question's content-word count (for tuning)."""
        prepared = query if isinstance(query, PreparedQuery) else self.prepare(query)
        return self._rank(prepared, self.queries.vector(prepared, client), visibility, k)

    def _rank(
        self, prepared: PreparedQuery, vector: Vector, visibility: Visibility, k: int,
    ) -> tuple[Ranking, int]:
        index = self._index  # one read: a concurrent reload cannot change it mid-search
        parsed = Query(prepared.text, tokenize(prepared.text), vector)
        return index.rank(parsed, visibility, k, self.scoring, self.reranker), len(parsed.tokens)

    def candidates(self, query: str, visibility: Visibility, depth: int) -> tuple[
            list[Entry], Candidates]:
        """The head of the fused ranking as a re-ranker reads it (for fitting one)."""
        prepared = self.prepare(query)
        parsed = Query(prepared.text, tokenize(prepared.text), self.queries.vector(prepared, ""))
        return self._index.candidates(parsed, visibility, depth, self.scoring)

    def reload_if_changed(self) -> bool:
        """Rebuild from the knowledge files if any changed; True if a new index is serving."""
        if self._source is None:
            return False
        with self._reload_lock:
            index = self._source.refresh(self._index)
            if index is None:
                return False
            self._index = index
            return True


def _check_k(k: int) -> None:
    if not 1 <= k <= MAX_K:
        raise QueryError(f"k must be between 1 and {MAX_K}, got {k}")


def build_retriever(
    knowledge_dir: Path, index_dir: Path, embedder: Embedder, *,
    queries: EmbeddingPool | None = None, max_query_tokens: int = DEFAULT_MAX_TOKENS,
) -> Retriever:
    """Load the saved index of `knowledge_dir` from `index_dir` (building it if needed).

    `queries` is the query embedder's queue (default: `EmbeddingPool(embedder)`).
    """
    from retrieval.store import KnowledgeSource

    source = KnowledgeSource(knowledge_dir, index_dir, embedder)
    started = time.perf_counter()
    index = source.load_or_build()
    logger.info(
        "retrieval index ready: %d entries in %.1f s", len(index), time.perf_counter() - started
    )
    return Retriever(index, embedder, source=source, queries=queries,
                     max_query_tokens=max_query_tokens)


def eval_cache(folder: Path, embedder: Embedder) -> EmbeddingCache:
    """The embedding cache of evaluation corpora (kept apart from the knowledge index's)."""
    return EmbeddingCache(cache_folder(folder, embedder.name))

