"""Which assessments produce which alerts: pure functions, no database, no Slack.

Each kind has one small function `Assessment -> AlertCandidate | None`. `period` names what
makes the alert a new piece of news: the renewal date and reminder day, the contact change's
time, the onboarding check-in day. Kinds without a natural period (at risk, expansion, cadence)
are episodes: keyed by the day they start, they last until the state ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from core.i18n import Lang, t
from core.rules_config import RulesConfig, TouchModel
from cs.alerts.models import AlertKind, AlertSummary, Delivery
from cs.alerts.service import AlertCandidate
from cs.rules.models import Assessment, FrictionQuestion, RiskKind


@dataclass(frozen=True)
class SelectionContext:
    rules: RulesConfig
    now: datetime  # in the schedule's time zone: calendar days are the CS team's days
    default_channel: str | None = None
    onboarding_checkins: tuple[int, ...] = (7, 30, 50)  # days after contract start
    lang: Lang = "ja"  # of the reasons written on cards (the rules' own details follow it too)
    account_url_template: str | None = None  # settings.account_url_template


# The health measures a card names as the main reasons of its score (those that cost most).
HEALTH_REASONS = 2
# Risk kinds whose figure gets better as it grows (the others: a bigger number is worse).
HIGHER_IS_BETTER = frozenset({RiskKind.SEATS_FALLING, RiskKind.SETUP_STALLED,
                              RiskKind.LOW_HEALTH})


# Reason lines this module writes (alerts.reason.* in core/locales); the at-risk and
# contact-change details come from the rules.


def reason(ctx: SelectionContext, key: str, **values: object) -> str:
    return t(f"alerts.reason.{key}", ctx.lang, **values)


def select_alerts(
    assessment: Assessment, kinds: Iterable[AlertKind], ctx: SelectionContext
) -> list[AlertCandidate]:
    found = (SELECTORS[kind](assessment, ctx) for kind in kinds)
    return [candidate for candidate in found if candidate is not None]


def _candidate(
    a: Assessment, kind: AlertKind, period: str | None, ctx: SelectionContext,
    reasons: list[str], priority_boost: int = 0, **summary: object,
) -> AlertCandidate:
    facts = a.facts
    return AlertCandidate(
        account_id=facts.account_id,
        kind=kind,
        period=period,
        priority=a.priority + priority_boost,
        delivery=Delivery.DIGEST if a.touch_model is TouchModel.TECH else Delivery.CARD,
        owner_user_id=facts.owner_user_id,
        channel=facts.csm_channel or ctx.default_channel,
        summary=AlertSummary.model_validate({
            "account_name": facts.name,
            "touch_model": a.touch_model.value,
            "mrr": facts.mrr,
            "currency": facts.currency,
            "health_score": a.health.score,
            "health_band": a.health.band.value,
            "health_reasons": health_reasons(a),
            "phase": a.phase.value,
            "account_url": account_url(ctx.account_url_template, facts.account_id),
            "reasons": reasons,
            "days_to_renewal": a.days_to_renewal,
            "renewal_date": facts.renewal_date,
            **summary,
        }),
    )


def health_reasons(a: Assessment) -> list[str]:
    """The explanations of the measures that cost the score most points, worst first."""
    lost = sorted((m for m in a.health.measures if m.weight - m.points > 0.005),
                  key=lambda m: m.points - m.weight)
    return [m.explanation for m in lost[:HEALTH_REASONS]]


def account_url(template: str | None, account_id: str) -> str | None:
    return template.format(account_id=quote(account_id, safe="")) if template else None


def at_risk(a: Assessment, ctx: SelectionContext) -> AlertCandidate | None:
    # A contact change has its own, immediate alert; it alone does not make an account at risk.
    risks = [r for r in a.risks if r.kind is not RiskKind.CONTACT_CHANGED]
    if not risks:
        return None
    # Worst first: a lower health score raises the priority within the same touch model.
    boost = 100 - a.health.score
    signals = [{"kind": r.kind.value, "text": r.detail, "value": r.value,
                "higher_is_worse": r.kind not in HIGHER_IS_BETTER} for r in risks]
    return _candidate(a, AlertKind.AT_RISK, None, ctx, [r.detail for r in risks], boost,
                      signals=signals)


def contact_change(a: Assessment, ctx: SelectionContext) -> AlertCandidate | None:
    changed = a.facts.last_contact_change_at
    if changed is None or not any(r.kind is RiskKind.CONTACT_CHANGED for r in a.risks):
        return None
    # Once someone has talked to the customer after the change, the alert has done its job.
    if a.touched_since(changed):
        return None
    detail = next(r.detail for r in a.risks if r.kind is RiskKind.CONTACT_CHANGED)
    return _candidate(a, AlertKind.CONTACT_CHANGE, changed.isoformat(), ctx, [detail], 50)


def renewal(a: Assessment, ctx: SelectionContext) -> AlertCandidate | None:
    days, renewal_date = a.days_to_renewal, a.facts.renewal_date
    reminder_days = sorted(ctx.rules.renewal.reminder_days)
    if days is None or renewal_date is None or not reminder_days:
        return None
    if not 0 < days <= reminder_days[-1]:
        return None
    milestone = min(m for m in reminder_days if m >= days)
    period = f"{renewal_date.isoformat()}:{milestone}"
    text = reason(ctx, "renewal", date=renewal_date.isoformat(), days=days, milestone=milestone)
    return _candidate(a, AlertKind.RENEWAL, period, ctx, [text], milestone=milestone)


def renewal_thanks(a: Assessment, ctx: SelectionContext) -> AlertCandidate | None:
    renewed = a.facts.renewed_at
    if renewed is None:
        return None
    since = (ctx.now.date() - renewed).days
    if not 0 <= since <= ctx.rules.renewal.thank_you_within_days:
        return None
    text = reason(ctx, "renewal_thanks", date=renewed.isoformat())
    return _candidate(a, AlertKind.RENEWAL_THANKS, renewed.isoformat(), ctx, [text])


def onboarding(a: Assessment, ctx: SelectionContext) -> AlertCandidate | None:
    start = a.facts.contract_start
    day = (ctx.now.date() - start).days
    if day >= ctx.rules.phase.onboarding_days:
        return None
    due = [c for c in ctx.onboarding_checkins if c <= day]
    if not due:
        return None
    checkin = due[-1]
    reasons = [reason(ctx, "onboarding_day", day=day, checkin=checkin),
               reason(ctx, "setup", progress=a.facts.setup_progress)]
    return _candidate(a, AlertKind.ONBOARDING, f"{start.isoformat()}:{checkin}", ctx, reasons)


def expansion(a: Assessment, ctx: SelectionContext) -> AlertCandidate | None:
    if not a.expansion_candidate:
        return None
    facts = a.facts
    reasons = [reason(ctx, "healthy", score=a.health.score)]
    if facts.expansion_potential != "none":
        potential = t(f"alerts.potential.{facts.expansion_potential}", ctx.lang)
        reasons.append(reason(ctx, "potential", potential=potential))
    if facts.active_ratio is not None:
        seats = f"{facts.active_users}/{facts.seats}"
        reasons.append(reason(ctx, "seats", ratio=facts.active_ratio, seats=seats))
    return _candidate(a, AlertKind.EXPANSION, None, ctx, reasons)


def cadence(a: Assessment, ctx: SelectionContext) -> AlertCandidate | None:
    if not a.cadence_due:
        return None
    reasons = [reason(ctx, "cadence", kind=t(f"alerts.touch.{kind}", ctx.lang))
               for kind in a.cadence_due]
    return _candidate(a, AlertKind.CADENCE, None, ctx, reasons, cadence_due=list(a.cadence_due))


FRICTION_LINKS = 10  # questions listed on a card (the newest); the count says how many in all
FRICTION_LINKS_DIGEST = 3  # a digest line is clipped at 500 characters: whole links only


def support_friction(a: Assessment, ctx: SelectionContext) -> AlertCandidate | None:
    activity = a.facts.community
    limit = ctx.rules.risk.support_friction_questions
    if activity is None or activity.friction_asked < limit:
        return None
    days = ctx.rules.health.measures.community.window_days
    n = activity.friction_asked
    reasons = [t("community.friction", ctx.lang, n=n, days=days, limit=limit)]
    shown = FRICTION_LINKS_DIGEST if a.touch_model is TouchModel.TECH else FRICTION_LINKS
    reasons += [_friction_line(q, ctx) for q in activity.friction_questions[-shown:]]
    # More friction, higher in the list; a card per account, the questions as its evidence.
    return _candidate(a, AlertKind.SUPPORT_FRICTION, None, ctx, reasons, 10 * n)


def _friction_line(q: FrictionQuestion, ctx: SelectionContext) -> str:
    at = q.asked_at.astimezone(ctx.now.tzinfo).strftime("%m/%d %H:%M")
    outcome = t(f"community.outcome.{q.outcome}", ctx.lang)
    if q.escalated:
        state = "escalated_open" if q.escalation_open else "escalated_closed"
        outcome += f", {t(f'community.{state}', ctx.lang)}"
    if q.permalink:
        return t("community.question", ctx.lang, link=q.permalink, at=at, outcome=outcome)
    return t("community.question_nolink", ctx.lang, at=at, outcome=outcome)


SELECTORS: dict[AlertKind, Callable[[Assessment, SelectionContext], AlertCandidate | None]] = {
    AlertKind.AT_RISK: at_risk,
    AlertKind.CONTACT_CHANGE: contact_change,
    AlertKind.RENEWAL: renewal,
    AlertKind.RENEWAL_THANKS: renewal_thanks,
    AlertKind.ONBOARDING: onboarding,
    AlertKind.EXPANSION: expansion,
    AlertKind.CADENCE: cadence,
    AlertKind.SUPPORT_FRICTION: support_friction,
}
