"""Tech-touch digest items can be taken over with one click (a regular card assigned to the
clicker, posted) or marked not useful; the digest re-renders. Every item, however long the
digest: past one message's room the rest go in its thread. Signed clicks over HTTP, the Slack
stand-in for the Web API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.i18n import Lang
from cs.alerts.outbox import Outbox
from jobs.alert_jobs import run_alert_job
from tests.cs.alerts.test_calendar import card_text
from tests.cs.alerts_support import (
    CHANNEL,
    NOW,
    STAFF,
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
ASSIGNEE = {"ja": "対応者: <@USTAFF>", "en": "Assignee: <@USTAFF>"}


def _digest(slack_app: SlackApp, stub: SlackStub, lang: Lang = "ja") -> tuple[int, str]:
    """A tech-touch account at risk, in today's digest; returns its alert id and the ts."""
    factory = slack_app.services.session_factory
    seed(factory, [account_row("T1", mrr=30_000)], usage_rows("T1", last_login_days_ago=30))
    ctx = job_context(slack_app.services.settings, factory, client_for(stub), lang=lang)
    run_alert_job("at_risk", ctx, NOW)
    run_alert_job("digest", ctx, NOW)
    (alert,) = alerts(factory)
    (row,) = [m for m in outbox(factory) if m.op == "digest"]
    assert row.result_ts is not None
    stub.reset()
    return alert.id, row.result_ts


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
