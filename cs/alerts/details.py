"""What a card shows beyond the assessment: the contact change as imported and recent touches.

Read only for the accounts a run has something to post or update for (a few per chunk), in two
set-based queries, so the 100k-account pass stays on the facts alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cs.accounts.models import ContactChange, Touchpoint
from cs.alerts.models import AlertKind, ContactChangeLine, TouchLine
from cs.alerts.service import AlertCandidate
from cs.rules.calendar import days_ago, local_day

RECENT_TOUCHES = 3  # listed on a card, newest first
TOUCH_LOOKBACK = timedelta(days=365)  # older touches are not "recent" on a card


@dataclass(frozen=True)
class CardDetails:
    contact: ContactChangeLine | None = None
    touches: list[TouchLine] = field(default_factory=list)


def card_details(session: Session, candidates: Iterable[AlertCandidate],
                 now: datetime) -> dict[str, CardDetails]:
    """account -> details, for the accounts of `candidates`; `now` in the team's time zone."""
    candidates = list(candidates)
    accounts = sorted({c.account_id for c in candidates})
    if not accounts:
        return {}
    changed = sorted({c.account_id for c in candidates if c.kind is AlertKind.CONTACT_CHANGE})
    contacts = _contact_changes(session, changed, now) if changed else {}
    touches = _recent_touches(session, accounts, now)
    return {a: CardDetails(contacts.get(a), touches.get(a, [])) for a in accounts}


def with_details(candidate: AlertCandidate, details: CardDetails | None) -> AlertCandidate:
    if details is None:
        return candidate
    update: dict[str, object] = {"recent_touches": details.touches}
    if candidate.kind is AlertKind.CONTACT_CHANGE:
        update["contact"] = details.contact
    return replace(candidate, summary=candidate.summary.model_copy(update=update))


def _contact_changes(session: Session, accounts: list[str],
                     now: datetime) -> dict[str, ContactChangeLine]:
    c = ContactChange
    latest = (select(c.account_id, func.max(c.changed_at).label("at"))
              .where(c.account_id.in_(accounts)).group_by(c.account_id).subquery())
    rows = session.scalars(select(c).join(
        latest, (c.account_id == latest.c.account_id) & (c.changed_at == latest.c.at)
    ).order_by(c.id))
    found: dict[str, ContactChangeLine] = {}
    for row in rows:  # two changes at the same instant: the later row wins
        found[row.account_id] = ContactChangeLine(
            previous_name=row.previous_name, previous_email=row.previous_email,
            moved_to=row.moved_to, new_name=row.new_name, new_email=row.new_email,
            changed_on=local_day(row.changed_at, now), days_since=days_ago(row.changed_at, now))
    return found


def _recent_touches(session: Session, accounts: list[str],
                    now: datetime) -> dict[str, list[TouchLine]]:
    t = Touchpoint
    rows = session.execute(
        select(t.account_id, t.kind, t.at, t.user_id)
        .where(t.account_id.in_(accounts), t.at >= now - TOUCH_LOOKBACK, t.at <= now)
        .order_by(t.account_id, t.at.desc(), t.id.desc()))
    found: dict[str, list[TouchLine]] = defaultdict(list)
    for account_id, kind, at, user_id in rows:
        if len(found[account_id]) < RECENT_TOUCHES:
            found[account_id].append(TouchLine(kind=kind, on=local_day(at, now),
                                               days_ago=days_ago(at, now), user_id=user_id))
    return found
