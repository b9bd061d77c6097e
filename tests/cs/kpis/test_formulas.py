"""KPI formulas on small hand-made books whose answers are worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from cs.kpis.formulas import (
    AccountRow,
    AlertRow,
    CurrencyError,
    KpiConfig,
    Movement,
    MrrEvent,
    MrrLog,
    Period,
    Touch,
    alert_kpis,
    avoidable_churn,
    book,
    bridge,
    churn,
    onboarding_sessions,
    percentile,
    period_retention,
    retention,
)

CONFIG = KpiConfig()
OCT = Period.month(2026, 10)


def ev(account: str, day: str, mrr: int, currency: str = "JPY", seq: int = 0,
       reason: str | None = None) -> MrrEvent:
    return MrrEvent(account, date.fromisoformat(day), mrr, currency, seq, reason)


# A expands before October; B churns (low usage); C expands; D contracts; E is new; F left in May
# and comes back; G cancels and returns inside October; H churns on the last day (price).
BOOK = [
    ev("A", "2025-01-01", 100_000), ev("A", "2026-06-01", 150_000),
    ev("B", "2025-06-01", 200_000), ev("B", "2026-10-15", 0, reason="low_usage"),
    ev("C", "2026-01-10", 50_000), ev("C", "2026-10-05", 80_000),
    ev("D", "2026-02-01", 100_000), ev("D", "2026-10-20", 60_000),
    ev("E", "2026-10-10", 30_000),
    ev("F", "2025-03-01", 40_000), ev("F", "2026-05-01", 0, reason="no_roi"),
    ev("F", "2026-10-12", 40_000),
    ev("G", "2026-03-01", 70_000), ev("G", "2026-10-03", 0, seq=1),
    ev("G", "2026-10-25", 70_000, seq=2),
    ev("H", "2026-04-01", 150_000), ev("H", "2026-10-31", 0, reason="price"),
]


def test_monthly_churn_by_logo_and_by_mrr() -> None:
    kpis, churned = churn(MrrLog(BOOK, CONFIG), OCT, CONFIG)
    # Start of October: A 150k, B 200k, C 50k, D 100k, G 70k, H 150k = 6 logos, 720,000.
    assert (kpis.customers_at_start, kpis.mrr_at_start) == (6, 720_000)
    assert churned == ["B", "H"]
    assert kpis.logo_churn_rate == pytest.approx(2 / 6)
    # Lost: B 200k + H 150k churned, D 40k contraction.
    assert (kpis.churned_mrr, kpis.contraction_mrr, kpis.expansion_mrr) == (350_000, 40_000, 30_000)
    assert kpis.mrr_churn_rate == pytest.approx(390_000 / 720_000)
    assert kpis.above_warning


def test_account_that_left_and_came_back_counts_as_reactivated_not_new_nor_churned() -> None:
    kpis, churned = churn(MrrLog(BOOK, CONFIG), OCT, CONFIG)
    assert "G" not in churned  # cancelled on the 3rd, back on the 25th at the same MRR
    assert (kpis.new_logos, kpis.new_mrr, kpis.reactivated_logos) == (1, 30_000, 1)  # E new, F back


def test_churn_below_warning_line_is_not_flagged() -> None:
    events = [ev(f"X{i}", "2026-01-01", 10_000) for i in range(100)] + [ev("X0", "2026-10-09", 0)]
    kpis, _ = churn(MrrLog(events, CONFIG), OCT, KpiConfig(churn_warning=0.03))
    assert kpis.logo_churn_rate == pytest.approx(0.01)
    assert not kpis.above_warning


def test_no_customers_at_period_start_gives_no_rate_instead_of_dividing_by_zero() -> None:
    kpis, churned = churn(MrrLog([ev("N", "2026-10-05", 10_000)], CONFIG), OCT, CONFIG)
    assert kpis.customers_at_start == 0 and churned == []
    assert kpis.logo_churn_rate is None and kpis.mrr_churn_rate is None
    assert not kpis.above_warning
    ret = retention(MrrLog([], CONFIG), OCT.end)
    assert ret.grr is None and ret.nrr is None and ret.cohort_size == 0


def test_grr_and_nrr_compare_the_cohort_of_a_year_ago_with_today() -> None:
    ret = retention(MrrLog(BOOK, CONFIG), date(2026, 11, 1))
    # Paying on 2025-11-01: A 100k, B 200k, F 40k = 340k. Today: A 150k, B 0, F 40k.
    assert ret.cohort_day == date(2025, 11, 1)
    assert (ret.cohort_size, ret.cohort_mrr) == (3, 340_000)
    assert ret.retained_mrr == 100_000 + 0 + 40_000  # expansion capped at the old MRR
    assert ret.grr == pytest.approx(140_000 / 340_000)
    assert ret.nrr == pytest.approx(190_000 / 340_000)  # A's expansion included


def test_avoidable_churn_by_count_and_mrr_uses_configured_reasons() -> None:
    log = MrrLog(BOOK, CONFIG)
    _, churned = churn(log, OCT, CONFIG)
    result = avoidable_churn(churned, log, OCT, CONFIG)
    assert (result.count, result.mrr) == (1, 200_000)  # B low_usage; H price is not avoidable
    assert result.share_of_churned_logos == pytest.approx(0.5)
    assert result.by_reason == {"low_usage": 1, "price": 1}
    custom = KpiConfig(avoidable_reasons=("Price",))
    assert avoidable_churn(churned, log, OCT, custom).mrr == 150_000


@pytest.mark.parametrize("written", [" Couldn't use it ", "low usage", "No-ROI", "couldnt_use"])
def test_reason_written_in_free_form_still_matches_the_code(written: str) -> None:
    log = MrrLog([ev("B", "2025-06-01", 200_000), ev("B", "2026-10-15", 0, reason=written)],
                 CONFIG)
    result = avoidable_churn(["B"], log, OCT, CONFIG)
    assert (result.count, result.mrr) == (1, 200_000)


def test_a_customer_who_returned_keeps_each_churns_own_reason() -> None:
    events = [ev("R", "2025-01-01", 50_000), ev("R", "2025-06-10", 0, reason="no_roi"),
              ev("R", "2026-01-01", 50_000), ev("R", "2026-10-10", 0, reason="budget_cut")]
    log = MrrLog(events, CONFIG)
    june = Period.month(2025, 6)
    assert avoidable_churn(churn(log, june, CONFIG)[1], log, june, CONFIG).by_reason == {
        "no_roi": 1}
    assert avoidable_churn(churn(log, OCT, CONFIG)[1], log, OCT, CONFIG).by_reason == {
        "budget_cut": 1}


def test_mrr_bridge_of_october_balances_to_the_yen_with_the_accounts_behind_each_line() -> None:
    result = bridge(MrrLog(BOOK, CONFIG), OCT)
    lines = {line.movement: (line.mrr, [a.account_id for a in line.accounts])
             for line in result.lines}
    assert lines == {
        Movement.NEW: (30_000, ["E"]), Movement.EXPANSION: (30_000, ["C"]),
        Movement.REACTIVATION: (40_000, ["F"]), Movement.CONTRACTION: (40_000, ["D"]),
        Movement.CHURN: (350_000, ["B", "H"]), Movement.SCHEDULED_CHURN: (0, []),
    }
    # 720,000 + 30,000 + 30,000 + 40,000 - 40,000 - 350,000 = 430,000; logos 6 + 1 + 1 - 2 = 6.
    assert (result.start_mrr, result.end_mrr) == (720_000, 430_000)
    assert (result.start_logos, result.end_logos) == (6, 6)
    assert result.balanced


def test_a_churn_dated_after_today_is_scheduled_not_churned() -> None:
    log = MrrLog(BOOK, CONFIG)
    kpis, churned = churn(log, OCT, CONFIG, today=date(2026, 10, 20))
    assert churned == ["B"]  # H leaves on the 31st: booked, not happened
    assert (kpis.scheduled_churn_logos, kpis.scheduled_churn_mrr) == (1, 150_000)
    assert kpis.logo_churn_rate == pytest.approx(1 / 6)
    result = bridge(log, OCT, today=date(2026, 10, 20))
    assert result.line(Movement.SCHEDULED_CHURN).mrr == 150_000
    assert result.line(Movement.CHURN).mrr == 200_000 and result.balanced
    assert churn(log, OCT, CONFIG, today=date(2026, 10, 31))[1] == ["B", "H"]


def test_period_retention_compares_the_start_of_the_month_with_its_end() -> None:
    ret = period_retention(MrrLog(BOOK, CONFIG), OCT)
    # Paying on 1 October: A 150k, B 200k, C 50k, D 100k, G 70k, H 150k = 720k.
    # On 1 November: A 150k, B 0, C 80k, D 60k, G 70k, H 0.
    assert (ret.cohort_day, ret.as_of, ret.cohort_mrr) == (OCT.start, OCT.end, 720_000)
    assert ret.grr == pytest.approx((150_000 + 50_000 + 60_000 + 70_000) / 720_000)
    assert ret.nrr == pytest.approx(360_000 / 720_000)
    assert ret.basis == "start_to_end" and "period's start" in ret.definition
    assert retention(MrrLog(BOOK, CONFIG), OCT.end).basis == "trailing_12_months"


def test_mixed_currency_without_a_rate_is_refused_with_a_clear_error() -> None:
    events = [ev("J", "2026-01-01", 100_000), ev("U", "2026-01-01", 1_000, "USD")]
    with pytest.raises(CurrencyError, match="USD"):
        MrrLog(events, KpiConfig(rates={"JPY": 1}))


def test_mixed_currency_is_converted_with_configured_rates() -> None:
    events = [ev("J", "2026-01-01", 100_000), ev("U", "2026-01-01", 1_000, "USD"),
              ev("U", "2026-10-02", 0, "USD")]
    config = KpiConfig(rates={"JPY": 1, "USD": 150})
    kpis, _ = churn(MrrLog(events, config), OCT, config)
    assert kpis.mrr_at_start == 250_000
    assert kpis.mrr_churn_rate == pytest.approx(150_000 / 250_000)


def test_same_day_changes_apply_in_log_order() -> None:
    events = [ev("S", "2026-01-01", 10_000, seq=1), ev("S", "2026-09-30", 0, seq=3),
              ev("S", "2026-09-30", 20_000, seq=2)]
    # The later row (seq 3) wins: S is not paying on 1 October.
    assert MrrLog(events, CONFIG).snapshot(OCT.start) == {}


def test_period_parsing_and_previous_period() -> None:
    assert Period.parse_month("2026-01").previous() == Period.month(2025, 12)
    assert Period.days_ending(date(2026, 11, 25), 7).previous().end == date(2026, 11, 18)
    with pytest.raises(ValueError, match="2026-10"):
        Period.parse_month("October")
    with pytest.raises(ValueError, match="YYYY-MM from 1900-01 to 2199-12"):
        Period.parse_month("2026-13")
    for far in ("99999999999-01", "2200-01", "1899-12", "0000-01"):
        with pytest.raises(ValueError, match=far):
            Period.parse_month(far)
    assert Period.parse_month("2199-12").end == date(2200, 1, 1)


def test_book_counts_accounts_per_csm_touch_model_and_band() -> None:
    rows = [AccountRow("a", "U1", "high", "healthy"), AccountRow("b", "U1", "low", "at_risk"),
            AccountRow("c", "U2", "tech", "at_risk"), AccountRow("d", None, "tech", None)]
    kpis = book(rows)
    assert kpis.per_csm == {"U1": 2, "(unassigned)": 1, "U2": 1}
    assert kpis.mean_per_csm == pytest.approx(1.5)
    assert kpis.by_touch_model == {"high": 1, "low": 1, "tech": 2}
    assert kpis.by_health_band == {"(unknown)": 1, "at_risk": 2, "healthy": 1}


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def test_onboarding_sessions_count_calls_and_meetings_in_completed_windows() -> None:
    starts = {"X": date(2026, 8, 10), "Y": date(2026, 8, 20), "Z": date(2026, 7, 1)}
    touches = [Touch("X", "meeting", at("2026-08-15T10:00")), Touch("X", "call", at("2026-09-01")),
               Touch("X", "email", at("2026-08-20")), Touch("X", "meeting", at("2026-10-20")),
               Touch("Z", "meeting", at("2026-07-05"))]
    kpis = onboarding_sessions(starts, touches, OCT, CONFIG, UTC)
    # X's and Y's 60-day windows end in October; Z's ended in August.
    assert (kpis.accounts, kpis.sessions, kpis.without_session) == (2, 2, 1)
    assert kpis.per_account == pytest.approx(1.0)


def test_onboarding_touches_are_dated_by_the_teams_local_day() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    starts = {"X": date(2026, 8, 10)}  # window 08-10 .. 10-08 (ends before 10-09)
    local = [datetime(2026, 8, 10, 8, 0, tzinfo=tokyo),  # 08-09 23:00 UTC: the first day
             datetime(2026, 9, 1, 10, 0, tzinfo=tokyo),
             datetime(2026, 10, 9, 7, 57, tzinfo=tokyo)]  # 10-08 22:57 UTC: the day after
    touches = [Touch("X", "call", at_.astimezone(UTC)) for at_ in local]
    # By UTC days the first touch would fall before the window and the last one inside it.
    assert onboarding_sessions(starts, touches[:2], OCT, CONFIG, tokyo).sessions == 2
    assert onboarding_sessions(starts, touches[2:], OCT, CONFIG, tokyo).sessions == 0
    assert onboarding_sessions(starts, touches[2:], OCT, CONFIG, UTC).sessions == 1


def test_alert_time_to_acknowledge_median_and_p90_per_owner() -> None:
    t0 = at("2026-10-01T10:00")
    rows = [AlertRow("no_login", "U1", t0, at("2026-10-01T10:10"), True),
            AlertRow("no_login", "U1", t0, at("2026-10-01T10:30"), True),
            AlertRow("renewal", "U1", t0, at("2026-10-01T11:00"), True),
            AlertRow("renewal", "U1", t0, None, False),
            AlertRow("renewal", "U2", t0, None, False, dismissed=True)]
    kpis = alert_kpis(rows)
    u1 = kpis.ack_by_owner["U1"]
    assert (u1.alerts, u1.acknowledged, u1.median_minutes, u1.p90_minutes) == (4, 3, 30, 60)
    assert kpis.ack_by_owner["U2"].median_minutes is None
    renewal = kpis.use_by_kind["renewal"]
    assert (renewal.alerts, renewal.acted, renewal.dismissed, renewal.ignored) == (3, 1, 1, 1)
    assert kpis.use_by_kind["no_login"].acted_rate == 1.0


def test_percentile_is_nearest_rank() -> None:
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([], 0.5) is None
