"""Who sees which alerts: an owner sees their accounts; a lead may choose own, team or all.

"Team" is the accounts owned by staff (settings.staff_users) plus accounts with no owner — the
alerts nobody in particular would see otherwise. The choice is stored per user
(`alert_routing`), set with `/banso-alerts own|team|all`, and read by `alerts_for_user`
(for App Home's "my open alerts" list).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.settings import Settings
from cs.alerts.models import Alert, AlertRouting, AlertStatus, RoutingScope


class RoutingError(ValueError):
    """A scope this user may not choose, or not a scope at all."""


def parse_scope(text: str) -> RoutingScope:
    word = text.strip().lower()
    try:
        return RoutingScope(word)
    except ValueError:
        raise RoutingError(f"choose own, team or all (got {word!r})") from None


def set_scope(session: Session, settings: Settings, user_id: str, scope: RoutingScope,
              now: datetime) -> AlertRouting:
    if scope is not RoutingScope.OWN and user_id not in settings.lead_users:
        raise RoutingError("only leads (BANSO_LEAD_USERS) may see team or all alerts")
    row = session.get(AlertRouting, user_id)
    if row is None:
        row = AlertRouting(user_id=user_id)
        session.add(row)
    row.scope, row.updated_at = scope.value, now
    return row


def scope_of(session: Session, settings: Settings, user_id: str) -> RoutingScope:
    row = session.get(AlertRouting, user_id)
    if row is None or user_id not in settings.lead_users:
        return RoutingScope.OWN  # a lead demoted in settings falls back to their own
    return RoutingScope(row.scope)


def alerts_for_user(session: Session, settings: Settings, user_id: str,
                    limit: int = 50) -> list[Alert]:
    """Open (not resolved) alerts this user should see, most important first."""
    scope = scope_of(session, settings, user_id)
    query = select(Alert).where(Alert.status != AlertStatus.RESOLVED.value)
    own = or_(Alert.owner_user_id == user_id, Alert.assignee_user_id == user_id)
    if scope is RoutingScope.OWN:
        query = query.where(own)
    elif scope is RoutingScope.TEAM:
        query = query.where(or_(own, Alert.owner_user_id.in_(settings.staff_users),
                                Alert.owner_user_id.is_(None)))
    query = query.order_by(Alert.priority.desc(), Alert.opened_at).limit(limit)
    return list(session.scalars(query))
