"""Tech-touch digest items can be taken over with one click (a regular card assigned to the
clicker, posted — or, when the account already has a card that day in the team's time zone,
joining that card) or marked not useful; the digest re-renders. Every item, however long the
digest: past one message's room the rest go in its thread. Signed clicks over HTTP, the Slack
stand-in for the Web API."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from core.i18n import Lang
from cs.alerts.models import Alert
from cs.alerts.outbox import Outbox
from jobs.alert_jobs import run_alert_job
from tests.cs.alerts.test_calendar import card_text
from tests.cs.alerts.test_grouping import TITLES, action_blocks, top_level
from tests.cs.alerts_support import (
    CHANNEL,
    NOW,
    OWNER,
    STAFF,
    Clock,
    SlackApp,
    account_row,
    actions,
    alerts,
    button,
    client_for,
    job_context,
    outbox,
    seed,
    usage_rows,
)
from tests.slack_stub import SlackStub, check_blocks

TAKEN = {"ja": "→ <@USTAFF> が引き継ぎ", "en": "→ taken over by <@USTAFF>"}
ASSIGNED_TO = {"ja": "対応者: <@{}>", "en": "Assignee: <@{}>"}
ASSIGNEE = {lang: text.format(STAFF) for lang, text in ASSIGNED_TO.items()}
TAKE_OVER = "alert_digest_take_over"
JOINED = {"ja": "今日のこのカードに加わりました", "en": "joined today's card"}
TOOK_OVER_JOINED = {
    "ja": "<@{}> がこの取引先の別の通知をダイジェストから引き継ぎ、今日のこのカードに加わりました",
    "en": "<@{}> took over another alert for this account from the digest; it joined today's card"}


def _digest(slack_app: SlackApp, stub: SlackStub, lang: Lang = "ja") -> tuple[int, str]:
    """A tech-touch account at risk, in today's digest; returns its alert id and the ts."""
    factory = slack_app.services.session_factory
    seed(factory, [account_row("T1", mrr=30_000)], usage_rows("T1", last_login_days_ago=30))
    ts = _run_digest(slack_app, stub, lang, "at_risk")
    (alert,) = alerts(factory)
    return alert.id, ts


def _run_digest(slack_app: SlackApp, stub: SlackStub, lang: Lang, *jobs: str) -> str:
    """Run `jobs` at 10:00 Tokyo, then the digest; returns the digest's ts."""
    ctx = job_context(slack_app.services.settings, slack_app.services.session_factory,
                      client_for(stub), lang=lang)
    for job in (*jobs, "digest"):
        run_alert_job(job, ctx, NOW)
    (row,) = [m for m in outbox(slack_app.services.session_factory) if m.op == "digest"]
    assert row.result_ts is not None
    stub.reset()
    return row.result_ts


def _buttons(call_args: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in call_args["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


def test_digest_items_carry_take_over_and_not_useful_buttons(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    factory = slack_app.services.session_factory
    seed(factory, [account_row("T1", mrr=30_000)], usage_rows("T1", last_login_days_ago=30))
    ctx = job_context(slack_app.services.settings, factory, client_for(stub))
    run_alert_job("at_risk", ctx, NOW)
    run_alert_job("digest", ctx, NOW)

    (post,) = stub.calls_to("chat.postMessage")
    assert _buttons(post.args) == ["alert_digest_take_over", "alert_digest_not_useful"]
    assert not stub.violations


@pytest.mark.parametrize("card_lang", ["ja", "en"])
def test_take_over_posts_a_card_assigned_to_the_clicker_and_updates_the_digest(
    slack_app: SlackApp, stub: SlackStub, card_lang: Lang
) -> None:
    alert_id, ts = _digest(slack_app, stub, card_lang)

    slack_app.click(STAFF, button("alert_digest_take_over", alert_id, "900.1"),
                    message_ts=ts)
    slack_app.click(STAFF, button("alert_digest_take_over", alert_id, "900.2"),
                    message_ts=ts)  # a second click: still one card

    (alert,) = alerts(slack_app.services.session_factory)
    assert (alert.delivery, alert.assignee_user_id, alert.status) == (
        "card", STAFF, "acknowledged")
    (card,) = [c for c in stub.calls_to("chat.postMessage") if not c.args.get("thread_ts")]
    assert card.args["channel"] == CHANNEL and ASSIGNEE[card_lang] in card_text(card.args)
    assert "alert_acknowledge" in _buttons(card.args)
    digest = [c for c in stub.calls_to("chat.update") if c.args["ts"] == ts][-1]
    assert TAKEN[card_lang] in card_text(digest.args) and _buttons(digest.args) == []
    assert [a.action for a in actions(slack_app.services.session_factory)] == ["take_over"]
    assert not stub.violations


def test_not_useful_from_the_digest_resolves_the_item_and_keeps_the_feedback(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    alert_id, ts = _digest(slack_app, stub)

    slack_app.click(STAFF, button("alert_digest_not_useful", alert_id, "901.1"), message_ts=ts)

    (alert,) = alerts(slack_app.services.session_factory)
    assert alert.status == "resolved" and alert.delivery == "digest"
    (action,) = actions(slack_app.services.session_factory)
    assert action.action == "not_useful" and action.payload["kind"] == "at_risk"
    assert stub.calls_to("chat.postMessage") == []  # no card for a dismissed item
    (digest,) = stub.calls_to("chat.update")
    assert "が「役に立たない」と評価" in card_text(digest.args) and _buttons(digest.args) == []


def test_outsider_cannot_take_over_a_digest_item(slack_app: SlackApp, stub: SlackStub) -> None:
    alert_id, ts = _digest(slack_app, stub)

    slack_app.click("UOUTSIDER", button("alert_digest_take_over", alert_id, "902.1"),
                    message_ts=ts)

    assert alerts(slack_app.services.session_factory)[0].delivery == "digest"
    assert stub.calls_to("chat.update") == [] and not any(
        m.op == "post_alert" for m in outbox(slack_app.services.session_factory))


LONG = 120  # five messages of 24 items


def _long_digest(slack_app: SlackApp, stub: SlackStub, lang: Lang = "ja", n: int = LONG,
                 first_fails: bool = False) -> list[Any]:
    """`n` tech-touch accounts at risk in today's digest; returns its posts, first one first."""
    factory = slack_app.services.session_factory
    ids = [f"T{i:03d}" for i in range(n)]
    seed(factory, [account_row(i, mrr=30_000) for i in ids],
         [u for i in ids for u in usage_rows(i, last_login_days_ago=30, days=1)])
    ctx = job_context(slack_app.services.settings, factory, client_for(stub), lang=lang)
    run_alert_job("at_risk", ctx, NOW)
    if first_fails:
        stub.fail_next("chat.postMessage", status=503)
    run_alert_job("digest", ctx, NOW)
    return stub.calls_to("chat.postMessage")


def _item_buttons(call_args: dict[str, Any]) -> dict[str, list[str]]:
    return {b["block_id"]: [e["action_id"] for e in b["elements"]]
            for b in call_args["blocks"] if b["type"] == "actions"}


def test_every_item_of_a_long_digest_has_its_buttons_in_the_digest_or_its_thread(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    first, *rest = _long_digest(slack_app, stub)

    (row, *_) = [m for m in outbox(slack_app.services.session_factory) if m.op == "digest"]
    assert "thread_ts" not in first.args and len(rest) == 4
    assert all(post.args["thread_ts"] == row.result_ts for post in rest)
    assert not stub.violations and all(check_blocks(p.args["blocks"]) == [] for p in stub.calls)
    buttons = [_item_buttons(post.args) for post in (first, *rest)]
    items = [block_id for page in buttons for block_id in page]
    assert sorted(items) == sorted(f"digest:{a.id}" for a in alerts(
        slack_app.services.session_factory)) and len(items) == LONG
    assert all(page[block] == ["alert_digest_take_over", "alert_digest_not_useful"]
               for page in buttons for block in page)


@pytest.mark.parametrize("card_lang", ["ja", "en"])
def test_taking_over_an_item_far_down_a_long_digest_posts_its_card_and_updates_its_message(
    slack_app: SlackApp, stub: SlackStub, card_lang: Lang
) -> None:
    *_, last = _long_digest(slack_app, stub, card_lang)
    factory = slack_app.services.session_factory
    (page_row,) = [m for m in outbox(factory) if m.dedupe_key.endswith(":5")]
    alert_id = int(list(_item_buttons(last.args))[-1].removeprefix("digest:"))  # item 120
    stub.reset()

    slack_app.click(STAFF, button("alert_digest_take_over", alert_id, "903.1"),
                    message_ts=str(page_row.result_ts))

    (alert,) = [a for a in alerts(factory) if a.id == alert_id]
    assert (alert.delivery, alert.assignee_user_id) == ("card", STAFF)
    (card,) = [c for c in stub.calls_to("chat.postMessage") if not c.args.get("thread_ts")]
    assert card.args["channel"] == CHANNEL and ASSIGNEE[card_lang] in card_text(card.args)
    (update,) = [c for c in stub.calls_to("chat.update") if c.args["ts"] == page_row.result_ts]
    assert TAKEN[card_lang] in card_text(update.args)
    assert f"digest:{alert_id}" not in _item_buttons(update.args)
    assert len(_item_buttons(update.args)) == len(_item_buttons(last.args)) - 1
    assert not stub.violations


def test_the_rest_of_a_digest_waits_for_its_first_message_then_goes_in_its_thread(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    factory = slack_app.services.session_factory
    (refused,) = _long_digest(slack_app, stub, n=30, first_fails=True)
    assert refused.args["blocks"][0]["type"] == "header"  # page 2 has no thread to go in yet

    Outbox(factory, client_for(stub)).deliver_all(NOW + timedelta(minutes=5))

    first, second = [c for c in stub.calls_to("chat.postMessage") if c.args.get("blocks")][1:]
    rows = {m.dedupe_key: m for m in outbox(factory) if m.op == "digest"}
    (parent,) = [m for m in rows.values() if m.payload["page"] == 1]
    assert "thread_ts" not in first.args and second.args["thread_ts"] == parent.result_ts
    assert {m.status for m in rows.values()} == {"sent"} and len(rows) == 2
    assert len(_item_buttons(first.args)) + len(_item_buttons(second.args)) == 30


def _seed_tech_account(slack_app: SlackApp, mrr: int = 30_000) -> None:
    """A tech-touch account at risk (no login for 30 days) and on day 30 of onboarding."""
    start = (NOW - timedelta(days=30)).date().isoformat()
    seed(slack_app.services.session_factory, [account_row("T1", mrr=mrr, start=start)],
         usage_rows("T1", last_login_days_ago=30))


def _at_risk_item(slack_app: SlackApp, stub: SlackStub, lang: Lang) -> tuple[Alert, str]:
    """The tech-touch account's at-risk item in today's digest, and the digest's ts."""
    _seed_tech_account(slack_app)
    ts = _run_digest(slack_app, stub, lang, "at_risk")
    (risk,) = alerts(slack_app.services.session_factory)
    return risk, ts


def _onboarding_card_later(slack_app: SlackApp, stub: SlackStub, lang: Lang,
                           later: timedelta) -> None:
    """The account moves to high touch that morning; `later` the onboarding job gives it a
    card (its at-risk item stays in the digest)."""
    _seed_tech_account(slack_app, mrr=600_000)
    ctx = job_context(slack_app.services.settings, slack_app.services.session_factory,
                      client_for(stub), lang=lang)
    run_alert_job("onboarding", ctx, NOW + later)


def _two_items(slack_app: SlackApp, stub: SlackStub, lang: Lang) -> tuple[Alert, Alert, str]:
    """The account's at-risk and onboarding items in today's digest, and the digest's ts."""
    _seed_tech_account(slack_app)
    ts = _run_digest(slack_app, stub, lang, "at_risk", "onboarding")
    risk, onboarding = alerts(slack_app.services.session_factory)
    assert (risk.kind, onboarding.kind) == ("at_risk", "onboarding")
    assert {risk.delivery, onboarding.delivery} == {"digest"}
    return risk, onboarding, ts


def _card(stub: SlackStub, ts: str | None) -> dict[str, Any]:
    """The card at `ts` as it reads last: its latest update, else its post."""
    updates = [c.args for c in stub.calls_to("chat.update") if c.args["ts"] == ts]
    (post,) = [m for m in stub.posted() if m["ts"] == ts]
    return updates[-1] if updates else post


def _post_key(call_args: dict[str, Any]) -> str:
    metadata = call_args["metadata"]
    return str((json.loads(metadata) if isinstance(metadata, str) else metadata)
               ["event_payload"]["key"])


def _thread(stub: SlackStub, ts: str | None) -> list[str]:
    return [c.args["text"] for c in stub.calls_to("chat.postMessage")
            if c.args.get("thread_ts") == ts]


def _shared_card(stub: SlackStub, host: Alert, guest: Alert,
                 lang: Lang) -> tuple[str, list[str]]:
    """`host`'s card shows both alerts, each with its own buttons, and its thread says that
    `guest` joined; returns the card's text and the thread's lines."""
    card = _card(stub, host.ts)
    text = card_text(card)
    assert all(title in text for title in TITLES[lang])
    assert action_blocks(card) == [f"alert:{host.id}", f"alert:{guest.id}"]
    thread = _thread(stub, host.ts)
    assert any(JOINED[lang] in line for line in thread)
    assert not stub.violations
    return text, thread


@pytest.mark.parametrize("card_lang", ["ja", "en"])
def test_taking_over_a_second_item_joins_the_accounts_card_of_the_day(
    slack_app: SlackApp, stub: SlackStub, card_lang: Lang
) -> None:
    risk, onboarding, ts = _two_items(slack_app, stub, card_lang)

    slack_app.click(STAFF, button(TAKE_OVER, risk.id, "910.1"), message_ts=ts)
    slack_app.click(OWNER, button(TAKE_OVER, onboarding.id, "910.2"), message_ts=ts)

    (posted,) = top_level(stub)
    risk, onboarding = alerts(slack_app.services.session_factory)
    assert risk.card_of is None and _post_key(posted.args) == f"post:{risk.dedupe_key}"
    assert (onboarding.delivery, onboarding.card_of, onboarding.ts) == ("card", risk.id, risk.ts)
    text, thread = _shared_card(stub, risk, onboarding, card_lang)
    assert ASSIGNEE[card_lang] in text and ASSIGNED_TO[card_lang].format(OWNER) in text
    (joined,) = [line for line in thread if JOINED[card_lang] in line]
    assert TOOK_OVER_JOINED[card_lang].format(OWNER) in joined


@pytest.mark.parametrize("card_lang", ["ja", "en"])
def test_taking_over_an_item_onto_the_card_the_job_posted_sends_one_line_and_one_update(
    slack_app: SlackApp, stub: SlackStub, card_lang: Lang
) -> None:
    risk, ts = _at_risk_item(slack_app, stub, card_lang)
    _onboarding_card_later(slack_app, stub, card_lang, timedelta(minutes=30))
    (onboarding,) = [a for a in alerts(slack_app.services.session_factory) if a.id != risk.id]
    stub.reset()

    slack_app.click(STAFF, button(TAKE_OVER, risk.id, "915.1"), message_ts=ts)

    risk, onboarding = alerts(slack_app.services.session_factory)
    assert (risk.delivery, risk.card_of) == ("card", onboarding.id)
    (card_update, digest_update) = stub.calls_to("chat.update")
    assert (card_update.args["ts"], digest_update.args["ts"]) == (onboarding.ts, ts)
    assert action_blocks(card_update.args) == [f"alert:{onboarding.id}", f"alert:{risk.id}"]
    assert ASSIGNEE[card_lang] in card_text(card_update.args)
    assert TAKEN[card_lang] in card_text(digest_update.args)
    (line,) = stub.calls_to("chat.postMessage")
    assert line.args["thread_ts"] == onboarding.ts
    assert TOOK_OVER_JOINED[card_lang].format(STAFF) in line.args["text"]
    assert not stub.violations


def test_each_taken_over_alert_on_the_shared_card_answers_its_own_buttons(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    risk, onboarding, ts = _two_items(slack_app, stub, "ja")
    slack_app.click(STAFF, button(TAKE_OVER, risk.id, "911.1"), message_ts=ts)
    slack_app.click(STAFF, button(TAKE_OVER, onboarding.id, "911.2"), message_ts=ts)
    stub.reset()

    slack_app.click(STAFF, button("alert_resolve", onboarding.id, "911.3"))

    risk, onboarding = alerts(slack_app.services.session_factory)
    assert (risk.status, onboarding.status) == ("acknowledged", "resolved")
    (update,) = stub.calls_to("chat.update")
    assert update.args["ts"] == risk.ts and action_blocks(update.args) == [f"alert:{risk.id}"]
    assert top_level(stub) == []


def test_taking_over_after_local_midnight_starts_the_next_days_card(
    slack_app: SlackApp, stub: SlackStub, clock: Clock
) -> None:
    risk, onboarding, ts = _two_items(slack_app, stub, "ja")
    slack_app.click(STAFF, button(TAKE_OVER, risk.id, "912.1"), message_ts=ts)

    clock.advance(hours=14, minutes=30)  # 00:30 the next day in Tokyo, the same day in UTC
    slack_app.click(STAFF, button(TAKE_OVER, onboarding.id, "912.2"), message_ts=ts)

    assert len(top_level(stub)) == 2
    assert [a.card_of for a in alerts(slack_app.services.session_factory)] == [None, None]


@pytest.mark.parametrize("card_lang", ["ja", "en"])
def test_a_taken_over_item_is_the_days_card_that_a_later_alert_joins(
    slack_app: SlackApp, stub: SlackStub, card_lang: Lang
) -> None:
    risk, ts = _at_risk_item(slack_app, stub, card_lang)
    slack_app.click(STAFF, button(TAKE_OVER, risk.id, "913.1"), message_ts=ts)
    (posted,) = top_level(stub)

    _onboarding_card_later(slack_app, stub, card_lang, timedelta(hours=2))

    risk, onboarding = alerts(slack_app.services.session_factory)
    assert (onboarding.delivery, onboarding.card_of) == ("card", risk.id)
    assert top_level(stub) == [posted]
    _shared_card(stub, risk, onboarding, card_lang)


def test_a_double_click_on_take_over_joins_the_card_once(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    risk, onboarding, ts = _two_items(slack_app, stub, "ja")
    slack_app.click(STAFF, button(TAKE_OVER, risk.id, "914.1"), message_ts=ts)

    for action_ts in ("914.2", "914.3", "914.2"):  # a double click, then Slack's retry
        slack_app.click(STAFF, button(TAKE_OVER, onboarding.id, action_ts), message_ts=ts)

    factory = slack_app.services.session_factory
    assert len(top_level(stub)) == 1
    assert [a.action for a in actions(factory)] == ["take_over", "take_over"]
    joined = [m for m in outbox(factory) if m.payload.get("event") == "take_over_joined"]
    assert len(joined) == 1 and joined[0].status == "sent"
    (host, _) = alerts(factory)
    assert len([line for line in _thread(stub, host.ts) if JOINED["ja"] in line]) == 1
