"""The CS metrics of one month (`banso report`, GET /api/metrics/cs), and their text form.

The text speaks one language from title to details: every label comes from `t()` and the
accounts' risk details are assessed in the same language (`compute_metrics(..., lang)`).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from core.i18n import Lang, t
from core.services import Services
from cs.alerts.models import AlertKind
from cs.kpis.formulas import (
    UNASSIGNED,
    BridgeLine,
    CurrencyError,
    Movement,
    MrrBridge,
    Period,
)
from cs.kpis.service import (
    CsMetrics,
    kpi_config,
    last_complete_month,
    load_book,
    metrics_for,
)
from cs.rules.models import HealthBand
from cs.rules.rules import UnknownCurrencyError

BANDS = frozenset(b.value for b in HealthBand)
TOUCHES = frozenset(("high", "low", "tech"))
KINDS = frozenset(k.value for k in AlertKind)
BRIDGE_NAMES = 5  # accounts named per bridge line in text; JSON lists them all
LABEL_WIDTH = 24


class ReportError(Exception):
    """The report cannot be made as asked; the message says why and what to change."""


def compute_metrics(
    services: Services, now: datetime, period: Period | None = None, lang: Lang | None = None
) -> CsMetrics:
    """The metrics of `period` (default: the last complete month in settings.timezone), with
    risk details in `lang` (default: the team's language)."""
    tz, rules = services.timezone, services.rules
    try:
        config = kpi_config(services.settings, rules)
        period = period or last_complete_month(now, tz)
        with services.session_factory() as session:
            book = load_book(session, now.astimezone(tz), rules, config, lang or services.lang)
            return metrics_for(session, book, period, config=config, rules=rules, tz=tz,
                               now=now)
    except (CurrencyError, UnknownCurrencyError) as exc:
        raise ReportError(str(exc)) from None


def rate(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def money(amount: int, currency: str) -> str:
    return f"{amount:,} {currency}"


def minutes(value: float | None, lang: Lang = "en") -> str:
    """A duration given in minutes: seconds under a minute (never "0 min"), hours from 2 h."""
    if value is None:
        return "n/a"
    if value < 1:
        return t("report.seconds", lang, n=value * 60)
    if value < 120:
        return t("report.minutes", lang, n=value)
    return t("report.hours", lang, n=value / 60)


def accounts(n: int, lang: Lang) -> str:
    return t("report.n_accounts", lang, n=n)


def band_name(code: str, lang: Lang) -> str:
    return t(f"kpis.band.{code}", lang) if code in BANDS else code


def touch_name(code: str, lang: Lang) -> str:
    return t(f"kpis.touch.{code}", lang) if code in TOUCHES else code


def kind_name(code: str, lang: Lang) -> str:
    """An alert kind as its cards title it (the code itself for a kind no longer known)."""
    return t(f"alerts.kind.{code}", lang) if code in KINDS else code


def render_text(m: CsMetrics, lang: Lang) -> str:
    title = t("report.title", lang, period=m.period, start=m.start,
              last=m.end - timedelta(days=1), tz=m.timezone, currency=m.currency)
    return "\n".join([title, *_revenue_lines(m, lang), *bridge_lines(m.bridge, m.currency, lang),
                      *_book_lines(m, lang), *_alert_lines(m, lang), *_faq_lines(m, lang)])


def _width(text: str) -> int:
    """Columns on a terminal: Japanese (wide) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _row(label: str, value: str, indent: int = 2) -> str:
    pad = max(1, LABEL_WIDTH + 3 - indent - _width(label))
    return f"{' ' * indent}{label}{' ' * pad}{value}"


def _revenue_lines(m: CsMetrics, lang: Lang) -> list[str]:
    c, a, cy = m.churn, m.avoidable_churn, m.currency
    flag = f"  {t('report.warning', lang, line=rate(c.warning_line))}" if c.above_warning else ""
    lines = [
        "", t("report.revenue", lang),
        _row(t("report.customers_at_start", lang),
             f"{c.customers_at_start:,} ({money(c.mrr_at_start, cy)})"),
        _row(t("report.logo_churn", lang),
             f"{rate(c.logo_churn_rate, 2)} ({accounts(c.churned_logos, lang)}){flag}"),
        _row(t("report.mrr_churn", lang), f"{rate(c.mrr_churn_rate, 2)} " + t(
            "report.mrr_churn_detail", lang, churned=money(c.churned_mrr, cy),
            contraction=money(c.contraction_mrr, cy))),
    ]
    if c.scheduled_churn_logos:
        lines.append(_row(t("report.scheduled", lang), t(
            "report.scheduled_detail", lang, accounts=accounts(c.scheduled_churn_logos, lang),
            mrr=money(c.scheduled_churn_mrr, cy))))
    lines += [
        _row(t("report.expansion", lang), money(c.expansion_mrr, cy)),
        _row(t("report.new_back", lang), f"{accounts(c.new_logos, lang)} "
             f"({money(c.new_mrr, cy)}) / {accounts(c.reactivated_logos, lang)} "
             f"({money(c.reactivated_mrr, cy)})"),
    ]
    for r in (m.retention, m.period_retention):
        lines.append(_row(t(f"report.grr_nrr.{r.basis}", lang), f"{rate(r.grr)} / {rate(r.nrr)} ("
                          + t("report.cohort", lang, day=r.cohort_day,
                              accounts=accounts(r.cohort_size, lang)) + ")"))
        lines.append(_row("", t(f"report.basis.{r.basis}", lang), indent=4))
    lines.append(_row(t("report.avoidable", lang), t(
        "report.avoidable_detail", lang, accounts=accounts(a.count, lang), mrr=money(a.mrr, cy),
        share=rate(a.share_of_churned_logos), reasons=", ".join(a.reasons))))
    return lines


def bridge_lines(b: MrrBridge, currency: str, lang: Lang) -> list[str]:
    """Start MRR, one signed line per movement with the accounts behind it, end MRR."""
    lines = ["", t("report.bridge", lang),
             _row(t("report.bridge.start", lang),
                  f"  {b.start_mrr:>14,} {currency} ({accounts(b.start_logos, lang)})")]
    for line in b.lines:
        if line.logos or line.movement is not Movement.SCHEDULED_CHURN:
            lines.append(_bridge_line(line, currency, lang))
    lines.append(_row(t("report.bridge.end", lang),
                      f"= {b.end_mrr:>14,} {currency} ({accounts(b.end_logos, lang)})"))
    if not b.balanced:
        lines.append("  " + t("report.bridge.unbalanced", lang))
    return lines


def _bridge_line(line: BridgeLine, currency: str, lang: Lang) -> str:
    sign = "+" if line.sign > 0 else "-"
    names = ", ".join(f"{a.name} {a.mrr:,}" for a in line.accounts[:BRIDGE_NAMES])
    more = len(line.accounts) - BRIDGE_NAMES
    if more > 0:
        names += f", {t('report.more', lang, n=more)}"
    value = f"{sign} {line.mrr:>14,} {currency} ({accounts(line.logos, lang)})"
    return _row(t(f"report.bridge.{line.movement.value}", lang), value
                + (f": {names}" if names else ""))


def _book_lines(m: CsMetrics, lang: Lang) -> list[str]:
    b, o = m.book, m.onboarding
    per_csm = ", ".join(f"{t('report.unassigned', lang) if k == UNASSIGNED else k} {v}"
                        for k, v in list(b.per_csm.items())[:10])
    mean = "n/a" if b.mean_per_csm is None else f"{b.mean_per_csm:.1f}"
    per_account = "n/a" if o.per_account is None else f"{o.per_account:.2f}"
    when = (t("report.as_of", lang, day=m.book_as_of) if m.book_as_of
            else t("report.as_of_now", lang))
    none = t("report.none", lang)
    return [
        "", t("report.book", lang, when=when),
        _row(t("report.accounts", lang), f"{b.accounts:,}"),
        _row(t("report.per_csm", lang), f"{t('report.mean', lang)} {mean}; {per_csm or none}"),
        _row(t("report.by_touch", lang), ", ".join(
            f"{touch_name(k, lang)} {v:,}" for k, v in b.by_touch_model.items()) or none),
        _row(t("report.by_band", lang), ", ".join(
            f"{band_name(k, lang)} {v:,}" for k, v in b.by_health_band.items()) or none),
        _row(t("report.onboarding", lang), t(
            "report.onboarding_detail", lang, per_account=per_account,
            sessions=t("report.sessions", lang, n=o.sessions),
            accounts=accounts(o.accounts, lang), without=accounts(o.without_session, lang))),
        _row(t("report.attention", lang), "" if m.attention else none),
        *[f"    {a.name} ({a.account_id}): {band_name(a.health_band, lang)} {a.health_score}, "
          f"{touch_name(a.touch_model, lang)}, "
          f"{money(a.mrr, a.currency)}, {t('report.owner', lang, owner=a.owner_user_id or '-')}"
          + (f" — {'; '.join(a.risks[:2])}" if a.risks else "") for a in m.attention],
    ]


def _alert_lines(m: CsMetrics, lang: Lang) -> list[str]:
    a = m.alerts

    def times(median: float | None, p90: float | None, acked: int, alerts: int) -> str:
        return t("report.tta_detail", lang, median=minutes(median, lang),
                 p90=minutes(p90, lang), acked=acked, alerts=alerts)

    all_ = a.ack_all
    lines = ["", t("report.alerts", lang), _row(t("report.tta", lang), times(
        all_.median_minutes, all_.p90_minutes, all_.acknowledged, all_.alerts))]
    lines += [_row(owner, times(x.median_minutes, x.p90_minutes, x.acknowledged, x.alerts), 4)
              for owner, x in a.ack_by_owner.items()]
    lines += [_row(kind_name(kind, lang), t("report.use_detail", lang, acted=u.acted,
                                             dismissed=u.dismissed,
                           ignored=u.ignored, rate=rate(u.acted_rate)))
              for kind, u in a.use_by_kind.items()]
    return lines


def _faq_lines(m: CsMetrics, lang: Lang) -> list[str]:
    f = m.faq
    lines = [
        "", t("report.faq", lang),
        _row(t("report.questions", lang), t(
            "report.questions_detail", lang, asked=f.asked, answered=f.answered,
            suggested=f.suggested, abstained=f.abstained, escalated=f.escalated)),
        _row(t("report.deflection", lang), rate(f.deflection_rate)),
        _row(t("report.unanswered_rate", lang), rate(f.unanswered_rate)),
    ]
    lines += [_row(t("report.downvoted", lang), f"{e.entry_id}: -{e.not_helpful} / +{e.helpful}")
              for e in f.feedback[:5] if e.not_helpful]
    lines += [_row(f"{t('report.unanswered', lang)} x{c.count}", c.representative)
              for c in f.top_unanswered]
    return lines
