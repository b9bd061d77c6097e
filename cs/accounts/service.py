"""Customer data services: facts for the rules (see cs.accounts.facts) and touchpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cs.accounts.facts import UnknownAccountError, facts_for, iter_facts
from cs.accounts.models import Account, TouchKind, Touchpoint

__all__ = [
    "TouchpointError",
    "UnknownAccountError",
    "facts_for",
    "iter_facts",
    "record_touchpoint",
]


class TouchpointError(ValueError):
    """A touchpoint with a bad kind or a naive time."""


def record_touchpoint(
    session: Session,
    account_id: str,
    kind: str,
    user_id: str | None,
    at: datetime,
    note: str | None = None,
    alert_id: int | None = None,
) -> Touchpoint:
    """Log a call, meeting or email; flushes so the caller sees the id (the caller commits)."""
    if kind not in {k.value for k in TouchKind}:
        raise TouchpointError(f"unknown touch kind {kind!r}: use call, meeting or email")
    if at.tzinfo is None:
        raise TouchpointError("touchpoint time must be timezone-aware")
    if session.get(Account, account_id) is None:
        raise UnknownAccountError(f"unknown account id: {account_id}")
    touch = Touchpoint(
        account_id=account_id, kind=kind, at=at, user_id=user_id, note=note, alert_id=alert_id,
        created_at=at,
    )
    session.add(touch)
    session.flush()
    return touch
