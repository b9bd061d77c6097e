"""Loading the KPIs' plain rows from the database: a thin edge, no formulas here.

Each loader reads plain column tuples (never ORM objects) bounded by the days it needs, so a
report over 100,000 accounts keeps neither an identity map nor unrelated history in memory.
Time-stamped rows are bounded by aware datetimes (the period's midnights in the report's time
zone); day-valued columns (MRR changes, contract starts) by dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from bot.models import Escalation, Feedback, Question
from core.i18n import Lang
from core.rules_config import RulesConfig
from cs.accounts.models import Account, MrrChange, Touchpoint
from cs.accounts.service import iter_facts
from cs.alerts.models import ActionKind, Alert, AlertAction
from cs.community.activity import window_activity
from cs.kpis.faq import FeedbackRow, QuestionRow
from cs.kpis.formulas import ONBOARDING_SESSION_KINDS, AlertRow, MrrEvent, Touch
from cs.rules.models import Assessment
from cs.rules.rules import Assessor

_CHUNK = 500  # ids per IN (...): well under SQLite's and psycopg's parameter limits


def mrr_events(session: Session) -> Iterator[MrrEvent]:
    m = MrrChange
    query = select(m.account_id, m.effective_on, m.mrr_after, m.currency, m.id, m.churn_reason)
    for account_id, effective_on, mrr_after, currency, seq, reason in session.execute(query):
        yield MrrEvent(account_id, effective_on, mrr_after, currency, seq, reason)


def account_names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """Names of the given accounts (the bridge's few hundred movers, not the whole book)."""
    wanted = sorted(set(ids))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = select(Account.id, Account.name).where(Account.id.in_(wanted[start:start + _CHUNK]))
        names.update({account_id: name for account_id, name in session.execute(query)})
    return names


def assessments(
    session: Session, now: datetime, rules: RulesConfig, lang: Lang
) -> Iterator[Assessment]:
    """The rules' view of every live account at `now`, its risk details in `lang`."""
    assess = Assessor(rules, lang)
    community = window_activity(session, now, rules.health.measures.community, details_from=None)
    for facts in iter_facts(session, now, community=community):
        yield assess(facts, now)


def contract_starts(session: Session, first: date, last: date) -> dict[str, date]:
    """Accounts whose contract started on a day in [first, last)."""
    query = select(Account.id, Account.contract_start).where(
        Account.contract_start >= first, Account.contract_start < last
    )
    return {account_id: start for account_id, start in session.execute(query)}


def onboarding_touches(session: Session, first: datetime, last: datetime) -> Iterator[Touch]:
    t = Touchpoint
    query = select(t.account_id, t.kind, t.at).where(
        t.kind.in_(sorted(ONBOARDING_SESSION_KINDS)), t.at >= first, t.at < last
    )
    for account_id, kind, at in session.execute(query):
        yield Touch(account_id, kind, at)


def alerts_opened(session: Session, first: datetime, last: datetime) -> Iterator[AlertRow]:
    """Alerts opened in [first, last): when a person first responded, whether they acted on it
    or only dismissed it.

    The first response is the Acknowledge click or any earlier click: an alert resolved or
    snoozed straight away was answered then, though it was never "acknowledged".
    """
    act = AlertAction
    acted = exists().where(act.alert_id == Alert.id, act.action != ActionKind.NOT_USEFUL.value)
    dismissed = exists().where(
        and_(act.alert_id == Alert.id, act.action == ActionKind.NOT_USEFUL.value)
    )
    first_click = select(func.min(act.at)).where(act.alert_id == Alert.id).scalar_subquery()
    query = select(
        Alert.kind, Alert.owner_user_id, Alert.opened_at, Alert.acknowledged_at,
        first_click.label("first_click"), acted.label("acted"), dismissed.label("dismissed"),
    ).where(Alert.opened_at >= first, Alert.opened_at < last)
    for kind, owner, opened_at, acked, clicked, was_acted, was_dismissed in session.execute(query):
        responses = [at for at in (acked, _aware(clicked)) if at is not None]
        yield AlertRow(kind, owner, opened_at, min(responses, default=None), bool(was_acted),
                       bool(was_dismissed))


def _aware(value: datetime | str | None) -> datetime | None:
    """min() over a UtcDateTime column comes back untyped on SQLite (a naive string or datetime)."""
    if value is None:
        return None
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def questions(session: Session, first: datetime, last: datetime) -> Iterator[QuestionRow]:
    q = Question
    escalated = exists().where(Escalation.question_id == q.id)
    query = (
        select(q.id, q.text, q.decision, q.top_entry_id, escalated.label("escalated"),
               q.created_at, q.lang)
        .where(q.created_at >= first, q.created_at < last)
        .order_by(q.created_at, q.id)
    )
    for qid, text, decision, top, was_escalated, created_at, lang in session.execute(query):
        yield QuestionRow(qid, text, decision, top, bool(was_escalated), created_at, lang)


def feedback(session: Session, first: datetime, last: datetime) -> Iterator[FeedbackRow]:
    """Latest votes cast in [first, last) on a known entry (the one shown when clicked)."""
    f = Feedback
    query = select(f.entry_id, f.helpful).where(
        f.entry_id.is_not(None), f.updated_at >= first, f.updated_at < last
    )
    for entry_id, helpful in session.execute(query):
        yield FeedbackRow(str(entry_id), bool(helpful))
