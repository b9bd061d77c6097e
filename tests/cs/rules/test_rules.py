"""The CS rules with the product's numbers: touch model, phase, risks, health, cadence, priority."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from core.rules_config import RulesConfig, RulesConfigError, TouchModel, load_rules
from cs.rules.models import AccountFacts, HealthBand, Phase, RiskKind
from cs.rules.rules import UnknownCurrencyError, assess

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
RULES = load_rules()


def facts(**changes: object) -> AccountFacts:
    """A healthy, mid-life, low-touch account; each test changes what it is about."""
    base = AccountFacts(
        account_id="A1", name="株式会社テスト", mrr=120_000, currency="JPY", plan="standard",
        contract_start=date(2025, 6, 1), renewal_date=date(2027, 6, 1), status="active",
        owner_user_id="U1", csm_channel="C1", flags=frozenset(), expansion_potential="none",
        last_login_at=NOW - timedelta(days=1), active_users=8, seats=10, setup_progress=100,
        setup_progress_14d_ago=100, inquiries_30d=2, active_ratio_30d_ago=0.8,
        last_contact_change_at=None, last_touch_at={"meeting": NOW - timedelta(days=10)},
        renewed_at=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def kinds(facts_: AccountFacts, rules: RulesConfig = RULES) -> set[RiskKind]:
    return {risk.kind for risk in assess(facts_, NOW, rules).risks}


@pytest.mark.parametrize(
    ("mrr", "currency", "expected"),
    [
        (500_000, "JPY", TouchModel.HIGH),
        (499_999, "JPY", TouchModel.LOW),
        (70_000, "JPY", TouchModel.LOW),
        (69_999, "JPY", TouchModel.TECH),
        (0, "JPY", TouchModel.TECH),
        (4_000, "USD", TouchModel.HIGH),  # 4,000 USD x 150 = 600,000 JPY
        (400, "USD", TouchModel.TECH),
    ],
)
def test_touch_model_follows_mrr_thresholds(mrr: int, currency: str, expected: TouchModel) -> None:
    assert assess(facts(mrr=mrr, currency=currency), NOW, RULES).touch_model is expected


def test_unknown_currency_is_a_clear_error_naming_the_setting() -> None:
    with pytest.raises(UnknownCurrencyError, match=r"XYZ.*touch_model\.jpy_per_unit"):
        assess(facts(currency="XYZ"), NOW, RULES)


@pytest.mark.parametrize(
    ("contract_start", "renewal_date", "expected"),
    [
        (TODAY - timedelta(days=0), TODAY + timedelta(days=365), Phase.ONBOARDING),
        (TODAY - timedelta(days=59), TODAY + timedelta(days=300), Phase.ONBOARDING),
        (TODAY - timedelta(days=60), TODAY + timedelta(days=300), Phase.ADOPTION),
        (TODAY - timedelta(days=300), TODAY + timedelta(days=121), Phase.ADOPTION),
        (TODAY - timedelta(days=300), TODAY + timedelta(days=120), Phase.RENEWAL),
        (TODAY - timedelta(days=300), TODAY + timedelta(days=1), Phase.RENEWAL),
        (TODAY - timedelta(days=400), TODAY - timedelta(days=3), Phase.RENEWAL),  # overdue
        (TODAY - timedelta(days=300), None, Phase.ADOPTION),
    ],
)
def test_lifecycle_phase(contract_start: date, renewal_date: date | None, expected: Phase) -> None:
    assessed = assess(facts(contract_start=contract_start, renewal_date=renewal_date), NOW, RULES)
    assert assessed.phase is expected


def test_days_to_renewal_counts_calendar_days_and_goes_negative_when_overdue() -> None:
    assert assess(facts(renewal_date=TODAY + timedelta(days=90)), NOW, RULES).days_to_renewal == 90
    assert assess(facts(renewal_date=TODAY - timedelta(days=2)), NOW, RULES).days_to_renewal == -2
    assert assess(facts(renewal_date=None), NOW, RULES).days_to_renewal is None


@pytest.mark.parametrize(
    ("days_since_login", "risky"), [(13, False), (14, True), (30, True), (0, False)]
)
def test_no_login_for_14_days_is_a_risk(days_since_login: int, risky: bool) -> None:
    account = facts(last_login_at=NOW - timedelta(days=days_since_login))
    assert (RiskKind.NO_LOGIN in kinds(account)) is risky


def test_no_login_detail_names_the_days_and_the_threshold() -> None:
    risks = assess(facts(last_login_at=NOW - timedelta(days=21)), NOW, RULES).risks
    detail = next(r.detail for r in risks if r.kind is RiskKind.NO_LOGIN)
    assert detail == "最終ログイン 21日前 (基準 14日)"


def test_never_logged_in_is_a_risk_only_after_the_grace_period() -> None:
    fresh = facts(last_login_at=None, contract_start=TODAY - timedelta(days=5))
    stale = facts(last_login_at=None, contract_start=TODAY - timedelta(days=20))
    assert RiskKind.NO_LOGIN not in kinds(fresh)
    assert RiskKind.NO_LOGIN in kinds(stale)


@pytest.mark.parametrize(
    ("progress", "before", "inquiries", "logged_in_days_ago", "stalled"),
    [
        (40, 40, 0, 1, True),  # logged in, no progress, no inquiries
        (40, 35, 0, 1, False),  # progressing
        (40, 40, 1, 1, False),  # asking questions: they are working on it
        (100, 100, 0, 1, False),  # setup done
        (40, 40, 0, 20, False),  # not logging in: that is the no-login risk instead
        (40, None, 0, 1, False),  # no snapshot 14 days ago to compare with
    ],
)
def test_setup_stalled_needs_login_no_progress_and_no_inquiries(
    progress: int, before: int | None, inquiries: int, logged_in_days_ago: int, stalled: bool
) -> None:
    account = facts(setup_progress=progress, setup_progress_14d_ago=before,
                    inquiries_30d=inquiries, last_login_at=NOW - timedelta(days=logged_in_days_ago))
    assert (RiskKind.SETUP_STALLED in kinds(account)) is stalled


@pytest.mark.parametrize(("days_ago", "risky"), [(0, True), (30, True), (31, False)])
def test_recent_primary_contact_change_is_a_risk(days_ago: int, risky: bool) -> None:
    account = facts(last_contact_change_at=NOW - timedelta(days=days_ago))
    assert (RiskKind.CONTACT_CHANGED in kinds(account)) is risky


@pytest.mark.parametrize(
    ("active", "seats", "ratio_before", "falling"),
    [
        (6, 10, 0.8, True),  # 80% -> 60%: -20 points
        (7, 10, 0.8, False),  # -10 points: below the 15-point line
        (13, 20, 0.8, True),  # -15 points exactly
        (8, 10, None, False),  # no history
        (0, 0, 0.8, False),  # no seats reported
    ],
)
def test_falling_active_seat_ratio_is_a_risk(
    active: int, seats: int, ratio_before: float | None, falling: bool
) -> None:
    account = facts(active_users=active, seats=seats, active_ratio_30d_ago=ratio_before)
    assert (RiskKind.SEATS_FALLING in kinds(account)) is falling


def test_healthy_account_has_no_risks_and_a_healthy_band() -> None:
    assessed = assess(facts(), NOW, RULES)
    assert assessed.risks == ()
    assert assessed.health.band is HealthBand.HEALTHY
    assert assessed.health.score >= 70


def test_neglected_account_scores_at_risk_and_carries_low_health() -> None:
    account = facts(last_login_at=NOW - timedelta(days=40), active_users=1, seats=10,
                    setup_progress=20, active_ratio_30d_ago=0.6,
                    last_contact_change_at=NOW - timedelta(days=5))
    assessed = assess(account, NOW, RULES)
    assert assessed.health.band is HealthBand.AT_RISK
    assert assessed.health.score < 40
    assert RiskKind.LOW_HEALTH in {r.kind for r in assessed.risks}


@pytest.mark.parametrize(
    ("score_rules", "band"),
    [
        ({"at_risk_below": 40, "healthy_from": 70}, HealthBand.HEALTHY),
        ({"at_risk_below": 40, "healthy_from": 101 - 1}, HealthBand.MIDDLE),
        ({"at_risk_below": 100, "healthy_from": 100}, HealthBand.AT_RISK),
    ],
)
def test_health_bands_follow_configured_thresholds(
    score_rules: dict[str, int], band: HealthBand
) -> None:
    account = facts(active_users=7)  # scores between 70 and 99
    rules = RULES.model_copy(update={"health": RULES.health.model_copy(update=score_rules)})
    score = assess(account, NOW, rules).health.score
    assert 70 <= score < 100
    assert assess(account, NOW, rules).health.band is band


def test_each_measure_explains_itself_in_plain_words_with_numbers() -> None:
    account = facts(last_login_at=NOW - timedelta(days=21), active_users=5, seats=10,
                    setup_progress=40, active_ratio_30d_ago=0.8,
                    last_contact_change_at=NOW - timedelta(days=3))
    health = assess(account, NOW, RULES).health
    explained = {m.name: m.explanation for m in health.measures}
    assert explained == {
        "login_recency": "最終ログイン 21日前 (満点 3日以内, 0点 30日以上)",
        "active_ratio": "アクティブ率 50% (5/10席, 満点 80%以上)",
        "setup_progress": "セットアップ進捗 40%",
        "seat_trend": "アクティブ率 30日前 80% → 現在 50% (-30ポイント, 0点 -30%)",
        "contact_stability": "主担当者の変更 3日前 (満点 90日以上)",
    }
    # 21 days: 9/27 of the way from 30 to 3 days -> 10 of 30 points; 50% ratio: half of 30.
    points = {m.name: m.points for m in health.measures}
    assert points["login_recency"] == pytest.approx(10.0)
    assert points["active_ratio"] == pytest.approx(15.0)
    assert points["setup_progress"] == pytest.approx(8.0)
    assert points["seat_trend"] == pytest.approx(0.0)
    assert health.score == round(100 * sum(points.values()) / 100)


def test_measure_without_data_is_left_out_of_the_score() -> None:
    no_seats = assess(facts(active_users=0, seats=0, active_ratio_30d_ago=None), NOW, RULES)
    measures = {m.name: m for m in no_seats.health.measures}
    assert measures["active_ratio"].weight == 0
    assert "データなし" in measures["active_ratio"].explanation
    # Login (30/30), setup (20/20), contact (10/10) out of the 60 weight that has data.
    assert no_seats.health.score == 100


@pytest.mark.parametrize(
    ("mrr", "touches", "due"),
    [
        (600_000, {}, ("call", "meeting")),  # never touched since contract start long ago
        (600_000, {"call": 29, "meeting": 59}, ()),
        (600_000, {"call": 30, "meeting": 10}, ("call",)),
        (600_000, {"call": 5, "meeting": 60}, ("meeting",)),
        (120_000, {"meeting": 89}, ()),
        (120_000, {"meeting": 90, "call": 200}, ("meeting",)),
        (30_000, {}, ()),  # tech touch: no individual handling
    ],
)
def test_cadence_due_per_touch_model(
    mrr: int, touches: dict[str, int], due: tuple[str, ...]
) -> None:
    last = {kind: NOW - timedelta(days=days) for kind, days in touches.items()}
    assert assess(facts(mrr=mrr, last_touch_at=last), NOW, RULES).cadence_due == due


def test_cadence_counts_from_contract_start_for_a_new_account() -> None:
    new = facts(mrr=600_000, contract_start=TODAY - timedelta(days=10), last_touch_at={})
    assert assess(new, NOW, RULES).cadence_due == ()


def test_importance_flags_and_expansion_potential_raise_priority() -> None:
    plain = assess(facts(), NOW, RULES).priority
    brand = assess(facts(flags=frozenset({"brand"})), NOW, RULES).priority
    all_flags = assess(facts(flags=frozenset({"brand", "feedback", "influencer"})), NOW, RULES)
    upsell = assess(facts(expansion_potential="upsell"), NOW, RULES).priority
    high = assess(facts(mrr=500_000), NOW, RULES).priority
    assert plain < brand < all_flags.priority
    assert plain < upsell
    assert high > brand  # a bigger contract outranks a flag on a small one by default


@pytest.mark.parametrize(
    ("changes", "candidate"),
    [
        ({"expansion_potential": "upsell"}, True),
        ({"active_users": 9}, True),  # 90% of seats in use
        ({}, False),  # healthy but nothing to expand into
        ({"expansion_potential": "upsell", "last_login_at": NOW - timedelta(days=60),
          "active_users": 2}, False),  # not healthy
    ],
)
def test_expansion_candidates_are_healthy_with_room_to_grow(
    changes: dict[str, object], candidate: bool
) -> None:
    assessed = assess(facts(**changes), NOW, RULES)
    assert assessed.expansion_candidate is candidate
    if candidate:
        assert assessed.phase is Phase.EXPANSION


def test_override_file_changes_only_the_given_thresholds(tmp_path: Path) -> None:
    override = tmp_path / "rules.yaml"
    override.write_text("touch_model:\n  high_min_mrr: 1000000\nrisk:\n  no_login_days: 7\n",
                        encoding="utf-8")
    rules = load_rules(override)
    assert rules.touch_model.low_min_mrr == 70_000  # untouched default kept
    assert assess(facts(mrr=600_000), NOW, rules).touch_model is TouchModel.LOW
    assert RiskKind.NO_LOGIN in kinds(facts(last_login_at=NOW - timedelta(days=8)), rules)
    assert RiskKind.NO_LOGIN not in kinds(facts(last_login_at=NOW - timedelta(days=8)))


@pytest.mark.parametrize(
    ("yaml_text", "named"),
    [
        ("risk:\n  no_login_days: -3\n", "risk.no_login_days"),
        ("risk:\n  no_login_days: soon\n", "risk.no_login_days"),
        ("health:\n  measures:\n    active_ratio:\n      weight: heavy\n",
         "health.measures.active_ratio.weight"),
        ("risk:\n  no_logn_days: 7\n", "risk.no_logn_days"),
        ("touch_model:\n  low_min_mrr: 900000\n", "touch_model"),
    ],
)
def test_bad_rules_value_names_the_key(tmp_path: Path, yaml_text: str, named: str) -> None:
    override = tmp_path / "rules.yaml"
    override.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(RulesConfigError) as caught:
        load_rules(override)
    assert named in str(caught.value)
    assert str(override) in str(caught.value)


def test_broken_yaml_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("risk: [unclosed\n", encoding="utf-8")
    with pytest.raises(RulesConfigError, match="not valid YAML"):
        load_rules(broken)
    with pytest.raises(RulesConfigError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")


def test_explanations_and_risk_details_in_english() -> None:
    account = facts(last_login_at=NOW - timedelta(days=21), active_users=5, seats=10,
                    setup_progress=40, active_ratio_30d_ago=0.8,
                    last_contact_change_at=NOW - timedelta(days=3))
    english = assess(account, NOW, RULES, lang="en")
    japanese = assess(account, NOW, RULES)
    explained = {m.name: m.explanation for m in english.health.measures}
    assert explained["login_recency"] == (
        "Last login 21 days ago (full points within 3 days, none from 30)")
    assert explained["active_ratio"] == "Active seats 50% (5/10, full points from 80%)"
    assert explained["seat_trend"] == (
        "Active seats 80% 30 days ago → 50% now (-30 points, none at -30%)")
    details = {r.kind: r.detail for r in english.risks}
    assert details[RiskKind.NO_LOGIN] == "Last login 21 days ago (limit 14 days)"
    assert details[RiskKind.CONTACT_CHANGED] == "Primary contact changed 3 days ago"
    # Same judgement whatever the language.
    assert english.health.score == japanese.health.score
    assert [r.kind for r in english.risks] == [r.kind for r in japanese.risks]


def test_every_text_the_rules_write_exists_in_both_languages() -> None:
    english, japanese = assess(facts(), NOW, RULES, lang="en"), assess(facts(), NOW, RULES)
    assert len(english.health.measures) == len(japanese.health.measures) == 5
    assert all(m.explanation for m in english.health.measures + japanese.health.measures)
