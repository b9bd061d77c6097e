"""One click on an alert: record it once, change the alert, queue the re-render and thread line.

Idempotent twice over: a Slack retry carries the same action_ts (unique per alert + user), and a
double click that would change nothing (acknowledging what you already acknowledged) records
nothing, so either way one click is one AlertAction row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cs.accounts.service import record_touchpoint
from cs.alerts.models import ActionKind, Alert, AlertAction, AlertStatus, Delivery
from cs.alerts.service import place_card, thread, touch

# The thread event of a take-over that joined the account's card of the day.
JOINED_TAKE_OVER = "take_over_joined"
# Two "log a call" clicks by one person on one alert this close together are one call.
TOUCH_DOUBLE_CLICK = timedelta(seconds=60)


class AlertNotFoundError(LookupError):
    """The alert a button names does not exist (deleted, or a forged payload)."""


class BadClickError(ValueError):
    """The click cannot be applied (a snooze date in the past, an unknown touch kind)."""


@dataclass(frozen=True)
class Click:
    alert_id: int
    user_id: str
    action: ActionKind
    action_ts: str  # Slack's action_ts: the same on a retry of this very interaction
    at: datetime
    day: date  # `at`'s calendar day in the team's time zone: the day a taken-over card is on
    snooze_until: datetime | None = None
    touch_kind: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ClickOutcome:
    recorded: bool
    alert: Alert
    reason: str | None = None  # why nothing was recorded: "duplicate" or "no_change"


def apply_click(session: Session, click: Click) -> ClickOutcome:
    # Locked (PostgreSQL) so a job run and a click never overwrite each other's change.
    alert = session.get(Alert, click.alert_id, with_for_update=True)
    if alert is None:
        raise AlertNotFoundError(f"alert {click.alert_id} not found")
    if _seen(session, click):
        return ClickOutcome(False, alert, "duplicate")
    if not _changes_something(session, alert, click):
        return ClickOutcome(False, alert, "no_change")
    action = AlertAction(
        alert_id=alert.id, user_id=click.user_id, action=click.action.value,
        action_ts=click.action_ts, at=click.at, payload=_payload(alert, click),
    )
    try:
        with session.begin_nested():
            session.add(action)
            session.flush()
    except IntegrityError:
        return ClickOutcome(False, alert, "duplicate")  # a concurrent retry got there first
    APPLY[click.action](session, alert, click)
    alert.last_action, alert.last_action_by, alert.last_action_at = (
        click.action.value, click.user_id, click.at)
    touch(session, alert, click.at)
    thread(session, alert, f"action:{action.id}", click.at, _thread_payload(alert, click))
    return ClickOutcome(True, alert)


def _seen(session: Session, click: Click) -> bool:
    return session.scalar(select(AlertAction.id).where(
        AlertAction.alert_id == click.alert_id, AlertAction.user_id == click.user_id,
        AlertAction.action_ts == click.action_ts,
    )) is not None


def _changes_something(session: Session, alert: Alert, click: Click) -> bool:
    resolved = alert.status == AlertStatus.RESOLVED.value
    match click.action:
        case ActionKind.ACKNOWLEDGE:
            return not resolved and alert.acknowledged_by != click.user_id
        case ActionKind.ASSIGN:
            return not resolved and alert.assignee_user_id != click.user_id
        case ActionKind.SNOOZE:
            _check_snooze(click)
            return not resolved and not (
                alert.status == AlertStatus.SNOOZED.value
                and alert.snoozed_until == click.snooze_until
                and alert.snooze_note == click.note)
        case ActionKind.RESOLVE | ActionKind.NOT_USEFUL:
            return not resolved
        case ActionKind.LOG_TOUCH:
            return not _recent_same_touch(session, alert, click)
        case ActionKind.TAKE_OVER:
            return not resolved and alert.delivery == Delivery.DIGEST.value
    return True


def _check_snooze(click: Click) -> None:
    if click.snooze_until is None or click.snooze_until <= click.at:
        raise BadClickError("snooze needs a date in the future")


def _recent_same_touch(session: Session, alert: Alert, click: Click) -> bool:
    payloads = session.scalars(select(AlertAction.payload).where(
        AlertAction.alert_id == alert.id, AlertAction.user_id == click.user_id,
        AlertAction.action == ActionKind.LOG_TOUCH.value,
        AlertAction.at > click.at - TOUCH_DOUBLE_CLICK,
    ))
    return any(p.get("touch") == click.touch_kind for p in payloads)


def _payload(alert: Alert, click: Click) -> dict[str, Any]:
    payload: dict[str, Any] = {"status_before": alert.status, **_click_details(click)}
    if click.action is ActionKind.NOT_USEFUL:
        # Feedback on the rule: which kind fired, and on what evidence.
        payload["kind"] = alert.kind
        payload["reasons"] = list(alert.evidence.get("reasons", []))
    return payload


def _thread_payload(alert: Alert, click: Click) -> dict[str, Any]:
    event = click.action.value
    if click.action is ActionKind.TAKE_OVER and alert.card_of is not None:
        # It joined the account's card of the day: one line says both, not a line for each.
        event = JOINED_TAKE_OVER
    return {"event": event, "user": click.user_id, **_click_details(click)}


def _click_details(click: Click) -> dict[str, Any]:
    """What the user chose with the click (snooze date, touch kind, note), where given."""
    details: dict[str, Any] = {}
    if click.snooze_until is not None:
        details["until"] = click.snooze_until.isoformat()
    if click.touch_kind is not None:
        details["touch"] = click.touch_kind
    if click.note:
        details["note"] = click.note
    return details


def _acknowledge(session: Session, alert: Alert, click: Click) -> None:
    alert.acknowledged_by, alert.acknowledged_at = click.user_id, click.at
    alert.assignee_user_id = alert.assignee_user_id or click.user_id  # takes ownership
    if alert.status == AlertStatus.OPEN.value:
        alert.status = AlertStatus.ACKNOWLEDGED.value


def _assign(session: Session, alert: Alert, click: Click) -> None:
    alert.assignee_user_id = click.user_id


def _snooze(session: Session, alert: Alert, click: Click) -> None:
    alert.status = AlertStatus.SNOOZED.value
    # A new snooze replaces the last one whole: a quick choice clears an earlier reason.
    alert.snoozed_until, alert.snooze_note = click.snooze_until, click.note


def _log_touch(session: Session, alert: Alert, click: Click) -> None:
    if click.touch_kind is None:
        raise BadClickError("log touch needs a kind: call, meeting or email")
    record_touchpoint(session, alert.account_id, click.touch_kind, click.user_id, click.at,
                      note=click.note, alert_id=alert.id)


def _take_over(session: Session, alert: Alert, click: Click) -> None:
    """A digest item someone wants to handle: from now on a regular card, theirs — on the
    account's card of the day if it already has one (one top-level card a day), else its own.
    `apply_click` then re-renders that card once and writes its one thread line."""
    alert.delivery = Delivery.CARD.value
    alert.assignee_user_id = click.user_id
    alert.acknowledged_by, alert.acknowledged_at = click.user_id, click.at
    alert.status = AlertStatus.ACKNOWLEDGED.value
    alert.snoozed_until, alert.snooze_note = None, None
    place_card(session, alert, click.day, click.at)


def _resolve(session: Session, alert: Alert, click: Click) -> None:
    alert.status = AlertStatus.RESOLVED.value
    alert.resolved_by, alert.resolved_at = click.user_id, click.at
    alert.snoozed_until, alert.snooze_note = None, None


APPLY = {
    ActionKind.ACKNOWLEDGE: _acknowledge,
    ActionKind.ASSIGN: _assign,
    ActionKind.SNOOZE: _snooze,
    ActionKind.LOG_TOUCH: _log_touch,
    ActionKind.RESOLVE: _resolve,
    ActionKind.NOT_USEFUL: _resolve,
    ActionKind.TAKE_OVER: _take_over,
}
