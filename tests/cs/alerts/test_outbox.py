"""The outbox worker against the Slack stand-in: once, retried with backoff, held without Slack."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from cs.alerts.models import OutboxStatus
from cs.alerts.outbox import MAX_ATTEMPTS, NOT_CONFIGURED, Outbox
from jobs.alert_jobs import run_alert_job
from tests.cs.alerts_support import (
    CHANNEL,
    NOW,
    account_row,
    alerts,
    client_for,
    job_context,
    outbox,
    seed,
    usage_rows,
)
from tests.slack_stub import SlackStub

# Fixtures shared by the alert tests (pytest finds them by these names).


def _queue_one_alert(settings: Settings, session_factory: sessionmaker[Session]) -> None:
    seed(session_factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))
    run_alert_job("at_risk", job_context(settings, session_factory, None), NOW, deliver=False)


def test_queued_card_is_posted_once_with_its_buttons_and_the_ts_is_stored(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    _queue_one_alert(alert_settings, session_factory)
    worker = Outbox(session_factory, client_for(stub))

    first = worker.deliver(NOW)
    second = worker.deliver(NOW + timedelta(minutes=5))

    (post,) = stub.calls_to("chat.postMessage")
    assert post.args["channel"] == CHANNEL and "<@UOWNER>" in post.args["text"]
    action_ids = [e["action_id"] for b in post.args["blocks"] if b["type"] == "actions"
                  for e in b["elements"]]
    assert {"alert_acknowledge", "alert_snooze", "alert_assign", "alert_log_touch",
            "alert_resolve", "alert_not_useful", "alert_snooze_until",
            "alert_snooze_form"} == set(action_ids)
    (alert,) = alerts(session_factory)
    assert alert.ts is not None and alert.channel == CHANNEL  # where later updates go
    assert len(first.sent) == 1 and second.sent == [] and not stub.violations


@pytest.mark.parametrize("status", [500, 429])
def test_failed_post_is_retried_after_backoff_and_posted_exactly_once(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
    status: int,
) -> None:
    _queue_one_alert(alert_settings, session_factory)
    worker = Outbox(session_factory, client_for(stub))
    stub.fail_next("chat.postMessage", status=status)

    failed = worker.deliver(NOW)
    (row,) = outbox(session_factory)
    assert failed.retrying == [row.id] and row.status == "pending" and row.attempts == 1
    assert row.next_attempt_at == NOW + timedelta(seconds=30)
    assert str(status) in (row.last_error or "")

    too_soon = worker.deliver(NOW + timedelta(seconds=10))
    later = worker.deliver(NOW + timedelta(seconds=31))
    worker.deliver(NOW + timedelta(minutes=10))

    assert too_soon.sent == [] and len(later.sent) == 1
    ok_posts = [c for c in stub.calls_to("chat.postMessage") if c.args.get("blocks")]
    assert len(ok_posts) == 2  # the refused attempt and the one that went through
    assert outbox(session_factory)[0].status == "sent"


def test_a_message_slack_keeps_refusing_fails_for_good_after_the_last_attempt(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    _queue_one_alert(alert_settings, session_factory)
    worker = Outbox(session_factory, client_for(stub))
    stub.fail_next("chat.postMessage", status=500, times=MAX_ATTEMPTS)
    at = NOW
    for _ in range(MAX_ATTEMPTS):
        worker.deliver(at)
        at += timedelta(hours=2)

    (row,) = outbox(session_factory)
    assert row.status == OutboxStatus.FAILED.value and row.attempts == MAX_ATTEMPTS
    assert worker.deliver(at + timedelta(days=1)).sent == []


def test_without_slack_messages_are_held_and_logged_then_sent_once_slack_is_configured(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _queue_one_alert(alert_settings, session_factory)
    with caplog.at_level(logging.WARNING, logger="cs.alerts.outbox"):
        held = Outbox(session_factory, None).deliver(NOW)

    (row,) = outbox(session_factory)
    assert held.held == [row.id] and row.status == "held" and row.last_error == NOT_CONFIGURED
    assert "alert messages held" in caplog.text and stub.calls_to("chat.postMessage") == []

    sent = Outbox(session_factory, client_for(stub)).deliver(NOW + timedelta(days=1))
    assert sent.sent == [row.id] and len(stub.calls_to("chat.postMessage")) == 1


def test_concurrent_workers_never_send_the_same_message_twice(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    accounts = [account_row(f"A{i:02d}") for i in range(12)]
    seed(session_factory, accounts,
         [u for i in range(12) for u in usage_rows(f"A{i:02d}", last_login_days_ago=30, days=1)])
    run_alert_job("at_risk", job_context(alert_settings, session_factory, None), NOW, deliver=False)
    workers = [Outbox(session_factory, client_for(stub)) for _ in range(3)]
    sent: list[list[int]] = []
    barrier = threading.Barrier(len(workers))

    def work(worker: Outbox) -> None:
        barrier.wait()
        for _ in range(4):
            sent.append(worker.deliver(NOW, limit=3).sent)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    ids = [i for batch in sent for i in batch]
    assert sorted(ids) == sorted({m.id for m in outbox(session_factory)})
    assert len(ids) == len(set(ids)) == 12
    assert len(stub.calls_to("chat.postMessage")) == 12


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_it_expires(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    _queue_one_alert(alert_settings, session_factory)
    dead = Outbox(session_factory, client_for(stub))
    assert len(dead.claim(NOW, 10)) == 1  # claimed, then the process died

    live = Outbox(session_factory, client_for(stub))
    assert live.deliver(NOW + timedelta(minutes=1)).sent == []
    assert len(live.deliver(NOW + timedelta(minutes=6)).sent) == 1
    assert len(stub.calls_to("chat.postMessage")) == 1


def test_cards_of_a_run_reach_the_channel_worst_first(
    alert_settings: Settings, session_factory: sessionmaker[Session], stub: SlackStub
) -> None:
    seed(session_factory, [account_row("A1"), account_row("A2")],
         usage_rows("A1", last_login_days_ago=15)
         + usage_rows("A2", last_login_days_ago=40, active=1))
    run_alert_job("at_risk", job_context(alert_settings, session_factory, client_for(stub)), NOW)

    posted = [c.args["text"] for c in stub.calls_to("chat.postMessage")]

    assert len(posted) == 2
    assert "株式会社A2" in posted[0] and "株式会社A1" in posted[1]
