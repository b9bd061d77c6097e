"""The alert state machine through real job runs: fire on entering a state, update while in it,
resolve when it ends, never twice for one period."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.db import session_scope
from core.services import Services
from core.settings import Settings
from cs.alerts.actions import Click, apply_click
from cs.alerts.models import ActionKind, AlertKind, AlertStatus, Delivery, OutboxOp
from jobs.alert_jobs import run_alert_job
from tests.cs.alerts_support import (
    NOW,
    OWNER,
    TODAY,
    account_row,
    alerts,
    job_context,
    outbox,
    seed,
    usage_rows,
)

# Fixtures shared by the alert tests (pytest finds them by these names).


def _ctx(settings: Settings, session_factory: sessionmaker[Session]) -> Services:
    return job_context(settings, session_factory, client=None)


def test_account_entering_at_risk_fires_once_across_reruns(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1"), account_row("A2")],
         usage_rows("A1", last_login_days_ago=30) + usage_rows("A2", last_login_days_ago=1))
    ctx = _ctx(alert_settings, session_factory)

    first = run_alert_job("at_risk", ctx, NOW, deliver=False)
    again = run_alert_job("at_risk", ctx, NOW + timedelta(hours=1), deliver=False)

    (alert,) = alerts(session_factory)
    assert (alert.account_id, alert.kind, alert.status) == ("A1", "at_risk", "open")
    assert alert.owner_user_id == OWNER and alert.delivery == Delivery.CARD.value
    assert any("最終ログイン 30日前" in r for r in alert.evidence["reasons"])
    assert len(first.alerts.opened) == 1 and again.alerts.changed == 0
    assert [m.op for m in outbox(session_factory)] == [OutboxOp.POST_ALERT.value]


def test_new_evidence_updates_the_open_alert_instead_of_posting_again(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))
    ctx = _ctx(alert_settings, session_factory)
    run_alert_job("at_risk", ctx, NOW, deliver=False)

    report = run_alert_job("at_risk", ctx, NOW + timedelta(days=5), deliver=False)

    (alert,) = alerts(session_factory)
    assert report.alerts.updated == [alert.id]
    assert any("最終ログイン 35日前" in r for r in alert.evidence["reasons"])
    assert [m.op for m in outbox(session_factory)] == ["post_alert", "update_alert"]


def test_alert_resolves_itself_when_the_state_ends(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))
    ctx = _ctx(alert_settings, session_factory)
    run_alert_job("at_risk", ctx, NOW, deliver=False)
    later = NOW + timedelta(days=1)
    seed(session_factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=0,
                                                          today=later.date(), days=1), now=later)

    report = run_alert_job("at_risk", ctx, later, deliver=False)

    (alert,) = alerts(session_factory)
    assert report.alerts.resolved == [alert.id]
    assert alert.status == "resolved" and alert.resolved_by is None and not alert.in_state
    assert outbox(session_factory)[-1].op == "update_alert"


def test_resolved_by_hand_stays_quiet_while_the_state_lasts_and_fires_on_a_new_episode(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))
    ctx = _ctx(alert_settings, session_factory)
    run_alert_job("at_risk", ctx, NOW, deliver=False)
    (alert,) = alerts(session_factory)
    with session_scope(session_factory) as session:
        apply_click(session, Click(alert.id, OWNER, ActionKind.RESOLVE, "1.1", NOW, TODAY))

    quiet = run_alert_job("at_risk", ctx, NOW + timedelta(days=2), deliver=False)
    assert quiet.alerts.changed == 0 and len(alerts(session_factory)) == 1

    back = NOW + timedelta(days=3)  # logged in: the episode ends ...
    seed(session_factory, [account_row("A1")],
         usage_rows("A1", last_login_days_ago=0, today=back.date(), days=1), now=back)
    run_alert_job("at_risk", ctx, back, deliver=False)
    gone = NOW + timedelta(days=20)  # ... and a new one starts when they stop again
    seed(session_factory, [account_row("A1")],
         usage_rows("A1", last_login_days_ago=17, today=gone.date(), days=1), now=gone)
    run_alert_job("at_risk", ctx, gone, deliver=False)

    first, second = alerts(session_factory)
    assert first.status == "resolved" and second.status == "open"
    assert second.dedupe_key == "at_risk:A1:2026-12-15"


def test_renewal_reminder_moves_to_the_next_milestone_in_place_or_anew_once_handled(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1", renewal="2027-03-01")],
         usage_rows("A1", last_login_days_ago=1))
    ctx = _ctx(alert_settings, session_factory)
    run_alert_job("renewals", ctx, NOW, deliver=False)  # 96 days: the 120-day reminder
    (alert,) = alerts(session_factory)
    assert alert.dedupe_key == "renewal:A1:2027-03-01:120" and alert.evidence["milestone"] == 120

    run_alert_job("renewals", ctx, NOW + timedelta(days=10), deliver=False)  # 86 days: 90-day one
    (moved,) = alerts(session_factory)
    assert moved.dedupe_key == "renewal:A1:2027-03-01:90"
    assert [m.op for m in outbox(session_factory)] == ["post_alert", "update_alert"]

    with session_scope(session_factory) as session:
        apply_click(session, Click(alert.id, OWNER, ActionKind.RESOLVE, "2.1", NOW, TODAY))
    run_alert_job("renewals", ctx, NOW + timedelta(days=40), deliver=False)  # 56 days: 60-day one

    handled, sixty = alerts(session_factory)
    assert handled.status == "resolved"
    assert sixty.dedupe_key == "renewal:A1:2027-03-01:60" and sixty.status == "open"
    assert [m.op for m in outbox(session_factory)].count("post_alert") == 2


def test_thank_you_follows_a_completed_renewal(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1", renewal="2027-11-20", renewed_at="2026-11-20"),
                           account_row("A2", renewal="2027-11-20", renewed_at="2026-09-01")],
         usage_rows("A1", last_login_days_ago=1) + usage_rows("A2", last_login_days_ago=1))

    run_alert_job("renewals", _ctx(alert_settings, session_factory), NOW, deliver=False)

    (thanks,) = alerts(session_factory)
    assert (thanks.account_id, thanks.kind) == ("A1", AlertKind.RENEWAL_THANKS.value)


def test_snoozed_alert_stays_quiet_until_the_date_then_resurfaces(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))
    ctx = _ctx(alert_settings, session_factory)
    run_alert_job("at_risk", ctx, NOW, deliver=False)
    (alert,) = alerts(session_factory)
    with session_scope(session_factory) as session:
        apply_click(session, Click(alert.id, OWNER, ActionKind.SNOOZE, "3.1", NOW, TODAY,
                                   snooze_until=NOW + timedelta(days=7)))
    sent_before = len(outbox(session_factory))

    during = run_alert_job("at_risk", ctx, NOW + timedelta(days=6, hours=23), deliver=False)
    assert during.alerts.resurfaced == []
    assert alerts(session_factory)[0].status == "snoozed"

    after = run_alert_job("at_risk", ctx, NOW + timedelta(days=7, hours=1), deliver=False)

    (alert,) = alerts(session_factory)
    assert after.alerts.resurfaced == [alert.id] and alert.status == "open"
    new_ops = [(m.op, m.payload.get("event")) for m in outbox(session_factory)[sent_before:]]
    assert ("thread", "resurfaced") in new_ops and ("update_alert", None) in new_ops


def test_snooze_reason_lasts_as_long_as_its_snooze(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))
    ctx = _ctx(alert_settings, session_factory)
    run_alert_job("at_risk", ctx, NOW, deliver=False)
    (alert,) = alerts(session_factory)
    week = NOW + timedelta(days=7)

    def snooze(ts: str, until: datetime, note: str | None) -> bool:
        with session_scope(session_factory) as session:
            return apply_click(session, Click(alert.id, OWNER, ActionKind.SNOOZE, ts, NOW, TODAY,
                                              snooze_until=until, note=note)).recorded

    assert snooze("4.1", week, "予算待ち")
    assert not snooze("4.2", week, "予算待ち")  # the same snooze again changes nothing
    assert snooze("4.3", week, "担当者が休暇中")  # a new reason is a change
    assert alerts(session_factory)[0].snooze_note == "担当者が休暇中"
    assert snooze("4.4", NOW + timedelta(days=1), None)  # a quick choice drops the reason
    assert alerts(session_factory)[0].snooze_note is None

    assert snooze("4.5", week, "予算待ち")
    run_alert_job("at_risk", ctx, week + timedelta(hours=1), deliver=False)
    (alert,) = alerts(session_factory)
    assert alert.status == "open" and alert.snooze_note is None


def test_tech_touch_items_go_into_one_digest_per_channel_per_day(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    accounts = [account_row(f"T{i}", mrr=30_000) for i in range(3)]
    seed(session_factory, accounts,
         [u for i in range(3) for u in usage_rows(f"T{i}", last_login_days_ago=30)])
    ctx = _ctx(alert_settings, session_factory)
    run_alert_job("at_risk", ctx, NOW, deliver=False)
    run_alert_job("digest", ctx, NOW, deliver=False)
    seed(session_factory, [account_row("T9", mrr=30_000)],
         usage_rows("T9", last_login_days_ago=30))
    run_alert_job("at_risk", ctx, NOW + timedelta(hours=2), deliver=False)
    run_alert_job("digest", ctx, NOW + timedelta(hours=3), deliver=False)

    messages = outbox(session_factory)
    assert [m.op for m in messages] == ["digest"]
    assert len(messages[0].payload["alert_ids"]) == 3 and messages[0].channel == "CCSM"
    late = next(a for a in alerts(session_factory) if a.account_id == "T9")
    assert late.digested_on is None  # waits for tomorrow's digest

    run_alert_job("digest", ctx, NOW + timedelta(days=1), deliver=False)
    assert [m.payload["alert_ids"] for m in outbox(session_factory)][-1] == [late.id]


def test_a_failing_account_does_not_stop_the_others(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1", currency="XXX"), account_row("A2")],
         usage_rows("A1", last_login_days_ago=30) + usage_rows("A2", last_login_days_ago=30))

    report = run_alert_job("at_risk", _ctx(alert_settings, session_factory), NOW, deliver=False)

    assert report.failed_accounts == ["A1"]
    assert [a.account_id for a in alerts(session_factory)] == ["A2"]


def test_churned_account_alerts_end_with_the_account(
    alert_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory, [account_row("A1")], usage_rows("A1", last_login_days_ago=30))
    ctx = _ctx(alert_settings, session_factory)
    run_alert_job("at_risk", ctx, NOW, deliver=False)
    seed(session_factory, [account_row("A1", status="churned", churn_date="2026-11-26")],
         now=NOW + timedelta(days=1))

    run_alert_job("at_risk", ctx, NOW + timedelta(days=1), deliver=False)

    assert alerts(session_factory)[0].status == AlertStatus.RESOLVED.value
