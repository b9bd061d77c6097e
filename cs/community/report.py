"""Community KPIs for `banso report`: questions, deflection and friction by segment and by
account, over the report's period.

Deflection as the FAQ KPIs define it (docs/metrics.md): answered and not escalated / asked,
here over linked members' questions only, so it can be read per touch model and per account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, computed_field
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from core.i18n import Lang, t
from core.rules_config import RulesConfig
from cs.accounts.models import Account
from cs.community.models import CommunityQuestion, Outcome
from cs.rules.models import CommunityActivity
from cs.rules.rules import UnknownCurrencyError, touch_model_for

TOP_ACCOUNTS = 20  # accounts listed (most friction first); segments list every touch model


class CommunityRow(BaseModel):
    key: str  # account id, or the touch model for a segment row
    name: str
    touch_model: str
    questions: int = 0
    answered: int = 0
    suggested: int = 0
    unanswered: int = 0
    helpful: int = 0
    unhelpful: int = 0
    escalations: int = 0
    escalations_open: int = 0
    deflected: int = 0  # answered and not escalated

    @property
    def activity(self) -> CommunityActivity:
        """These counts as the health rules read an account's community activity."""
        return CommunityActivity(
            questions=self.questions, answered=self.answered, suggested=self.suggested,
            unanswered=self.unanswered, helpful=self.helpful, unhelpful=self.unhelpful,
            escalations=self.escalations, open_escalations=self.escalations_open)

    @property
    def friction(self) -> int:
        # The health score's definition, so the report ranks accounts by what costs them points.
        return self.activity.friction

    @computed_field  # type: ignore[prop-decorator]  # in the JSON the API and CLI print
    @property
    def deflection_rate(self) -> float | None:
        return self.deflected / self.questions if self.questions else None

    def add(self, other: CommunityRow) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


_COUNTS = ("questions", "answered", "suggested", "unanswered", "helpful", "unhelpful",
           "escalations", "escalations_open", "deflected")


class CommunityReport(BaseModel):
    start: date
    end: date  # exclusive
    accounts: int  # accounts with at least one member's question
    by_segment: list[CommunityRow]
    by_account: list[CommunityRow]

    def segment(self, touch_model: str) -> CommunityRow | None:
        return next((r for r in self.by_segment if r.key == touch_model), None)

    def total(self) -> CommunityRow:
        every = CommunityRow(key="all", name="all", touch_model="all")
        for row in self.by_segment:
            every.add(row)
        return every


def community_report(session: Session, rules: RulesConfig, start: date, end: date,
                     tz: ZoneInfo) -> CommunityReport:
    """Linked members' questions asked in [start, end) (days in `tz`)."""
    first = datetime.combine(start, time.min, tz)
    last = datetime.combine(end, time.min, tz)
    accounts = [_row(row, rules) for row in session.execute(_query(first, last))]
    segments = {model: CommunityRow(key=model, name=model, touch_model=model)
                for model in ("high", "low", "tech")}
    for row in accounts:
        segments.setdefault(row.touch_model, CommunityRow(
            key=row.touch_model, name=row.touch_model, touch_model=row.touch_model)).add(row)
    worst = sorted(accounts, key=lambda r: (-r.friction, -r.questions, r.key))[:TOP_ACCOUNTS]
    return CommunityReport(start=start, end=end, accounts=len(accounts),
                           by_segment=list(segments.values()), by_account=worst)


def _query(first: datetime, last: datetime) -> Any:
    q = CommunityQuestion

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    return (select(
        Account.id, Account.name, Account.mrr, Account.currency, func.count(),
        count(q.outcome == Outcome.ANSWERED.value), count(q.outcome == Outcome.SUGGESTED.value),
        count(q.outcome == Outcome.ABSTAINED.value), func.sum(q.helpful), func.sum(q.unhelpful),
        func.count(q.escalated_at),
        count(and_(q.escalated_at.is_not(None), q.escalation_closed_at.is_(None))),
        count(and_(q.outcome == Outcome.ANSWERED.value, q.escalated_at.is_(None))))
        .join(Account, Account.id == q.account_id)
        .where(q.asked_at >= first, q.asked_at < last)
        .group_by(Account.id, Account.name, Account.mrr, Account.currency)
        .order_by(Account.id))


def _row(row: Sequence[Any], rules: RulesConfig) -> CommunityRow:
    account_id, name, mrr, currency, *counts = row
    try:
        touch = touch_model_for(mrr, currency, rules).value
    except UnknownCurrencyError:
        touch = "unknown"  # the KPI report names the currency problem; this only counts
    values = dict(zip(_COUNTS, (int(n or 0) for n in counts), strict=True))
    return CommunityRow(key=account_id, name=name, touch_model=touch, **values)


def render_text(report: CommunityReport, lang: Lang = "ja") -> str:
    def line(r: CommunityRow) -> str:
        rate = r.deflection_rate
        return t("report.community.line", lang, name=r.name[:28], questions=r.questions,
                 answered=r.answered, unanswered=r.unanswered, helpful=r.helpful,
                 unhelpful=r.unhelpful, escalations=r.escalations, open=r.escalations_open,
                 deflection=f"{rate:.0%}" if rate is not None else "–")

    lines = [t("report.community.title", lang, start=report.start, end=report.end,
               accounts=report.accounts), t("report.community.by_segment", lang)]
    lines += [line(r) for r in report.by_segment]
    lines.append(t("report.community.by_account", lang))
    lines += [line(r) for r in report.by_account] or [t("report.community.none", lang)]
    return "\n".join(lines)
