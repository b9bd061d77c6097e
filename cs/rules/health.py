"""Health score 0–100: weighted measures, each with its points and a plain explanation.

Each measure is computed in two steps: reduce the facts to the few numbers the measure depends
on (whole days, progress, active users and seats, ...), then build the Measure from those
numbers only. The second step is memoized per rules config and language (cs.rules.memo), because
many accounts share the same numbers and building the explanation text is the expensive part.
"""

from __future__ import annotations

from datetime import datetime

from core.i18n import Lang, t
from core.rules_config import HealthRules
from cs.rules.calendar import days_ago
from cs.rules.memo import Memo
from cs.rules.models import AccountFacts, CommunityActivity, Health, HealthBand, Measure


def health_score(
    facts: AccountFacts, now: datetime, rules: HealthRules, lang: Lang = "ja",
    *, memo: Memo | None = None,
) -> Health:
    """`memo`: the Assessor's (one rules config and language); None builds everything."""
    memo = memo or Memo()
    measures: tuple[Measure, ...] = (
        _login_recency(facts, now, rules, lang, memo),
        _active_ratio(facts, rules, lang, memo),
        _setup_progress(facts, rules, lang, memo),
        _seat_trend(facts, rules, lang, memo),
        _contact_stability(facts, now, rules, lang, memo),
    )
    total_weight = sum([m.weight for m in measures])
    # Measures without data carry weight 0, so the score is over what we actually know.
    score = round(100 * sum([m.points for m in measures]) / total_weight) if total_weight else 0
    community = _community(facts, rules, lang, memo)
    if community is not None:
        # Signed points on top of the weighted score: the documented amount, not a share of it.
        score = min(100, max(0, score + round(community.points)))
        measures = (*measures, community)
    return Health(score=score, band=band_for(score, rules), measures=measures)


def community_points(engagement: int, friction: int, rules: HealthRules,
                     members: int = 0) -> float:
    """The community measure's signed points: engagement and active members (up to
    +max_bonus) plus friction (down to -max_penalty), docs/metrics.md "Community"."""
    cfg = rules.measures.community
    bonus = engagement * cfg.engagement_points + members * cfg.member_points
    # Capped apart, then added: a 👍 still counts while friction is at its cap.
    return min(cfg.max_bonus, bonus) - min(cfg.max_penalty, friction * cfg.friction_points)


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


def _no_data(name: str, lang: Lang) -> Measure:
    label = t(f"rules.label.{name}", lang)
    return Measure(name, 0.0, 0.0, 0.0, t("rules.no_data", lang, label=label))


# --- from facts to the numbers each measure depends on ---------------------------------------

def _login_recency(
    facts: AccountFacts, now: datetime, rules: HealthRules, lang: Lang, memo: Memo
) -> Measure:
    if facts.last_login_at is None:
        # Value = days the customer has had to log in, so "never" still reads as a number.
        waited = max(0, (now.date() - facts.contract_start).days)
        return memo.get(("login.never", waited), _login_never, waited, rules, lang)
    days = max(0, days_ago(facts.last_login_at, now))
    return memo.get(("login", days), _login_days, days, rules, lang)


def _active_ratio(facts: AccountFacts, rules: HealthRules, lang: Lang, memo: Memo) -> Measure:
    active, seats = facts.active_users, facts.seats
    if seats <= 0:  # AccountFacts.active_ratio is None
        return memo.get(("no_data", "active_ratio"), _no_data, "active_ratio", lang)
    return memo.get(("active_ratio", active, seats), _active, active, seats, rules, lang)


def _setup_progress(facts: AccountFacts, rules: HealthRules, lang: Lang, memo: Memo) -> Measure:
    progress = facts.setup_progress
    return memo.get(("setup", progress), _setup, progress, rules, lang)


def _seat_trend(facts: AccountFacts, rules: HealthRules, lang: Lang, memo: Memo) -> Measure:
    ratio, before = facts.active_ratio, facts.active_ratio_30d_ago
    if ratio is None or before is None:
        return memo.get(("no_data", "seat_trend"), _no_data, "seat_trend", lang)
    if before == 0:
        # 0.0 and -0.0 are one dict key but format differently ("0%" / "-0%"): not memoized.
        return _trend(before, ratio, rules, lang)
    return memo.get(("seat_trend", before, ratio), _trend, before, ratio, rules, lang)


def _contact_stability(
    facts: AccountFacts, now: datetime, rules: HealthRules, lang: Lang, memo: Memo
) -> Measure:
    if facts.last_contact_change_at is None:
        return memo.get(("contact.none",), _contact_none, rules, lang)
    days = max(0, days_ago(facts.last_contact_change_at, now))
    return memo.get(("contact", days), _contact_days, days, rules, lang)


def _community(facts: AccountFacts, rules: HealthRules, lang: Lang, memo: Memo) -> Measure | None:
    activity = facts.community
    if activity is None or activity.questions == 0:
        return None
    key = ("community", activity.answered, activity.helpful, activity.unanswered,
           activity.unhelpful, activity.open_escalations, activity.active_members)
    return memo.get(key, _community_measure, *key[1:], rules, lang)


# --- from those numbers to the Measure (memoized) ---------------------------------------------

def _community_measure(answered: int, helpful: int, unanswered: int, unhelpful: int,
                       open_escalations: int, members: int, rules: HealthRules,
                       lang: Lang) -> Measure:
    cfg = rules.measures.community
    counted = CommunityActivity(answered=answered, helpful=helpful, unanswered=unanswered,
                                unhelpful=unhelpful, open_escalations=open_escalations)
    points = community_points(counted.engagement, counted.friction, rules, members)
    text = t("community.measure", lang, days=cfg.window_days, answered=answered, helpful=helpful,
             unanswered=unanswered, unhelpful=unhelpful, open=open_escalations, members=members,
             points=f"{points:+g}")
    return Measure("community", points, 0.0, points, text)


def _login_never(waited: int, rules: HealthRules, lang: Lang) -> Measure:
    cfg = rules.measures.login_recency
    return _measure("login_recency", waited, cfg.weight, 0.0,
                    t("rules.login.never", lang, waited=waited))


def _login_days(days: int, rules: HealthRules, lang: Lang) -> Measure:
    cfg = rules.measures.login_recency
    fraction = _fraction(days, cfg.zero_days, cfg.full_days)
    return _measure("login_recency", days, cfg.weight, fraction,
                    t("rules.login", lang, days=days, full=cfg.full_days, zero=cfg.zero_days))


def _active(active: int, seats: int, rules: HealthRules, lang: Lang) -> Measure:
    cfg = rules.measures.active_ratio
    ratio = active / seats
    return _measure("active_ratio", ratio, cfg.weight, _fraction(ratio, cfg.zero, cfg.full),
                    t("rules.active_ratio", lang, ratio=ratio, active=active, seats=seats,
                         full=cfg.full))


def _setup(progress: int, rules: HealthRules, lang: Lang) -> Measure:
    cfg = rules.measures.setup_progress
    return _measure("setup_progress", progress, cfg.weight, _fraction(progress, 0, 100),
                    t("rules.setup", lang, progress=progress))


def _trend(before: float, ratio: float, rules: HealthRules, lang: Lang) -> Measure:
    cfg = rules.measures.seat_trend
    change = round(ratio - before, 4)
    return _measure("seat_trend", change, cfg.weight, _fraction(change, -cfg.zero_drop, 0.0),
                    t("rules.seat_trend", lang, before=before, ratio=ratio,
                         points=round(change * 100), drop=cfg.zero_drop))


def _contact_none(rules: HealthRules, lang: Lang) -> Measure:
    cfg = rules.measures.contact_stability
    return _measure("contact_stability", cfg.full_days, cfg.weight, 1.0,
                    t("rules.contact.none", lang))


def _contact_days(days: int, rules: HealthRules, lang: Lang) -> Measure:
    cfg = rules.measures.contact_stability
    return _measure("contact_stability", days, cfg.weight, _fraction(days, 0, cfg.full_days),
                    t("rules.contact", lang, days=days, full=cfg.full_days))
