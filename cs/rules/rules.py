"""The CS rules as pure functions: AccountFacts + now + RulesConfig -> Assessment.

Every count of days is in calendar days of `now`'s own time zone (cs.rules.calendar): pass
`now.astimezone(ZoneInfo(settings.timezone))` to count days the way the CS team does.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core.i18n import Lang, t
from core.rules_config import HealthRules, RiskRules, RulesConfig
from cs.rules.calendar import days_ago
from cs.rules.health import community_points, health_score
from cs.rules.memo import Memo
from cs.rules.models import (
    AccountFacts,
    Assessment,
    Health,
    HealthBand,
    Phase,
    RiskKind,
    RiskSignal,
    TouchModel,
)


class UnknownCurrencyError(ValueError):
    """The account's currency has no rate in touch_model.jpy_per_unit."""


class Assessor:
    """`assess` with a memo of its own: one per rules config and language, kept as long as
    that config (a job run, the App Home listener), so accounts that share numbers share
    results. `lang` ("ja" or "en") is the language of the explanations and risk details."""

    def __init__(self, rules: RulesConfig, lang: Lang = "ja") -> None:
        self.rules = rules
        self.lang = lang
        self.memo = Memo()

    def __call__(self, facts: AccountFacts, now: datetime) -> Assessment:
        rules, lang, memo = self.rules, self.lang, self.memo
        today = now.date()
        # The touch model depends on (currency, mrr) only, and a book has few distinct MRRs.
        touch = memo.get(("touch", facts.currency, facts.mrr),
                         touch_model_for, facts.mrr, facts.currency, rules)
        health = health_score(facts, now, rules.health, lang, memo=memo)
        expansion = is_expansion_candidate(facts, health, rules)
        return Assessment(
            facts=facts,
            touch_model=touch,
            priority=priority_for(facts, touch, rules),
            phase=phase_for(facts, today, expansion, rules),
            health=health,
            risks=risk_signals(facts, now, health, rules.risk, lang, memo=memo),
            days_to_renewal=days_to_renewal(facts.renewal_date, today),
            cadence_due=cadence_due(facts, touch, now, rules, memo=memo),
            expansion_candidate=expansion,
            community_touch_at=(community_touch(facts, rules.health)
                                if touch is TouchModel.TECH else None),
        )


def assess(
    facts: AccountFacts, now: datetime, rules: RulesConfig, *, lang: Lang = "ja"
) -> Assessment:
    """One account on its own (tests, a single look-up); loops use one `Assessor`."""
    return Assessor(rules, lang)(facts, now)


def community_touch(facts: AccountFacts, rules: HealthRules) -> datetime | None:
    """Tech-touch accounts are served through the community: engagement whose community
    points are positive is a touch, at the latest engaged question (None: no such touch)."""
    activity = facts.community
    if activity is None or activity.last_engaged_at is None:
        return None
    if community_points(activity.engagement, activity.friction, rules,
                        activity.active_members) <= 0:
        return None
    return activity.last_engaged_at


def touch_model_for(mrr: int, currency: str, rules: RulesConfig) -> TouchModel:
    cfg = rules.touch_model
    rate = cfg.jpy_per_unit.get(currency.upper())
    if rate is None:
        raise UnknownCurrencyError(
            f"no rate for currency {currency!r} in touch_model.jpy_per_unit"
        )
    mrr_jpy = mrr * rate
    if mrr_jpy >= cfg.high_min_mrr:
        return TouchModel.HIGH
    if mrr_jpy >= cfg.low_min_mrr:
        return TouchModel.LOW
    return TouchModel.TECH


def priority_for(facts: AccountFacts, touch: TouchModel, rules: RulesConfig) -> int:
    cfg = rules.priority
    flags = sum(cfg.flags.get(flag, 0) for flag in facts.flags) if facts.flags else 0
    return (
        cfg.touch_model.get(touch, 0)
        + flags
        + cfg.expansion_potential.get(facts.expansion_potential, 0)
    )


def days_to_renewal(renewal_date: date | None, today: date) -> int | None:
    return None if renewal_date is None else (renewal_date - today).days


def phase_for(facts: AccountFacts, today: date, expansion: bool, rules: RulesConfig) -> Phase:
    if (today - facts.contract_start).days < rules.phase.onboarding_days:
        return Phase.ONBOARDING
    to_renewal = days_to_renewal(facts.renewal_date, today)
    # An overdue renewal (negative days) stays in the renewal phase until it is recorded.
    if to_renewal is not None and to_renewal <= rules.phase.renewal_window_days:
        return Phase.RENEWAL
    return Phase.EXPANSION if expansion else Phase.ADOPTION


def is_expansion_candidate(facts: AccountFacts, health: Health, rules: RulesConfig) -> bool:
    if health.band is not HealthBand.HEALTHY:
        return False
    ratio = facts.active_ratio
    seats_full = ratio is not None and ratio >= rules.expansion.full_seats_ratio
    return facts.expansion_potential != "none" or seats_full


def risk_signals(
    facts: AccountFacts, now: datetime, health: Health, rules: RiskRules, lang: Lang = "ja",
    *, memo: Memo | None = None,
) -> tuple[RiskSignal, ...]:
    """`memo`: the Assessor's (one rules config and language); None builds everything."""
    memo = memo or Memo()
    found = [
        _no_login(facts, now, rules, lang, memo),
        _setup_stalled(facts, now, rules, lang, memo),
        _contact_changed(facts, now, rules, lang, memo),
        _seats_falling(facts, rules, lang),
    ]
    if health.band is HealthBand.AT_RISK:
        found.append(memo.get(("risk.low_health", health.score), _low_health,
                              health.score, lang))
    return tuple(signal for signal in found if signal is not None)


def _logged_in_within(facts: AccountFacts, now: datetime, days: int) -> bool:
    return facts.last_login_at is not None and days_ago(facts.last_login_at, now) < days


def _no_login(
    facts: AccountFacts, now: datetime, rules: RiskRules, lang: Lang, memo: Memo
) -> RiskSignal | None:
    limit = rules.no_login_days
    if facts.last_login_at is None:
        waited = (now.date() - facts.contract_start).days
        if waited < limit:
            return None  # a brand-new account has not had the chance yet
        return memo.get(("risk.no_login.never", waited), _signal, RiskKind.NO_LOGIN,
                        lang, "risk.no_login.never", waited, waited=waited, limit=limit)
    days = days_ago(facts.last_login_at, now)
    if days < limit:
        return None
    return memo.get(("risk.no_login", days), _signal, RiskKind.NO_LOGIN,
                    lang, "risk.no_login", days, days=days, limit=limit)


def _setup_stalled(
    facts: AccountFacts, now: datetime, rules: RiskRules, lang: Lang, memo: Memo
) -> RiskSignal | None:
    before = facts.setup_progress_14d_ago
    if (
        before is None
        or facts.setup_progress >= rules.setup_complete
        or not _logged_in_within(facts, now, rules.no_login_days)
        or facts.inquiries_30d > rules.setup_stalled_max_inquiries
    ):
        return None
    if facts.setup_progress - before >= rules.setup_min_gain:
        return None
    key = ("risk.setup_stalled", before, facts.setup_progress, facts.inquiries_30d)
    return memo.get(key, _signal, RiskKind.SETUP_STALLED, lang, "risk.setup_stalled",
                    facts.setup_progress, before=before, now=facts.setup_progress,
                    days=rules.setup_stalled_days, inquiries=facts.inquiries_30d)


def _contact_changed(
    facts: AccountFacts, now: datetime, rules: RiskRules, lang: Lang, memo: Memo
) -> RiskSignal | None:
    changed = facts.last_contact_change_at
    if changed is None:
        return None
    days = days_ago(changed, now)
    if days > rules.contact_change_days:
        return None
    return memo.get(("risk.contact_changed", days), _signal, RiskKind.CONTACT_CHANGED,
                    lang, "risk.contact_changed", days, days=days)


def _seats_falling(facts: AccountFacts, rules: RiskRules, lang: Lang) -> RiskSignal | None:
    # Rare (a few % of accounts) and keyed by floats: not memoized.
    ratio, before = facts.active_ratio, facts.active_ratio_30d_ago
    if ratio is None or before is None or before - ratio < rules.seats_falling_points - 1e-9:
        return None
    return RiskSignal(RiskKind.SEATS_FALLING,
                      t("rules.risk.seats_falling", lang, before=before, ratio=ratio),
                      round(ratio * 100))


def _low_health(score: int, lang: Lang) -> RiskSignal:
    return RiskSignal(RiskKind.LOW_HEALTH, t("rules.risk.low_health", lang, score=score), score)


def _signal(kind: RiskKind, lang: Lang, key: str, value: float, **values: object) -> RiskSignal:
    return RiskSignal(kind, t(f"rules.{key}", lang, **values), value)


def cadence_due(
    facts: AccountFacts, touch: TouchModel, now: datetime, rules: RulesConfig,
    *, memo: Memo | None = None,
) -> tuple[str, ...]:
    """Touch kinds whose interval has passed since the last such touch (or contract start)."""
    memo = memo or Memo()
    schedule = memo.get(("cadence", touch), _schedule, touch, rules)
    if not schedule:
        return ()  # tech touch: nothing is ever due
    contract_start = datetime.combine(facts.contract_start, datetime.min.time(), now.tzinfo)
    due = []
    for kind, interval in schedule:
        last = max(facts.last_touch_at.get(kind, contract_start), contract_start)
        if now - last >= interval:
            due.append(kind)
    return tuple(due)


def _schedule(touch: TouchModel, rules: RulesConfig) -> tuple[tuple[str, timedelta], ...]:
    """(kind, interval) of the touch model's cadence, by kind."""
    return tuple(
        (kind, timedelta(days=interval))
        for kind, interval in sorted(rules.cadence.get(touch, {}).items())
        if interval > 0  # 0 switches a kind off in an override file
    )
