"""CS metrics for a period: load the plain rows once, run the formulas, return one typed result.

`load_book` reads what does not depend on the period (the MRR log with each churn's reason, the
rules' view of every live account); `metrics_for` adds the period-bounded rows and the period's
stored book snapshot, if any. The digest computes two periods from one book, so 100,000
accounts are assessed once per run.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.orm import Session

from core.i18n import Lang
from core.rules_config import RulesConfig
from core.settings import Settings
from cs.community.report import CommunityReport, community_report
from cs.kpis import queries, snapshots
from cs.kpis.faq import FaqKpis, faq_kpis
from cs.kpis.formulas import (
    AccountRow,
    AlertKpis,
    AvoidableChurn,
    BookKpis,
    ChurnKpis,
    KpiConfig,
    MrrBridge,
    MrrLog,
    OnboardingKpis,
    Period,
    RetentionKpis,
    alert_kpis,
    avoidable_churn,
    book,
    bridge_of,
    churn_of,
    movements,
    onboarding_sessions,
    period_retention,
    retention,
)
from cs.rules.models import Assessment, HealthBand

ATTENTION_COUNT = 5
_BAND_RANK = {HealthBand.AT_RISK.value: 0, HealthBand.MIDDLE.value: 1, HealthBand.HEALTHY.value: 2}


def kpi_config(settings: Settings, rules: RulesConfig) -> KpiConfig:
    """Currency rates and the onboarding window come from the rules, so they are set once."""
    return KpiConfig(
        base_currency="JPY",
        rates=dict(rules.touch_model.jpy_per_unit),
        churn_warning=settings.churn_warning_rate,
        avoidable_reasons=tuple(settings.avoidable_churn_reasons),
        onboarding_days=rules.phase.onboarding_days,
    )


@dataclass(frozen=True)
class Attention:
    """A live account the CS team should look at, with why."""

    account_id: str
    name: str
    owner_user_id: str | None
    health_band: str
    health_score: int
    touch_model: str
    priority: int
    mrr: int
    currency: str
    risks: tuple[str, ...]


def _attention_key(a: Attention) -> tuple[int, int, int, str]:
    return (_BAND_RANK.get(a.health_band, 3), -a.priority, a.health_score, a.account_id)


def attention_of(assessment: Assessment) -> Attention:
    facts = assessment.facts
    return Attention(
        account_id=facts.account_id,
        name=facts.name,
        owner_user_id=facts.owner_user_id,
        health_band=assessment.health.band.value,
        health_score=assessment.health.score,
        touch_model=assessment.touch_model.value,
        priority=assessment.priority,
        mrr=facts.mrr,
        currency=facts.currency,
        risks=tuple(r.detail for r in assessment.risks),
    )


def rank_attention(items: Iterable[Attention], count: int) -> list[Attention]:
    """At-risk first, then the most important (priority), then the lowest health score."""
    return heapq.nsmallest(count, items, key=_attention_key)


@dataclass
class Book:
    log: MrrLog
    rows: list[AccountRow]
    attention: list[Attention] = field(default_factory=list)


def assess_book(
    session: Session, now: datetime, rules: RulesConfig, lang: Lang
) -> tuple[list[AccountRow], list[Attention]]:
    """Every live account as the book figures see it, and the few needing attention most."""
    rows: list[AccountRow] = []

    def attention_items() -> Iterator[Attention]:
        for assessment in queries.assessments(session, now, rules, lang):
            facts = assessment.facts
            rows.append(AccountRow(facts.account_id, facts.owner_user_id,
                                   assessment.touch_model.value, assessment.health.band.value))
            yield attention_of(assessment)

    # nsmallest keeps only the worst few: 100,000 assessments would cost hundreds of MB.
    attention = rank_attention(attention_items(), ATTENTION_COUNT)
    return rows, attention


def load_book(
    session: Session, now: datetime, rules: RulesConfig, config: KpiConfig, lang: Lang
) -> Book:
    log = MrrLog(queries.mrr_events(session), config)
    rows, attention = assess_book(session, now, rules, lang)
    return Book(log, rows, attention)


class CsMetrics(BaseModel):
    """Everything `banso report`, GET /api/metrics/cs and the digest show for one period."""

    period: str
    start: date
    end: date  # exclusive
    timezone: str
    currency: str
    generated_at: datetime
    churn: ChurnKpis
    bridge: MrrBridge  # start MRR + new + expansion + reactivation - contraction - churn = end
    retention: RetentionKpis  # trailing 12 months (the cohort of a year before the end)
    period_retention: RetentionKpis  # the period's own: accounts paying at its start
    avoidable_churn: AvoidableChurn
    book: BookKpis
    onboarding: OnboardingKpis
    alerts: AlertKpis
    faq: FaqKpis
    community: CommunityReport  # linked members' questions, by touch model and by account
    attention: list[Attention]  # live accounts needing attention most, as of now
    # The day whose stored snapshot the book figures are (the period's last snapshot); None:
    # no snapshot in the period, so they are the live book, as of now.
    book_as_of: date | None = None


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def metrics_for(
    session: Session,
    the_book: Book,
    period: Period,
    *,
    config: KpiConfig,
    rules: RulesConfig,
    tz: ZoneInfo,
    now: datetime,
) -> CsMetrics:
    first, last = local_midnight(period.start, tz), local_midnight(period.end, tz)
    today = now.astimezone(tz).date()
    log = the_book.log
    moves = movements(log, period, today)
    churn_kpis, churned = churn_of(moves, period, config)
    names = queries.account_names(session, (a for moved in moves.amounts.values() for a in moved))
    stored = snapshots.book_at_end(session, period)
    book_kpis, book_day = (stored[1], stored[0]) if stored else (book(the_book.rows), None)
    window = timedelta(days=config.onboarding_days)
    starts = queries.contract_starts(session, period.start - window, period.end - window)
    touches = queries.onboarding_touches(
        session, local_midnight(period.start - window, tz), last
    )
    return CsMetrics(
        period=period.label,
        start=period.start,
        end=period.end,
        timezone=tz.key,
        currency=config.base_currency,
        generated_at=now,
        churn=churn_kpis,
        bridge=bridge_of(moves, names),
        retention=retention(log, period.end),
        period_retention=period_retention(log, period),
        avoidable_churn=avoidable_churn(churned, log, period, config),
        book=book_kpis,
        book_as_of=book_day,
        onboarding=onboarding_sessions(starts, touches, period, config, tz),
        alerts=alert_kpis(queries.alerts_opened(session, first, last)),
        faq=faq_kpis(queries.questions(session, first, last),
                     queries.feedback(session, first, last)),
        community=community_report(session, rules, period.start, period.end, tz),
        attention=the_book.attention,
    )


def last_complete_month(now: datetime, tz: ZoneInfo) -> Period:
    first_of_month = now.astimezone(tz).date().replace(day=1)
    last = first_of_month - timedelta(days=1)
    return Period.month(last.year, last.month)
