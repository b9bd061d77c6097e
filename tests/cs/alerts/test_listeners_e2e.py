"""End to end: import → job → card posted → signed click over HTTP → card updated from the
database → re-run posts nothing new. The Slack Web API is the local stand-in."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from core.services import Services
from cs.accounts.models import Touchpoint
from cs.alerts.models import AlertAction, AlertRouting
from cs.alerts.routing import alerts_for_user
from jobs.alert_jobs import alert_contact_changes, run_alert_job
from tests.cs.alerts_support import (
    CHANNEL,
    NOW,
    OUTSIDER,
    OWNER,
    STAFF,
    Clock,
    SlackApp,
    account_row,
    actions,
    alerts,
    button,
    client_for,
    count,
    job_context,
    seed,
    select_option,
    snooze_values,
    told,
    usage_rows,
)
from tests.slack_stub import SlackStub, check_view

# Fixtures shared by the alert tests (pytest finds them by these names).


def _posted_alert(slack_app: SlackApp, stub: SlackStub) -> tuple[Services, int]:
    services = slack_app.services
    seed(services.session_factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))
    ctx = job_context(services.settings, services.session_factory, client_for(stub))
    run_alert_job("at_risk", ctx, NOW)
    (alert,) = alerts(services.session_factory)
    return ctx, alert.id


def _card_context(call_args: dict[str, Any]) -> str:
    return " ".join(e["text"] for b in call_args["blocks"] if b["type"] == "context"
                    for e in b["elements"])


def test_click_acknowledge_updates_the_card_in_place_and_rerun_posts_nothing(
    slack_app: SlackApp, stub: SlackStub, clock: Clock
) -> None:
    ctx, alert_id = _posted_alert(slack_app, stub)
    (post,) = stub.calls_to("chat.postMessage")
    assert any(b["type"] == "actions" for b in post.args["blocks"])

    reply = slack_app.click(STAFF, button("alert_acknowledge", alert_id, "100.1"))
    assert reply.status_code == 200

    (update,) = stub.calls_to("chat.update")
    (alert,) = alerts(slack_app.services.session_factory)
    assert update.args["ts"] == alert.ts and update.args["channel"] == CHANNEL
    assert "<@USTAFF> が確認" in _card_context(update.args)
    assert alert.status == "acknowledged" and alert.assignee_user_id == STAFF
    (thread,) = [c for c in stub.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert thread.args["thread_ts"] == alert.ts and "<@USTAFF>" in thread.args["text"]

    stub.reset()
    run_alert_job("at_risk", ctx, NOW + timedelta(hours=3))
    assert stub.calls_to("chat.postMessage") == [] and stub.calls_to("chat.update") == []
    assert not stub.violations


def test_unsigned_click_is_refused_and_changes_nothing(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)

    reply = slack_app.click(STAFF, button("alert_resolve", alert_id, "100.2"), signed=False)

    assert reply.status_code == 401
    assert alerts(slack_app.services.session_factory)[0].status == "open"


def test_non_staff_click_gets_an_ephemeral_refusal_and_records_nothing(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)

    slack_app.click(OUTSIDER, button("alert_resolve", alert_id, "100.3"))

    (refusal,) = told(stub)
    assert "スタッフのみ" in refusal
    assert actions(slack_app.services.session_factory) == []
    assert alerts(slack_app.services.session_factory)[0].status == "open"
    assert stub.calls_to("chat.update") == []


def test_double_click_and_slack_retry_record_one_action(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)
    factory = slack_app.services.session_factory

    slack_app.click(STAFF, button("alert_acknowledge", alert_id, "200.1"))
    slack_app.click(STAFF, button("alert_acknowledge", alert_id, "200.1"))  # Slack's retry
    slack_app.click(STAFF, button("alert_acknowledge", alert_id, "200.2"))  # second click
    slack_app.click(OWNER, button("alert_assign", alert_id, "200.4"))

    rows = [(a.user_id, a.action) for a in actions(factory)]
    assert rows == [(STAFF, "acknowledge"), (OWNER, "assign")]
    assert alerts(factory)[0].assignee_user_id == OWNER
    assert len(stub.calls_to("chat.update")) == 2  # one re-render per recorded action


def test_log_touch_records_a_touchpoint_and_says_so_in_the_thread(
    slack_app: SlackApp, stub: SlackStub, clock: Clock
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)
    factory = slack_app.services.session_factory

    slack_app.click(OWNER, select_option("alert_log_touch", alert_id, "call", "300.1"))

    threads = [c for c in stub.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert "<@UOWNER> が電話を記録しました" in threads[0].args["text"]
    with factory() as session:
        (touch,) = session.scalars(select(Touchpoint)).all()
    assert (touch.account_id, touch.kind, touch.user_id, touch.alert_id) == (
        "A1", "call", OWNER, alert_id)


def test_snooze_quiets_the_alert_until_the_date_and_then_it_resurfaces(
    slack_app: SlackApp, stub: SlackStub, clock: Clock
) -> None:
    ctx, alert_id = _posted_alert(slack_app, stub)

    slack_app.click(OWNER, select_option("alert_snooze", alert_id, "1w", "400.1"))
    (update,) = stub.calls_to("chat.update")
    assert "スヌーズ中" in _card_context(update.args)

    stub.reset()
    run_alert_job("at_risk", ctx, NOW + timedelta(days=6))
    assert stub.calls_to("chat.postMessage") == []

    run_alert_job("at_risk", ctx, NOW + timedelta(days=7, minutes=1))
    (resurfaced,) = stub.calls_to("chat.postMessage")
    assert resurfaced.args["thread_ts"] and "<@UOWNER>" in resurfaced.args["text"]
    assert "未対応" in _card_context(stub.calls_to("chat.update")[-1].args)


def test_snooze_until_a_picked_date(slack_app: SlackApp, stub: SlackStub) -> None:
    _, alert_id = _posted_alert(slack_app, stub)
    action = {"type": "datepicker", "action_id": "alert_snooze_until",
              "block_id": f"alert:{alert_id}", "selected_date": "2026-12-10",
              "action_ts": "500.1"}

    slack_app.click(OWNER, action)

    (alert,) = alerts(slack_app.services.session_factory)
    assert alert.status == "snoozed"
    assert alert.snoozed_until is not None
    assert alert.snoozed_until.isoformat() == "2026-12-10T00:00:00+00:00"  # 09:00 JST


def test_snooze_into_the_past_is_refused_with_a_clear_message(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)
    action = {"type": "datepicker", "action_id": "alert_snooze_until",
              "block_id": f"alert:{alert_id}", "selected_date": "2026-01-01",
              "action_ts": "500.2"}

    slack_app.click(OWNER, action)

    (line,) = told(stub)
    assert "future" in line
    assert alerts(slack_app.services.session_factory)[0].status == "open"


def test_not_useful_is_stored_as_feedback_on_the_rule_and_resolves(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)

    slack_app.click(OWNER, button("alert_not_useful", alert_id, "600.1"))

    (update,) = stub.calls_to("chat.update")
    assert not any(b["type"] == "actions" for b in update.args["blocks"])
    (action,) = actions(slack_app.services.session_factory)
    assert action.action == "not_useful" and action.payload["kind"] == "at_risk"
    assert action.payload["reasons"]


def test_contact_change_import_alerts_at_once_and_a_logged_call_closes_it(
    slack_app: SlackApp, stub: SlackStub, clock: Clock
) -> None:
    services = slack_app.services
    factory = services.session_factory
    seed(factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=1),
         contacts=[{"account_id": "A1", "name": "山田 太郎", "email": "yamada@example.jp"}])
    later = NOW + timedelta(days=1)
    changes = seed(factory, [], contacts=[{"account_id": "A1", "name": "佐藤 花子",
                                           "email": "sato@example.jp", "moved_to": "経理部"}],
                   now=later)
    ctx = job_context(services.settings, factory, client_for(stub))

    alert_contact_changes(ctx, changes, later)
    run_alert_job("contact_changes", ctx, later + timedelta(minutes=15))  # the sweep finds no more

    (post,) = stub.calls_to("chat.postMessage")
    assert "主担当者の変更" in post.args["text"]
    (alert,) = alerts(factory)
    assert alert.kind == "contact_change"

    clock.advance(hours=26)
    slack_app.click(OWNER, select_option("alert_log_touch", alert.id, "call", "700.1"))
    run_alert_job("contact_changes", ctx, clock() + timedelta(minutes=15))

    (alert,) = alerts(factory)
    assert alert.status == "resolved" and alert.resolved_by is None
    assert "状態が解消したため自動解決" in _card_context(stub.calls_to("chat.update")[-1].args)


def test_lead_chooses_to_see_all_alerts_and_others_cannot(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    services = slack_app.services
    seed(services.session_factory, [account_row("A1", owner="UOTHER")],
         usage_rows("A1", last_login_days_ago=30))
    run_alert_job("at_risk", job_context(services.settings, services.session_factory, None), NOW,
            deliver=False)

    assert slack_app.command(OWNER, "all").text.startswith("only leads")
    assert slack_app.command(STAFF, "all").text.startswith("表示するアラート: all")
    assert count(services.session_factory, AlertRouting, AlertRouting.user_id == STAFF) == 1
    with services.session_factory() as session:
        assert [a.account_id for a in alerts_for_user(session, services.settings, STAFF)] == ["A1"]
        assert alerts_for_user(session, services.settings, OWNER) == []
    assert count(services.session_factory, AlertAction) == 0


def test_click_naming_a_missing_or_forged_alert_gets_a_clear_ephemeral_answer(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _posted_alert(slack_app, stub)
    forged = {"type": "button", "action_id": "alert_resolve", "block_id": "x",
              "value": "{not json", "action_ts": "800.2"}

    slack_app.click(STAFF, button("alert_resolve", 999_999, "800.1"))
    slack_app.click(STAFF, forged)

    assert told(stub) == ["alert 999999 not found", "the button does not name an alert"]
    assert alerts(slack_app.services.session_factory)[0].status == "open"


def _open_snooze_form(slack_app: SlackApp, stub: SlackStub, alert_id: int,
                      user: str = STAFF) -> dict[str, Any]:
    slack_app.click(user, button("alert_snooze_form", alert_id, "900.1"), trigger_id="trig-42")
    (opened,) = stub.calls_to("views.open")
    assert opened.args["trigger_id"] == "trig-42"
    return dict(opened.args["view"])


def test_snooze_button_opens_the_form_on_the_clicks_trigger_id(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)

    view = _open_snooze_form(slack_app, stub, alert_id)

    assert check_view(view) == [] and not stub.violations
    assert view["callback_id"] == "alert_snooze_view"
    assert json.loads(view["private_metadata"]) == {"alert_id": alert_id, "channel": CHANNEL}
    assert actions(slack_app.services.session_factory) == []  # opening it changes nothing
    assert stub.calls_to("chat.update") == []


def test_snooze_form_with_a_reason_is_stored_once_and_shown_on_the_card(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)
    factory = slack_app.services.session_factory
    view = _open_snooze_form(slack_app, stub, alert_id)
    values = snooze_values("date", "2026-12-10", "  先方の予算確定待ち <!here>  ")

    reply = slack_app.submit(STAFF, view, values, view_id="V0ABC")
    slack_app.submit(STAFF, view, values, view_id="V0ABC")  # a double click on Submit

    assert reply.status_code == 200 and reply.text == ""  # closes the modal
    (action,) = actions(factory)
    assert (action.user_id, action.action, action.action_ts) == (STAFF, "snooze", "V0ABC")
    assert action.payload["note"] == "先方の予算確定待ち <!here>"
    assert action.payload["until"] == "2026-12-10T00:00:00+00:00"  # 09:00 JST
    (alert,) = alerts(factory)
    assert alert.status == "snoozed" and alert.snooze_note == "先方の予算確定待ち <!here>"
    (update,) = stub.calls_to("chat.update")
    assert update.args["ts"] == alert.ts
    card = _card_context(update.args)
    assert "スヌーズ中 (<@USTAFF>) — 先方の予算確定待ち &lt;!here&gt;" in card
    (thread,) = [c for c in stub.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert "スヌーズしました — 先方の予算確定待ち" in thread.args["text"]
    assert not stub.violations


def test_snooze_form_quick_choice_without_a_reason_snoozes_like_the_select(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)
    view = _open_snooze_form(slack_app, stub, alert_id)

    slack_app.submit(OWNER, view, snooze_values("1w", "2027-01-01"))  # the date is not chosen

    (alert,) = alerts(slack_app.services.session_factory)
    # 09:00 Tokyo seven calendar days on (the click was at 10:00), as a quick snooze ends
    assert alert.snoozed_until == NOW + timedelta(days=7, hours=-1)
    assert alert.snooze_note is None
    assert "note" not in actions(slack_app.services.session_factory)[0].payload


def test_snooze_form_with_a_past_date_or_no_choice_is_answered_in_the_form(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)
    view = _open_snooze_form(slack_app, stub, alert_id)

    past = slack_app.submit(STAFF, view, snooze_values("date", "2026-11-25", "遅い"))
    missing = slack_app.submit(STAFF, view, snooze_values(None, "2026-12-10"))
    no_date = slack_app.submit(STAFF, view, snooze_values("date"))

    assert past.json() == {"response_action": "errors",
                           "errors": {"snooze_date": "今より後の日付を選んでください"}}
    assert missing.json()["errors"] == {"snooze_choice": "期間を選んでください"}
    assert no_date.json()["errors"] == {"snooze_date": "日付を選んでください"}
    assert actions(slack_app.services.session_factory) == []
    assert alerts(slack_app.services.session_factory)[0].status == "open"
    assert stub.calls_to("chat.update") == []


def test_non_staff_cannot_open_or_submit_the_snooze_form(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)
    view = _open_snooze_form(slack_app, stub, alert_id)  # opened by staff
    stub.reset()

    slack_app.click(OUTSIDER, button("alert_snooze_form", alert_id, "900.2"))
    reply = slack_app.submit(OUTSIDER, view, snooze_values("1d", note="関係ない"))

    assert stub.calls_to("views.open") == []
    (refusal,) = told(stub)
    assert "スタッフのみ" in refusal
    assert reply.json() == {"response_action": "errors",
                            "errors": {"snooze_choice": "この操作はスタッフのみ可能です。"}}
    assert actions(slack_app.services.session_factory) == []
    assert alerts(slack_app.services.session_factory)[0].status == "open"


def test_snooze_form_opened_from_home_republishes_home_after_the_snooze(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)
    home_click = {
        "type": "block_actions", "user": {"id": OWNER, "team_id": "T0001"},
        "team": {"id": "T0001"}, "api_app_id": "A1", "trigger_id": "trig-home",
        "container": {"type": "view", "view_id": "VHOME"}, "view": {"type": "home", "id": "VHOME"},
        "actions": [button("alert_snooze_form", alert_id, "910.1")],
    }
    slack_app.post(urlencode({"payload": json.dumps(home_click)}))
    slack_app.settle()
    (opened,) = stub.calls_to("views.open")
    assert json.loads(opened.args["view"]["private_metadata"]) == {"alert_id": alert_id,
                                                                   "home": True}

    slack_app.submit(OWNER, opened.args["view"], snooze_values("30d", note="休暇明けに連絡"))

    (home,) = stub.calls_to("views.publish")
    assert home.args["user_id"] == OWNER
    assert f"alert:{alert_id}" not in json.dumps(home.args["view"])  # Home hides snoozed ones
    assert len(stub.calls_to("chat.update")) == 1  # the channel card follows as well


def test_a_button_clicked_in_home_republishes_home_with_the_new_state(
    slack_app: SlackApp, stub: SlackStub
) -> None:
    _, alert_id = _posted_alert(slack_app, stub)
    channel = "CCHANNEL"
    slack_app.click(OWNER, button("alert_acknowledge", alert_id, "920.1"), channel=channel)
    assert stub.calls_to("views.publish") == []  # a channel click leaves Home alone
    home_click = {
        "type": "block_actions", "user": {"id": OWNER, "team_id": "T0001"},
        "team": {"id": "T0001"}, "api_app_id": "A1", "trigger_id": "trig-home2",
        "container": {"type": "view", "view_id": "VHOME"}, "view": {"type": "home", "id": "VHOME"},
        "actions": [button("alert_resolve", alert_id, "920.2")],
    }
    slack_app.post(urlencode({"payload": json.dumps(home_click)}))
    slack_app.settle()
    (home,) = stub.calls_to("views.publish")
    assert home.args["user_id"] == OWNER
    assert f"alert:{alert_id}" not in json.dumps(home.args["view"])  # resolved: gone from Home
