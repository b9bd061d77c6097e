"""Days as the CS team reads them (BANSO_TIMEZONE, Tokyo here): snoozes end at 09:00 local,
"N日前" and renewal days count calendar days. Through the alert job posting to the Slack
stand-in and signed clicks over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.i18n import Lang
from jobs.alert_jobs import run_alert_job
from tests.cs.alerts_support import (
    JST,
    NOW,
    OWNER,
    Clock,
    SlackApp,
    account_row,
    alerts,
    client_for,
    job_context,
    seed,
    select_option,
    usage_rows,
)
from tests.slack_stub import SlackStub


def card_text(call_args: dict[str, Any]) -> str:
    parts = []
    for block in call_args["blocks"]:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [e.get("text", "") for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(parts)


def _login_at(account_id: str, at: datetime) -> list[dict[str, Any]]:
    rows = usage_rows(account_id, last_login_days_ago=0)
    return [row | {"last_login_at": at.isoformat()} for row in rows]


@pytest.mark.parametrize(("card_lang", "expected"), [("ja", "最終ログイン 20日前"),
                                                     ("en", "Last login 20 days ago")])
def test_login_twenty_calendar_days_ago_reads_twenty_days_on_the_card(
    slack_app: SlackApp, stub: SlackStub, card_lang: Lang, expected: str
) -> None:
    # 23:30 Tokyo on Nov 5; the job runs at 10:00 Tokyo on Nov 25: 19.4 × 24 h, 20 calendar days
    login = datetime(2026, 11, 5, 23, 30, tzinfo=JST)
    factory = slack_app.services.session_factory
    seed(factory, [account_row("A1")], _login_at("A1", login))

    run_alert_job("at_risk", job_context(slack_app.services.settings, factory, client_for(stub),
                                         lang=card_lang), NOW)

    (post,) = stub.calls_to("chat.postMessage")
    assert expected in card_text(post.args)


def test_quick_snooze_ends_at_nine_in_the_morning_local_on_the_target_day(
    slack_app: SlackApp, stub: SlackStub, clock: Clock
) -> None:
    factory = slack_app.services.session_factory
    seed(factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))
    run_alert_job("at_risk", job_context(slack_app.services.settings, factory, client_for(stub)),
                  NOW)
    (alert,) = alerts(factory)
    clock.now = datetime(2026, 11, 25, 23, 40, tzinfo=JST)  # a late click, Wednesday night

    slack_app.click(OWNER, select_option("alert_snooze", alert.id, "1d", "700.1"))

    (alert,) = alerts(factory)
    assert alert.snoozed_until is not None
    assert alert.snoozed_until.astimezone(JST) == datetime(2026, 11, 26, 9, 0, tzinfo=JST)


def test_quick_week_snooze_wakes_at_the_first_run_after_nine_local(
    slack_app: SlackApp, stub: SlackStub, clock: Clock
) -> None:
    factory = slack_app.services.session_factory
    seed(factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))
    ctx = job_context(slack_app.services.settings, factory, client_for(stub))
    run_alert_job("at_risk", ctx, NOW)
    (alert,) = alerts(factory)
    slack_app.click(OWNER, select_option("alert_snooze", alert.id, "1w", "700.2"))
    stub.reset()

    # Wednesday Dec 2, 09:00 Tokyo: the scheduled 09:00 run sees the snooze over
    run_alert_job("at_risk", ctx, datetime(2026, 12, 2, 0, 0, 30, tzinfo=UTC))

    (resurfaced,) = stub.calls_to("chat.postMessage")
    assert resurfaced.args["thread_ts"] and "<@UOWNER>" in resurfaced.args["text"]


@pytest.mark.parametrize(("card_lang", "expected"), [
    ("ja", "更新日: 2027-02-23 (あと90日)"), ("en", "Renewal date: 2027-02-23 (90 days left)")])
def test_renewal_days_are_counted_on_the_teams_calendar(
    slack_app: SlackApp, stub: SlackStub, card_lang: Lang, expected: str
) -> None:
    factory = slack_app.services.session_factory
    seed(factory, [account_row("A1", renewal="2027-02-23")],
         usage_rows("A1", last_login_days_ago=1))
    # 00:30 on Nov 25 in Tokyo is still Nov 24 in UTC (91 days by UTC's calendar)
    now = datetime(2026, 11, 25, 0, 30, tzinfo=JST)

    run_alert_job("renewals", job_context(slack_app.services.settings, factory,
                                          client_for(stub), lang=card_lang), now)

    (post,) = stub.calls_to("chat.postMessage")
    assert expected in card_text(post.args)
    (alert,) = alerts(factory)
    assert alert.dedupe_key == "renewal:A1:2027-02-23:90"


def test_contact_change_late_last_night_is_one_day_ago(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    factory = slack_app.services.session_factory
    seed(factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=1))
    seed(factory, [], contacts=[{"account_id": "A1", "name": "山田", "email": "y@example.com",
                                 "is_primary": True}], now=NOW - timedelta(days=3))
    seed(factory, [], contacts=[{"account_id": "A1", "name": "佐藤", "email": "s@example.com",
                                 "is_primary": True}],
         now=datetime(2026, 11, 24, 23, 50, tzinfo=JST))

    run_alert_job("contact_changes", job_context(slack_app.services.settings, factory,
                                                 client_for(stub)), NOW)

    (post,) = stub.calls_to("chat.postMessage")
    assert "1日前" in card_text(post.args)
