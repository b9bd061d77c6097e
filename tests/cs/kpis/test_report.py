"""`banso report` and the metrics service on a real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from banso.cli.app import app
from bot.models import Escalation, Feedback, Question
from core.services import Services
from core.settings import Settings
from cs.accounts.models import Account, MrrChange, Touchpoint
from cs.alerts.models import Alert, AlertAction
from cs.kpis.formulas import Period
from cs.kpis.report import ReportError, compute_metrics, render_text
from tests.services import services_for

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
OCT = Period.month(2026, 10)


def _services(settings: Settings, session_factory: sessionmaker[Session]) -> Services:
    return services_for(settings, session_factory.kw["bind"])


def add_account(session: Session, account_id: str, history: list[tuple[str, int]], *,
                owner: str | None = "U1", reason: str | None = None, currency: str = "JPY",
                started: str | None = None) -> None:
    """An account and its MRR log; its status and MRR follow the last change."""
    days = [date.fromisoformat(d) for d, _ in history]
    mrr = history[-1][1] if history else 0
    session.add(Account(
        id=account_id, name=f"株式会社{account_id}", mrr=mrr, currency=currency,
        contract_start=date.fromisoformat(started) if started else days[0],
        status="active" if mrr else "churned", owner_user_id=owner, churn_reason=reason,
        renewal_date=date(2027, 3, 1), flags=[],
    ))
    session.flush()
    before = 0
    for day, after in zip(days, (m for _, m in history), strict=True):
        reason_code = "new" if not before else "churn" if not after else (
            "expansion" if after > before else "contraction")
        session.add(MrrChange(account_id=account_id, effective_on=day, mrr_before=before,
                              mrr_after=after, currency=currency, reason=reason_code,
                              churn_reason=reason if reason_code == "churn" else None))
        before = after


def seed(session_factory: sessionmaker[Session]) -> None:
    """October 2026: 5 paying at the start (650k); B churns for low usage; C expands."""
    with session_factory.begin() as session:
        add_account(session, "A", [("2025-01-01", 100_000)])
        add_account(session, "B", [("2025-06-01", 200_000), ("2026-10-15", 0)],
                    reason="low_usage")
        add_account(session, "C", [("2026-01-10", 100_000), ("2026-10-05", 150_000)], owner="U2")
        add_account(session, "D", [("2026-02-01", 200_000)], owner=None)
        add_account(session, "E", [("2026-08-10", 50_000)])
        session.add(Touchpoint(account_id="E", kind="meeting",
                               at=datetime(2026, 8, 20, tzinfo=UTC)))
        alert = Alert(account_id="A", kind="at_risk", dedupe_key="at_risk:A:1", owner_user_id="U1",
                      opened_at=datetime(2026, 10, 2, 1, 0, tzinfo=UTC),
                      acknowledged_at=datetime(2026, 10, 2, 1, 20, tzinfo=UTC), evidence={})
        session.add(alert)
        session.add(Alert(account_id="C", kind="renewal", dedupe_key="renewal:C:1",
                          owner_user_id="U2", opened_at=datetime(2026, 10, 3, tzinfo=UTC),
                          evidence={}))
        session.flush()
        session.add(AlertAction(alert_id=alert.id, user_id="U1", action="acknowledge",
                                action_ts="1.1", at=datetime(2026, 10, 2, 1, 20, tzinfo=UTC)))
        # Resolved straight away, never acknowledged: responded to after 40 minutes.
        resolved = Alert(account_id="A", kind="at_risk", dedupe_key="at_risk:A:2",
                         owner_user_id="U1", opened_at=datetime(2026, 10, 9, 1, 0, tzinfo=UTC),
                         status="resolved", evidence={})
        session.add(resolved)
        session.flush()
        session.add(AlertAction(alert_id=resolved.id, user_id="U1", action="resolve",
                                action_ts="1.2", at=datetime(2026, 10, 9, 1, 40, tzinfo=UTC)))
        add_questions(session, datetime(2026, 10, 6, tzinfo=UTC))


def add_questions(session: Session, at: datetime) -> None:
    rows = [("請求書の宛名を変更したい", "abstain"), ("請求書の宛名を変更する方法は？", "abstain"),
            ("パスワードを忘れました", "answer"), ("CSVで出力できますか", "answer"),
            ("SSOは使えますか", "suggest")]
    for i, (text, decision) in enumerate(rows):
        question = Question(surface="slack", text=text, lang="ja", visibility="public",
                            decision=decision, created_at=at + timedelta(minutes=i),
                            top_entry_id="faq-password" if decision == "answer" else None)
        session.add(question)
        session.flush()
        if i == 3:
            session.add(Escalation(question_id=question.id, requested_by="U9",
                                   support_channel="CSUP", created_at=at))
        if i == 2:
            session.add(Feedback(question_id=question.id, user="U8", helpful=False,
                                 entry_id="faq-password", updated_at=at))


def test_report_computes_every_kpi_from_the_database(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory)
    m = compute_metrics(_services(settings, session_factory), NOW, OCT)
    assert (m.churn.customers_at_start, m.churn.mrr_at_start) == (5, 650_000)
    assert m.churn.logo_churn_rate == pytest.approx(0.2)
    assert m.churn.mrr_churn_rate == pytest.approx(200_000 / 650_000)
    assert m.churn.above_warning
    # Cohort of 2025-11-01: A 100k + B 200k; today A 100k.
    assert m.retention.grr == pytest.approx(1 / 3) and m.retention.nrr == pytest.approx(1 / 3)
    assert (m.avoidable_churn.count, m.avoidable_churn.mrr) == (1, 200_000)
    assert m.book.accounts == 4  # live accounts: A, C, D, E
    assert m.book.per_csm == {"U1": 2, "(unassigned)": 1, "U2": 1}
    assert (m.onboarding.accounts, m.onboarding.sessions) == (1, 1)  # E's window ends 10-09
    u1 = m.alerts.ack_by_owner["U1"]
    assert (u1.alerts, u1.acknowledged) == (2, 2)
    assert u1.median_minutes == pytest.approx(30) and u1.p90_minutes == pytest.approx(40)
    assert m.alerts.use_by_kind["renewal"].ignored == 1
    assert m.alerts.use_by_kind["at_risk"].acted == 2
    assert (m.faq.asked, m.faq.answered, m.faq.abstained, m.faq.deflected) == (5, 2, 2, 1)
    assert m.faq.feedback[0].entry_id == "faq-password" and m.faq.feedback[0].not_helpful == 1
    assert m.faq.top_unanswered[0].count == 2


def test_report_defaults_to_the_last_complete_month_in_the_configured_zone(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    # 2026-10-31T16:00Z is already 1 November in Tokyo: the last complete month is October.
    services = _services(settings, session_factory)
    m = compute_metrics(services, datetime(2026, 10, 31, 16, tzinfo=UTC))
    assert m.period == "2026-10"


def test_report_text_names_the_figures_and_marks_the_warning(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory)
    text = render_text(compute_metrics(_services(settings, session_factory), NOW, OCT, "en"),
                       "en")
    assert "logo churn               20.00% (1 account)  !! above the 3.0% warning line" in text
    assert "GRR / NRR (12 months)    33.3% / 33.3%" in text
    assert "unanswered x2            請求書の宛名を変更したい" in text
    assert "    株式会社" in text  # the accounts needing attention are named


def test_report_text_speaks_one_language_from_headers_to_risk_details(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    seed(session_factory)
    services = _services(settings, session_factory)
    english = render_text(compute_metrics(services, NOW, OCT, "en"), "en")
    japanese = render_text(compute_metrics(services, NOW, OCT, "ja"), "ja")
    assert "MRR bridge" in english and "MRR ブリッジ" in japanese
    assert "ロゴ解約率" in japanese and "logo churn" not in japanese
    # Risk details come from the rules in the report's language: no Japanese prose in English.
    details = [line for line in english.splitlines() if " — " in line]
    assert details and not any("ログイン" in line or "日" in line.split(" — ")[1]
                               for line in details)
    assert "1 account" in english and "1社" in japanese


def test_unconvertible_currency_is_a_clear_report_error(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as session:
        add_account(session, "Z", [("2026-01-01", 1000)], currency="CHF")
    with pytest.raises(ReportError, match="CHF"):
        compute_metrics(_services(settings, session_factory), NOW, OCT)


def test_live_account_in_an_unknown_currency_without_mrr_history_is_a_report_error(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as session:  # imported without its MRR log
        session.add(Account(id="Y", name="Y社", mrr=500, currency="CHF", status="active",
                            contract_start=date(2026, 1, 1), flags=[]))
    with pytest.raises(ReportError, match="CHF"):
        compute_metrics(_services(settings, session_factory), NOW, OCT)


def test_cli_prints_json_for_a_chosen_month_and_refuses_a_bad_one(
    settings: Settings, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(session_factory)
    monkeypatch.setenv("BANSO_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("BANSO_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    result = runner.invoke(app, ["report", "--json", "--period", "2026-10"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["period"] == "2026-10" and data["churn"]["churned_logos"] == 1
    bad = runner.invoke(app, ["report", "--period", "Oct"])
    assert bad.exit_code == 2 and "2026-10" in bad.output


@pytest.mark.parametrize("period", ["99999999999-01", "2200-01", "2026-13", "2026-1", ""])
def test_cli_refuses_a_month_outside_the_range_with_one_line_and_exit_2(period: str) -> None:
    bad = CliRunner().invoke(app, ["report", "--period", period])
    assert bad.exit_code == 2, bad.output
    (line,) = bad.output.strip().splitlines()
    assert line.startswith("banso report: period must be a month YYYY-MM from 1900-01 to 2199-12")
    assert bad.exception is None or isinstance(bad.exception, SystemExit)


def test_response_times_under_a_minute_read_in_seconds_in_either_language(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    opened = datetime(2026, 10, 7, 1, 0, tzinfo=UTC)
    with session_factory.begin() as session:
        add_account(session, "Q", [("2026-01-01", 100_000)])
        session.add(Alert(account_id="Q", kind="at_risk", dedupe_key="at_risk:Q:1",
                          owner_user_id="U7", opened_at=opened,
                          acknowledged_at=opened + timedelta(seconds=45), evidence={}))
    services = _services(settings, session_factory)
    english = render_text(compute_metrics(services, NOW, OCT, "en"), "en")
    japanese = render_text(compute_metrics(services, NOW, OCT, "ja"), "ja")
    assert "median 45 s, p90 45 s (1/1)" in english and "0 min" not in english
    assert "中央値 45秒、p90 45秒（1/1）" in japanese


def test_cli_refuses_a_language_it_does_not_speak_with_one_line_and_exit_2() -> None:
    bad = CliRunner().invoke(app, ["report", "--lang", "fr"])
    assert bad.exit_code == 2
    assert bad.output.strip() == "banso report: --lang must be one of ja, en, got 'fr'"


def test_onboarding_sessions_in_the_report_follow_the_teams_day_not_utc(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    with session_factory.begin() as session:  # window 08-10 .. 10-08: it ends in October
        add_account(session, "W", [("2026-08-10", 100_000)])
        for local in (datetime(2026, 9, 15, 14, 0, tzinfo=tokyo),
                      datetime(2026, 10, 9, 7, 57, tzinfo=tokyo)):  # 10-08 in UTC: too late
            session.add(Touchpoint(account_id="W", kind="call", at=local.astimezone(UTC)))
    m = compute_metrics(_services(settings, session_factory), NOW, OCT, "en")
    assert (m.onboarding.accounts, m.onboarding.sessions) == (1, 1)  # by UTC days: 2
