"""Health score 0–100: weighted measures, each with its points and a plain explanation."""

from __future__ import annotations

from datetime import datetime

from jobs.rules.config import HealthRules
from jobs.rules.models import AccountFacts, Health, HealthBand, Measure
from jobs.rules.texts import text


def health_score(
    facts: AccountFacts, now: datetime, rules: HealthRules, lang: str = "ja"
) -> Health:
    measures = (
        _login_recency(facts, now, rules, lang),
        _active_ratio(facts, rules, lang),
        _setup_progress(facts, rules, lang),
        _seat_trend(facts, rules, lang),
        _contact_stability(facts, now, rules, lang),
    )
    total_weight = sum(m.weight for m in measures)
    # Measures without data carry weight 0, so the score is over what we actually know.
    score = round(100 * sum(m.points for m in measures) / total_weight) if total_weight else 0
    return Health(score=score, band=band_for(score, rules), measures=measures)


def band_for(score: int, rules: HealthRules) -> HealthBand:
    if score < rules.at_risk_below:
        return HealthBand.AT_RISK
    if score >= rules.healthy_from:
        return HealthBand.HEALTHY
    return HealthBand.MIDDLE


def _fraction(value: float, zero: float, full: float) -> float:
    """Linear 0..1 between the `zero` and `full` anchors (either may be the larger one)."""
    if full == zero:
        return 1.0 if value >= full else 0.0
    return min(1.0, max(0.0, (value - zero) / (full - zero)))


def _measure(name: str, value: float, weight: float, fraction: float, text: str) -> Measure:
    return Measure(name, value, weight, round(weight * fraction, 2), text)


def _no_data(name: str, lang: str) -> Measure:
    label = text(lang, f"label.{name}")
    return Measure(name, 0.0, 0.0, 0.0, text(lang, "no_data", label=label))


def _login_recency(facts: AccountFacts, now: datetime, rules: HealthRules, lang: str) -> Measure:
    cfg = rules.measures.login_recency
    if facts.last_login_at is None:
        # Value = days the customer has had to log in, so "never" still reads as a number.
        waited = max(0, (now.date() - facts.contract_start).days)
        return _measure("login_recency", waited, cfg.weight, 0.0,
                        text(lang, "login.never", waited=waited))
    days = max(0, (now - facts.last_login_at).days)
    fraction = _fraction(days, cfg.zero_days, cfg.full_days)
    return _measure("login_recency", days, cfg.weight, fraction,
                    text(lang, "login", days=days, full=cfg.full_days, zero=cfg.zero_days))


def _active_ratio(facts: AccountFacts, rules: HealthRules, lang: str) -> Measure:
    cfg = rules.measures.active_ratio
    ratio = facts.active_ratio
    if ratio is None:
        return _no_data("active_ratio", lang)
    return _measure("active_ratio", ratio, cfg.weight, _fraction(ratio, cfg.zero, cfg.full),
                    text(lang, "active_ratio", ratio=ratio, active=facts.active_users,
                         seats=facts.seats, full=cfg.full))


def _setup_progress(facts: AccountFacts, rules: HealthRules, lang: str) -> Measure:
    cfg = rules.measures.setup_progress
    progress = facts.setup_progress
    return _measure("setup_progress", progress, cfg.weight, _fraction(progress, 0, 100),
                    text(lang, "setup", progress=progress))


def _seat_trend(facts: AccountFacts, rules: HealthRules, lang: str) -> Measure:
    cfg = rules.measures.seat_trend
    ratio, before = facts.active_ratio, facts.active_ratio_30d_ago
    if ratio is None or before is None:
        return _no_data("seat_trend", lang)
    change = round(ratio - before, 4)
    return _measure("seat_trend", change, cfg.weight, _fraction(change, -cfg.zero_drop, 0.0),
                    text(lang, "seat_trend", before=before, ratio=ratio,
                         points=round(change * 100), drop=cfg.zero_drop))


def _contact_stability(
    facts: AccountFacts, now: datetime, rules: HealthRules, lang: str
) -> Measure:
    cfg = rules.measures.contact_stability
    if facts.last_contact_change_at is None:
        return _measure("contact_stability", cfg.full_days, cfg.weight, 1.0,
                        text(lang, "contact.none"))
    days = max(0, (now - facts.last_contact_change_at).days)
    return _measure("contact_stability", days, cfg.weight, _fraction(days, 0, cfg.full_days),
                    text(lang, "contact", days=days, full=cfg.full_days))
