"""Exactly once through Slack's ambiguous failures: a post that times out after Slack stored it,
a 500 after the message went in, a thread line cut off — looked up by the dedupe key in the
message metadata, never posted twice, never lost; 429 and plain 500 still retried."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import session_scope
from core.metrics import REGISTRY
from core.settings import Settings
from cs.alerts.lookup import EVENT_TYPE
from cs.alerts.models import Alert, OutboxStatus
from cs.alerts.outbox import Outbox
from cs.alerts.service import thread
from jobs.alert_jobs import run_alert_job
from tests.cs.alerts_support import (
    CHANNEL,
    NOW,
    TOKEN,
    account_row,
    alerts,
    client_for,
    job_context,
    outbox,
    seed,
    usage_rows,
)
from tests.slack_stub import SlackStub

CLIENT_TIMEOUT = 1  # seconds; the stand-in answers later than this when told to be slow


def _queue_cards(settings: Settings, factory: sessionmaker[Session], n: int) -> list[str]:
    """n at-risk cards queued (not sent); returns their outbox dedupe keys."""
    ids = [f"A{i:03d}" for i in range(n)]
    seed(factory, [account_row(i) for i in ids],
         [u for i in ids for u in usage_rows(i, last_login_days_ago=30, days=1)])
    run_alert_job("at_risk", job_context(settings, factory, None), NOW, deliver=False)
    return [row.dedupe_key for row in outbox(factory)]


def _impatient(stub: SlackStub) -> WebClient:
    return WebClient(token=TOKEN, base_url=stub.url, timeout=CLIENT_TIMEOUT)


def _deliver_until_settled(worker: Outbox, start: datetime, rounds: int = 12) -> datetime:
    """Run the worker as the scheduler would: again and again, the clock past each backoff."""
    at = start
    for _ in range(rounds):
        worker.deliver_all(at)
        if all(r.status == OutboxStatus.SENT.value for r in outbox(worker.session_factory)):
            return at
        at += timedelta(hours=1)
    return at


def _recovered(op: str = "post_alert") -> float:
    return REGISTRY.get_sample_value("banso_alert_posts_recovered_total", {"op": op}) or 0.0


def test_every_card_carries_its_dedupe_key_as_slack_message_metadata(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    (key,) = _queue_cards(alert_settings, session_factory, 1)

    Outbox(session_factory, client_for(stub)).deliver(NOW)

    (post,) = stub.calls_to("chat.postMessage")
    assert post.args["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"key": key}}
    (history,) = stub.posted(CHANNEL)
    assert history["metadata"]["event_payload"]["key"] == key


def test_slack_answering_after_the_client_timeout_posts_every_card_exactly_once(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    keys = _queue_cards(alert_settings, session_factory, 20)
    # Five posts are stored by Slack but answered only after the client gave up waiting.
    stub.slow_next("chat.postMessage", seconds=CLIENT_TIMEOUT + 1.5, times=5)
    recovered_before = _recovered()

    first = Outbox(session_factory, _impatient(stub)).deliver(NOW)
    assert len(first.retrying) == 5 and len(first.sent) == 15
    _deliver_until_settled(Outbox(session_factory, _impatient(stub)), NOW + timedelta(minutes=1))

    posted = Counter(stub.posted_keys())
    assert sorted(posted) == sorted(keys)  # 0 lost
    assert max(posted.values()) == 1  # 0 duplicates
    assert _recovered() - recovered_before == 5
    by_key = {m["metadata"]["event_payload"]["key"]: m["ts"] for m in stub.posted(CHANNEL)}
    for alert in alerts(session_factory):  # later updates go to the message that is there
        assert alert.ts == by_key[f"post:{alert.dedupe_key}"]


def test_a_500_after_slack_stored_the_card_is_looked_up_and_not_posted_again(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    (key,) = _queue_cards(alert_settings, session_factory, 1)
    stub.fail_next("chat.postMessage", status=500, posted=True)
    worker = Outbox(session_factory, client_for(stub))

    failed = worker.deliver(NOW)
    later = worker.deliver(NOW + timedelta(seconds=31))

    assert len(failed.retrying) == 1 and len(later.sent) == 1
    assert stub.posted_keys() == [key]
    (lookup,) = stub.calls_to("conversations.history")
    assert lookup.args["channel"] == CHANNEL and lookup.args["include_all_metadata"] in {
        "1", "true", "True"}
    assert float(lookup.args["oldest"]) <= float(stub.posted(CHANNEL)[0]["ts"])


def test_a_429_is_retried_without_a_look_up_and_a_plain_500_after_one(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    keys = _queue_cards(alert_settings, session_factory, 2)
    stub.fail_next("chat.postMessage", status=429)
    worker = Outbox(session_factory, client_for(stub))
    worker.deliver(NOW, limit=1)
    assert stub.calls_to("conversations.history") == []  # a 429 is a sure "not posted"

    stub.fail_next("chat.postMessage", status=500)  # refused before storing anything
    _deliver_until_settled(worker, NOW + timedelta(minutes=1))

    assert sorted(stub.posted_keys()) == sorted(keys)
    assert len(stub.calls_to("conversations.history")) == 1  # only after the 500


def test_a_thread_line_cut_off_by_the_timeout_is_found_in_the_thread_not_posted_twice(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    _queue_cards(alert_settings, session_factory, 1)
    Outbox(session_factory, client_for(stub)).deliver(NOW)
    with session_scope(session_factory) as session:
        alert = session.scalars(select(Alert)).one()
        thread(session, alert, "ack:1", NOW, {"event": "acknowledge", "user": "USTAFF"})
    stub.slow_next("chat.postMessage", seconds=CLIENT_TIMEOUT + 1.5)

    _deliver_until_settled(Outbox(session_factory, _impatient(stub)), NOW + timedelta(minutes=1))

    assert Counter(stub.posted_keys()) == {f"post:{alert.dedupe_key}": 1, "thread:ack:1": 1}
    (lookup,) = stub.calls_to("conversations.replies")
    assert lookup.args["ts"] == alert.ts


def test_after_a_slack_outage_one_read_of_the_channel_settles_every_card_of_the_round(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    # Slack stored all 30 cards but answered 500: all 30 need a look-up, in one channel.
    keys = _queue_cards(alert_settings, session_factory, 30)
    stub.fail_next("chat.postMessage", status=500, times=30, posted=True)
    worker = Outbox(session_factory, client_for(stub))
    assert len(worker.deliver(NOW).retrying) == 30

    settled = worker.deliver(NOW + timedelta(minutes=1))

    assert len(settled.sent) == 30
    assert Counter(stub.posted_keys()) == Counter(keys)  # each once
    assert len(stub.calls_to("conversations.history")) == 1  # not 30 (Tier 3 rate limit)
