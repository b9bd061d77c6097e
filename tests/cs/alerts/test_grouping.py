"""One card per account per day: an account both at risk and due an onboarding check-in
gets one top-level card (each alert with its own state and buttons), through the alert jobs
posting to the Slack stand-in and signed clicks — also when two job processes open the two
alerts at the same moment."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from core.db import make_engine, make_session_factory
from core.i18n import Lang
from core.settings import Settings
from jobs.alert_jobs import outbox, run_alert_job
from tests.cs.alerts.test_calendar import card_text
from tests.cs.alerts_support import (
    NOW,
    OWNER,
    STAFF,
    SlackApp,
    account_row,
    alerts,
    button,
    client_for,
    job_context,
    seed,
    usage_rows,
)
from tests.slack_stub import SlackStub

TITLES = {"ja": ("🚨 要注意アカウント", "🚀 オンボーディング確認"),
          "en": ("🚨 At-risk account", "🚀 Onboarding check-in")}


def top_level(stub: SlackStub) -> list[Any]:
    return [c for c in stub.calls_to("chat.postMessage") if not c.args.get("thread_ts")]


def action_blocks(call_args: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in call_args["blocks"] if b["type"] == "actions"]


def _at_risk_and_onboarding(slack_app: SlackApp, stub: SlackStub, lang: Lang) -> None:
    factory = slack_app.services.session_factory
    start = (NOW - timedelta(days=30)).date().isoformat()  # day 30: the check-in is due
    seed(factory, [account_row("A1", start=start)], usage_rows("A1", last_login_days_ago=20))
    ctx = job_context(slack_app.services.settings, factory, client_for(stub), lang=lang)
    run_alert_job("at_risk", ctx, NOW)  # 10:00 Tokyo
    run_alert_job("onboarding", ctx, NOW + timedelta(minutes=30))


@pytest.mark.parametrize("card_lang", ["ja", "en"])
def test_alerts_of_one_account_on_one_day_share_one_card(
    slack_app: SlackApp, stub: SlackStub, card_lang: Lang
) -> None:
    _at_risk_and_onboarding(slack_app, stub, card_lang)

    assert len(top_level(stub)) == 1
    risk, onboarding = alerts(slack_app.services.session_factory)
    assert (risk.kind, onboarding.kind) == ("at_risk", "onboarding")
    assert onboarding.card_of == risk.id and risk.card_of is None
    update = stub.calls_to("chat.update")[-1]
    assert update.args["ts"] == risk.ts
    text = card_text(update.args)
    assert all(title in text for title in TITLES[card_lang])
    assert action_blocks(update.args) == [f"alert:{risk.id}", f"alert:{onboarding.id}"]
    (joined,) = [c for c in stub.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert joined.args["thread_ts"] == risk.ts and f"<@{OWNER}>" in joined.args["text"]
    assert not stub.violations


def test_each_alert_on_a_shared_card_keeps_its_own_state(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _at_risk_and_onboarding(slack_app, stub, "ja")
    risk, onboarding = alerts(slack_app.services.session_factory)
    stub.reset()

    slack_app.click(STAFF, button("alert_resolve", onboarding.id, "800.1"))

    (update,) = stub.calls_to("chat.update")
    assert update.args["ts"] == risk.ts  # the shared card, not a card of its own
    assert action_blocks(update.args) == [f"alert:{risk.id}"]  # resolved: no buttons left
    text = card_text(update.args)
    assert "~*🚀 オンボーディング確認*~" in text and "<@USTAFF> が解決" in text
    assert "未対応" in text  # the at-risk part is still open
    (line,) = [c for c in stub.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert line.args["thread_ts"] == risk.ts
    risk, onboarding = alerts(slack_app.services.session_factory)
    assert (risk.status, onboarding.status) == ("open", "resolved")


def test_the_next_day_a_new_alert_gets_a_card_of_its_own(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    factory = slack_app.services.session_factory
    start = (NOW - timedelta(days=31)).date().isoformat()
    seed(factory, [account_row("A1", start=start)], usage_rows("A1", last_login_days_ago=20))
    ctx = job_context(slack_app.services.settings, factory, client_for(stub))
    run_alert_job("onboarding", ctx, NOW - timedelta(days=1))

    run_alert_job("at_risk", ctx, NOW)

    assert len(top_level(stub)) == 2
    assert [a.card_of for a in alerts(factory)] == [None, None]


def _meet_after_opening_an_alert(engine: Engine, barrier: threading.Barrier) -> None:
    """Hold this engine's job right after it inserted its alert until the other job has too:
    both have then looked for today's card before either commits (the race, every time)."""
    waited = threading.Event()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO alerts ") and not waited.is_set():
            waited.set()
            barrier.wait()

    event.listen(engine, "after_cursor_execute", after)


def test_two_job_processes_opening_alerts_of_one_account_at_once_post_one_card(
    alert_settings: Settings, database_url: str, stub: SlackStub, engine: Engine
) -> None:
    engines = [make_engine(database_url) for _ in range(2)]  # a connection pool each
    barrier = threading.Barrier(2, timeout=20)
    # SQLite has one writer at a time: the second job waits at BEGIN IMMEDIATE, so the jobs
    # meet only at the start. PostgreSQL lets both write at once: they meet mid-transaction.
    racing = engine.dialect.name == "postgresql"
    if racing:
        for each in engines:
            _meet_after_opening_an_alert(each, barrier)
    contexts = [job_context(alert_settings, make_session_factory(each), client_for(stub))
                for each in engines]
    start = (NOW - timedelta(days=30)).date().isoformat()
    seed(contexts[0].session_factory, [account_row("A1", start=start)],
         usage_rows("A1", last_login_days_ago=20))
    errors: list[BaseException] = []

    def run(job: str, ctx: Any) -> None:
        try:
            if not racing:
                barrier.wait()
            run_alert_job(job, ctx, NOW)
        except BaseException as exc:  # the test asserts there was none
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job, ctx))
               for job, ctx in zip(("at_risk", "onboarding"), contexts, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # A change that committed while the other job was posting the card reaches it on the
    # outbox worker's next round (a deferred update, half a minute later).
    outbox(contexts[0]).deliver_all(NOW + timedelta(minutes=1))
    for each in engines:
        each.dispose()

    assert not errors and not barrier.broken
    (card,) = top_level(stub)
    first, second = sorted(alerts(contexts[0].session_factory), key=lambda a: a.card_of or 0)
    assert {first.kind, second.kind} == {"at_risk", "onboarding"}
    assert first.card_of is None and second.card_of == first.id
    # The card as it reads last (its post, or an update if the second joined after the post).
    updates = [c for c in stub.calls_to("chat.update") if c.args["ts"] == first.ts]
    last = max([card, *updates], key=lambda c: c.at)
    assert action_blocks(last.args) == [f"alert:{first.id}", f"alert:{second.id}"]
    assert not stub.violations


def test_an_alert_joining_while_the_card_is_being_posted_still_reaches_the_card(
    alert_settings: Settings, session_factory: Any, stub: SlackStub
) -> None:
    ctx = job_context(alert_settings, session_factory, client_for(stub))
    start = (NOW - timedelta(days=30)).date().isoformat()
    seed(session_factory, [account_row("A1", start=start)],
         usage_rows("A1", last_login_days_ago=20))
    run_alert_job("at_risk", ctx, NOW, deliver=False)
    stub.slow_next("chat.postMessage", 1.5)  # the card is in Slack; its ts is not stored yet
    poster = threading.Thread(target=outbox(ctx).deliver, args=(NOW,))
    poster.start()
    deadline = time.monotonic() + 10
    while not stub.holding() and time.monotonic() < deadline:
        time.sleep(0.01)

    run_alert_job("onboarding", ctx, NOW, deliver=False)  # joins the card being posted
    outbox(ctx).deliver(NOW)  # the join's re-render: the card's ts is not known yet
    poster.join(timeout=30)
    outbox(ctx).deliver_all(NOW + timedelta(minutes=1))

    risk, onboarding = alerts(session_factory)
    assert onboarding.card_of == risk.id and len(top_level(stub)) == 1
    (update,) = [c for c in stub.calls_to("chat.update") if c.args["ts"] == risk.ts]
    assert action_blocks(update.args) == [f"alert:{risk.id}", f"alert:{onboarding.id}"]
    assert not stub.violations
