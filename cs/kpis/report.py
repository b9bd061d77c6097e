"""The CS metrics of one month (`banso report`, GET /api/metrics/cs), and their text form."""

from __future__ import annotations

from datetime import datetime

from core.services import Services
from cs.kpis.formulas import CurrencyError, Period
from cs.kpis.service import (
    CsMetrics,
    kpi_config,
    last_complete_month,
    load_book,
    metrics_for,
)
from cs.rules.rules import UnknownCurrencyError


class ReportError(Exception):
    """The report cannot be made as asked; the message says why and what to change."""


def compute_metrics(services: Services, now: datetime, period: Period | None = None) -> CsMetrics:
    """The metrics of `period` (default: the last complete month in settings.timezone)."""
    tz, rules = services.timezone, services.rules
    try:
        config = kpi_config(services.settings, rules)
        period = period or last_complete_month(now, tz)
        with services.session_factory() as session:
            book = load_book(session, now.astimezone(tz), rules, config)
            return metrics_for(session, book, period, config=config, tz=tz, now=now)
    except (CurrencyError, UnknownCurrencyError) as exc:
        raise ReportError(str(exc)) from None


def rate(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def money(amount: int, currency: str) -> str:
    return f"{amount:,} {currency}"


def minutes(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f} min" if value < 120 else f"{value / 60:.1f} h"


def render_text(m: CsMetrics) -> str:
    title = f"Banso CS report {m.period} ({m.start} .. {m.end}, {m.timezone}; in {m.currency})"
    return "\n".join(
        [title, *_revenue_lines(m), *_book_lines(m), *_alert_lines(m), *_faq_lines(m)]
    )


def _revenue_lines(m: CsMetrics) -> list[str]:
    c, r, a = m.churn, m.retention, m.avoidable_churn
    flag = f"  !! above the {rate(c.warning_line)} warning line" if c.above_warning else ""
    return [
        "",
        "Revenue",
        f"  customers at start     {c.customers_at_start:,} ({money(c.mrr_at_start, m.currency)})",
        f"  logo churn             {rate(c.logo_churn_rate, 2)} "
        f"({c.churned_logos:,} accounts){flag}",
        f"  MRR churn              {rate(c.mrr_churn_rate, 2)} (churned "
        f"{money(c.churned_mrr, m.currency)} + contraction {money(c.contraction_mrr, m.currency)})",
        f"  expansion              {money(c.expansion_mrr, m.currency)}",
        f"  new / reactivated      {c.new_logos:,} ({money(c.new_mrr, m.currency)}) / "
        f"{c.reactivated_logos:,}",
        f"  GRR / NRR              {rate(r.grr)} / {rate(r.nrr)} (cohort of {r.cohort_day}: "
        f"{r.cohort_size:,} accounts)",
        f"  avoidable churn        {a.count} accounts, {money(a.mrr, m.currency)} "
        f"({rate(a.share_of_churned_logos)} of churned; {', '.join(a.reasons)})",
    ]


def _book_lines(m: CsMetrics) -> list[str]:
    b, o = m.book, m.onboarding
    per_csm = ", ".join(f"{k} {v}" for k, v in list(b.per_csm.items())[:10])
    mean = "n/a" if b.mean_per_csm is None else f"{b.mean_per_csm:.1f}"
    per_account = "n/a" if o.per_account is None else f"{o.per_account:.2f}"
    return [
        "",
        "Accounts (live, as of now)",
        f"  accounts               {b.accounts:,}",
        f"  per CSM                mean {mean}; {per_csm}",
        "  by touch model         " + _counts(b.by_touch_model),
        "  by health band         " + _counts(b.by_health_band),
        f"  onboarding sessions    {per_account} per account ({o.sessions} calls+meetings over "
        f"{o.accounts} completed onboardings; {o.without_session} with none)",
        "  needing attention",
        *[f"    {a.name} ({a.account_id}): {a.health_band} {a.health_score}, {a.touch_model}, "
          f"{money(a.mrr, a.currency)}, owner {a.owner_user_id or '-'}"
          + (f" — {'; '.join(a.risks[:2])}" if a.risks else "") for a in m.attention],
    ]


def _alert_lines(m: CsMetrics) -> list[str]:
    a = m.alerts
    lines = ["", "Alerts opened in the period",
             f"  time to acknowledge    median {minutes(a.ack_all.median_minutes)}, p90 "
             f"{minutes(a.ack_all.p90_minutes)} ({a.ack_all.acknowledged}/{a.ack_all.alerts})"]
    lines += [f"    {owner:<20} median {minutes(t.median_minutes)}, p90 {minutes(t.p90_minutes)}"
              f" ({t.acknowledged}/{t.alerts})" for owner, t in a.ack_by_owner.items()]
    lines += [f"  {kind:<22} acted {u.acted}, not useful {u.dismissed}, ignored {u.ignored} "
              f"({rate(u.acted_rate)} acted)" for kind, u in a.use_by_kind.items()]
    return lines


def _faq_lines(m: CsMetrics) -> list[str]:
    f = m.faq
    lines = [
        "", "FAQ",
        f"  questions              {f.asked} (answered {f.answered}, suggested {f.suggested}, "
        f"abstained {f.abstained}, escalated {f.escalated})",
        f"  deflection rate        {rate(f.deflection_rate)}",
        f"  unanswered rate        {rate(f.unanswered_rate)}",
    ]
    lines += [f"  most down-voted        {e.entry_id}: -{e.not_helpful} / +{e.helpful}"
              for e in f.feedback[:5] if e.not_helpful]
    lines += [f"  unanswered x{c.count:<3}        {c.representative}" for c in f.top_unanswered]
    return lines


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts.items()) or "none"
