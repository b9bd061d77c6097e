"""Which assessed accounts raise which alerts (pure: facts → assess → select)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from core.rules_config import load_rules
from cs.alerts.models import AlertKind, Delivery
from cs.alerts.selection import SelectionContext, select_alerts
from cs.alerts.service import AlertCandidate
from cs.rules.models import AccountFacts
from cs.rules.rules import assess

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
RULES = load_rules()
CTX = SelectionContext(rules=RULES, now=NOW, default_channel="CDEFAULT")


def facts(**changes: object) -> AccountFacts:
    """A healthy, mid-life, low-touch account with nothing to say; each test changes one thing."""
    base = AccountFacts(
        account_id="A1", name="株式会社テスト", mrr=120_000, currency="JPY", plan="standard",
        contract_start=date(2025, 6, 1), renewal_date=date(2027, 6, 1), status="active",
        owner_user_id="U1", csm_channel=None, flags=frozenset(), expansion_potential="none",
        last_login_at=NOW - timedelta(days=1), active_users=6, seats=10, setup_progress=100,
        setup_progress_14d_ago=100, inquiries_30d=2, active_ratio_30d_ago=0.6,
        last_contact_change_at=None, last_touch_at={"meeting": NOW - timedelta(days=10)},
        renewed_at=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def select(f: AccountFacts, *kinds: AlertKind) -> list[AlertCandidate]:
    return select_alerts(assess(f, NOW, RULES), kinds or list(AlertKind), CTX)


def test_a_quiet_healthy_account_raises_nothing() -> None:
    assert select(facts()) == []


def test_no_login_raises_an_at_risk_card_for_low_touch_and_a_digest_item_for_tech_touch() -> None:
    silent = NOW - timedelta(days=20)

    (low,) = select(facts(last_login_at=silent), AlertKind.AT_RISK)
    (tech,) = select(facts(last_login_at=silent, mrr=30_000), AlertKind.AT_RISK)

    assert low.delivery is Delivery.CARD and tech.delivery is Delivery.DIGEST
    assert low.channel == "CDEFAULT" and low.owner_user_id == "U1" and low.period is None
    assert any("最終ログイン 20日前" in r for r in low.summary.reasons)


def test_worse_health_ranks_higher_within_a_touch_model() -> None:
    bad = select(facts(last_login_at=NOW - timedelta(days=40), active_users=1),
                 AlertKind.AT_RISK)[0]
    less_bad = select(facts(last_login_at=NOW - timedelta(days=20)), AlertKind.AT_RISK)[0]

    assert bad.priority > less_bad.priority


def test_contact_change_alone_is_its_own_alert_not_at_risk() -> None:
    changed = facts(last_contact_change_at=NOW - timedelta(hours=2))

    found = {c.kind for c in select(changed)}

    assert AlertKind.CONTACT_CHANGE in found and AlertKind.AT_RISK not in found


def test_contact_change_alert_ends_once_someone_talked_to_the_customer() -> None:
    changed_at = NOW - timedelta(days=3)
    called = facts(last_contact_change_at=changed_at,
                   last_touch_at={"call": NOW - timedelta(days=1)})

    assert select(called, AlertKind.CONTACT_CHANGE) == []


def test_renewal_reminder_names_the_milestone_it_is_in() -> None:
    (reminder,) = select(facts(renewal_date=date(2027, 2, 1)), AlertKind.RENEWAL)  # 68 days

    assert reminder.period == "2027-02-01:90" and reminder.summary.milestone == 90
    assert select(facts(renewal_date=date(2027, 6, 1)), AlertKind.RENEWAL) == []  # 188 days
    assert select(facts(renewal_date=date(2026, 11, 1)), AlertKind.RENEWAL) == []  # passed


def test_onboarding_check_ins_follow_the_configured_days() -> None:
    day = NOW.date()

    assert select(facts(contract_start=day - timedelta(days=3)), AlertKind.ONBOARDING) == []
    (first,) = select(facts(contract_start=day - timedelta(days=8)), AlertKind.ONBOARDING)
    (third,) = select(facts(contract_start=day - timedelta(days=55)), AlertKind.ONBOARDING)
    assert select(facts(contract_start=day - timedelta(days=61)), AlertKind.ONBOARDING) == []
    assert first.period is not None and first.period.endswith(":7")
    assert third.period is not None and third.period.endswith(":50")


def test_high_touch_account_without_a_monthly_call_gets_a_cadence_reminder() -> None:
    high = facts(mrr=600_000, last_touch_at={"call": NOW - timedelta(days=31),
                                             "meeting": NOW - timedelta(days=10)})

    (due,) = select(high, AlertKind.CADENCE)

    assert due.summary.cadence_due == ["call"] and due.delivery is Delivery.CARD


def test_healthy_account_with_upsell_room_is_an_expansion_candidate() -> None:
    (candidate,) = select(facts(expansion_potential="upsell", active_users=9,
                                active_ratio_30d_ago=0.9), AlertKind.EXPANSION)

    assert "拡大余地: アップセル・クロスセルの余地" in candidate.summary.reasons


def test_english_team_gets_english_reasons_on_every_card() -> None:
    english = replace(CTX, lang="en")
    silent = facts(last_login_at=NOW - timedelta(days=20), renewal_date=date(2027, 2, 1))
    found = select_alerts(assess(silent, NOW, RULES, lang="en"), list(AlertKind), english)

    reasons = [r for candidate in found for r in candidate.summary.reasons]
    assert {c.kind for c in found} >= {AlertKind.AT_RISK, AlertKind.RENEWAL}
    assert "68 days to renewal on 2027-02-01 (90-day reminder)" in reasons
    assert not any(ord(ch) > 0x3000 for r in reasons for ch in r), reasons
