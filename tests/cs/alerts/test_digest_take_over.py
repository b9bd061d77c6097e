"""Tech-touch digest items can be taken over with one click (a regular card assigned to the
clicker, posted) or marked not useful; the digest re-renders. Signed clicks over HTTP, the
Slack stand-in for the Web API."""

from __future__ import annotations

from typing import Any

import pytest

from core.i18n import Lang
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
from tests.slack_stub import SlackStub

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
