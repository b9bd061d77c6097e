"""The alert state machine: open on entering a state, update while in it, resolve when it ends.

Every visible change writes an outbox row in the same transaction (see `enqueue`), so a crash
between the database and Slack never loses or doubles a message: the outbox worker
(`cs.alerts.outbox`) sends what is pending, once.

One (account, kind) has at most one *current* alert: one not resolved, or resolved by hand while
its condition still holds (`in_state`). New evidence updates the current alert instead of
posting anew; a new period (the 60-day renewal reminder after the 90-day one) moves an open
alert to the new period, or opens a new alert if the old one was already dealt with.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import insert_for
from cs.alerts.models import (
    Alert,
    AlertCard,
    AlertKind,
    AlertStatus,
    AlertSummary,
    Delivery,
    OutboxMessage,
    OutboxOp,
    OutboxStatus,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertCandidate:
    """One state an account is in, as selection found it (`cs.alerts.selection`)."""

    account_id: str
    kind: AlertKind
    period: str | None  # None: an episode, keyed by the local day it starts
    priority: int
    delivery: Delivery
    owner_user_id: str | None
    channel: str | None
    summary: AlertSummary

    def key(self, local_day: str) -> str:
        return dedupe_key(self.account_id, self.kind, self.period or local_day)


def dedupe_key(account_id: str, kind: AlertKind, period: str) -> str:
    return f"{kind.value}:{account_id}:{period}"


@dataclass
class ReconcileResult:
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    resurfaced: list[int] = field(default_factory=list)

    def add(self, other: ReconcileResult) -> None:
        self.opened += other.opened
        self.updated += other.updated
        self.resolved += other.resolved
        self.resurfaced += other.resurfaced

    @property
    def changed(self) -> int:
        return len(self.opened) + len(self.updated) + len(self.resolved) + len(self.resurfaced)


def begin_write(session: Session, *, immediate: bool = True) -> None:
    """Start a real transaction now on SQLite; a no-op on PostgreSQL.

    pysqlite opens its transaction lazily, at the first INSERT/UPDATE. A SAVEPOINT issued before
    that starts the transaction itself, and releasing it COMMITS everything so far — so without
    this a per-account savepoint would commit half a run, and a dry run could not roll back.
    IMMEDIATE takes the write lock up front: a reader that later writes cannot be refused
    mid-transaction (SQLITE_BUSY_SNAPSHOT) because another writer went first.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def reconcile(
    session: Session,
    account_id: str,
    kinds: Iterable[AlertKind],
    candidates: Iterable[AlertCandidate],
    now: datetime,
    local_day: str,
    current: dict[str, Alert] | None = None,
    fired: set[str] | None = None,
    one_card: bool = False,
) -> ReconcileResult:
    """Bring the alerts of `kinds` for one account in line with what selection found now.

    Kinds not in `kinds` are left alone: a job only speaks for the states it evaluates.
    `local_day` (YYYY-MM-DD in the schedule's time zone) names episodes opened now.
    `current` (kind -> alert) may be prefetched with `current_alerts` for a batch of accounts,
    and `fired` with `fired_keys`: the candidates' keys that already have an alert.
    `one_card`: a card alert opened when the account already has a card on `local_day` joins
    that card instead of posting a second one (`place_card`; False: every card alert posts its
    own).
    """
    kinds = list(kinds)
    wanted = {c.kind: c for c in candidates if c.kind in kinds}
    if current is None:
        current = current_alerts(session, [account_id], kinds).get(account_id, {})
    result = ReconcileResult()
    for kind in kinds:
        candidate, alert = wanted.get(kind), current.get(kind)
        if candidate is None:
            if alert is not None:
                end_state(session, alert, now, result)
        elif alert is None:
            _open(session, candidate, now, local_day, result, fired, one_card)
        else:
            _still_in_state(session, alert, candidate, now, local_day, result, one_card)
    return result


def current_alerts(
    session: Session, account_ids: list[str], kinds: Iterable[AlertKind]
) -> dict[str, dict[str, Alert]]:
    """account -> kind -> its current alert, locked (PostgreSQL) until the caller commits.

    The row lock serialises a job and a click on the same alert, so neither overwrites the
    other's change (SQLite serialises all writers anyway).
    """
    rows = session.scalars(
        select(Alert)
        .where(Alert.account_id.in_(account_ids), Alert.kind.in_([k.value for k in kinds]))
        .where(or_(Alert.status != AlertStatus.RESOLVED.value, Alert.in_state.is_(True)))
        .order_by(Alert.id)
        .with_for_update()
    )
    found: dict[str, dict[str, Alert]] = {}
    for alert in rows:
        found.setdefault(alert.account_id, {})[alert.kind] = alert  # the newest wins if two
    return found


def fired_keys(session: Session, account_ids: list[str], kinds: Iterable[AlertKind]) -> set[str]:
    """Every dedupe key these accounts ever had for these kinds (one query for a batch).

    Asked by account and kind, not by key: that is the (account_id, kind, status) index,
    which the planner picks even while the table's statistics still say "empty".
    """
    if not account_ids:
        return set()
    return set(session.scalars(select(Alert.dedupe_key).where(
        Alert.account_id.in_(account_ids), Alert.kind.in_([k.value for k in kinds]))))


def _open(
    session: Session, candidate: AlertCandidate, now: datetime, local_day: str,
    result: ReconcileResult, fired: set[str] | None = None, one_card: bool = False,
) -> None:
    key = candidate.key(local_day)
    if fired is None:
        fired = fired_keys(session, [candidate.account_id], [candidate.kind])
    if key in fired:
        return  # this period already fired (and was dealt with): never twice
    alert = Alert(
        account_id=candidate.account_id, kind=candidate.kind.value, dedupe_key=key,
        status=AlertStatus.OPEN.value, in_state=True, delivery=candidate.delivery.value,
        priority=candidate.priority, evidence=candidate.summary.model_dump(mode="json"),
        owner_user_id=candidate.owner_user_id, channel=candidate.channel, revision=0,
        opened_at=now, updated_at=now,
    )
    # A concurrent writer (the import path) opening the same key makes this flush raise
    # IntegrityError; the job's savepoint turns that into "skipped, the next run settles it".
    session.add(alert)
    session.flush()
    if alert.delivery == Delivery.CARD.value:
        if not one_card:
            post_card(session, alert, now)
        elif place_card(session, alert, date.fromisoformat(local_day), now) is not None:
            touch(session, alert, now)
            thread(session, alert, f"joined:{alert.id}", now, {"event": "grouped"})
    result.opened.append(alert.id)


def place_card(session: Session, alert: Alert, day: date, now: datetime) -> Alert | None:
    """Show a card alert on its account's one top-level card of `day` (the team's calendar).

    The job opening an alert and a take-over of a digest item both come here: if the account
    already has a card that day the alert joins it (returned), else it posts its own and has
    claimed the day, so whatever opens later that day joins this one.

    Joining queues nothing: the caller `touch`es the alert (one re-render of the card it
    joined) and writes the one thread line that says why it is there — the job "joined today's
    card", a take-over who took it over and that it joined — so a take-over is not announced
    twice."""
    host = todays_card(session, alert, day)
    if host is None:
        post_card(session, alert, now)
    else:
        alert.card_of, alert.channel, alert.ts = host.id, host.channel, host.ts
    return host


def post_card(session: Session, alert: Alert, now: datetime) -> None:
    """Queue the first post of `alert`'s own card."""
    # Keyed by the alert's dedupe key, which is unique, and an alert becomes a card once (opened
    # as one, or taken over from the digest under its row lock): the key is new, no savepoint.
    enqueue(session, f"post:{alert.dedupe_key}", OutboxOp.POST_ALERT, alert, now, guard=False)


def todays_card(session: Session, alert: Alert, day: date) -> Alert | None:
    """The card this account already got on `day`, or None: `alert` has just claimed the day.

    The claim is a row the database keeps unique, so two writers giving one account a card at
    once (two job processes, a job and a take-over click) cannot both win: PostgreSQL makes the
    second INSERT wait for the first transaction and then skip it; SQLite has one writer at a
    time. A crash before the commit undoes the claim with the alert and its queued post.
    The card is locked (PostgreSQL) like the job's own alerts: a click on it at the same moment
    waits until the alert joining it is committed."""
    claim = insert_for(session, AlertCard).values(
        account_id=alert.account_id, day=day, alert_id=alert.id,
    ).on_conflict_do_nothing(index_elements=["account_id", "day"]).returning(AlertCard.alert_id)
    if session.scalar(claim) is not None:
        return None
    return session.scalar(
        select(Alert).join(AlertCard, AlertCard.alert_id == Alert.id)
        .where(AlertCard.account_id == alert.account_id, AlertCard.day == day)
        .with_for_update(of=Alert))


def card_host(session: Session, alert: Alert) -> Alert:
    """The alert whose Slack message shows `alert` (itself, unless it joined another card)."""
    if alert.card_of is None:
        return alert
    return session.get(Alert, alert.card_of) or alert


def _still_in_state(
    session: Session, alert: Alert, candidate: AlertCandidate, now: datetime, local_day: str,
    result: ReconcileResult, one_card: bool = False,
) -> None:
    new_key = candidate.key(local_day)
    period_moved = candidate.period is not None and new_key != alert.dedupe_key
    if alert.status == AlertStatus.RESOLVED.value:
        if period_moved:
            alert.in_state = False  # dealt with; the new period is news of its own
            _open(session, candidate, now, local_day, result, one_card=one_card)
        return
    if not alert.in_state:  # assigning an equal value still makes the flush visit the row
        alert.in_state = True
    if alert.status == AlertStatus.SNOOZED.value and _snooze_over(alert, now):
        alert.status = (
            AlertStatus.ACKNOWLEDGED.value if alert.acknowledged_by else AlertStatus.OPEN.value
        )
        alert.snoozed_until, alert.snooze_note = None, None
        _apply_evidence(session, alert, candidate, new_key if period_moved else None)
        touch(session, alert, now)
        key = f"resurface:{alert.id}:{alert.revision}"
        thread(session, alert, key, now, {"event": "resurfaced"})
        result.resurfaced.append(alert.id)
        return
    if _apply_evidence(session, alert, candidate, new_key if period_moved else None):
        touch(session, alert, now)
        result.updated.append(alert.id)


def _snooze_over(alert: Alert, now: datetime) -> bool:
    return alert.snoozed_until is None or alert.snoozed_until <= now


def _apply_evidence(
    session: Session, alert: Alert, candidate: AlertCandidate, new_key: str | None
) -> bool:
    evidence = with_trends(candidate.summary, alert.evidence).model_dump(mode="json")
    changed = evidence != alert.evidence or candidate.priority != alert.priority
    if changed:
        alert.evidence, alert.priority = evidence, candidate.priority
    if new_key is not None and session.scalar(
        select(Alert.id).where(Alert.dedupe_key == new_key)
    ) is None:
        alert.dedupe_key = new_key  # the new period is covered by this alert: never posted anew
        changed = True
    return changed


def with_trends(summary: AlertSummary, before: dict[str, Any]) -> AlertSummary:
    """Each signal keeps the figure the card showed before it last changed, so the card can
    say whether it got worse or better (a figure that did not move keeps its old trend)."""
    if not summary.signals:
        return summary
    old = {str(s.get("kind")): s for s in before.get("signals", []) if isinstance(s, dict)}
    signals = []
    for signal in summary.signals:
        prior = old.get(signal.kind)
        if prior is not None:
            moved = prior.get("value") != signal.value
            previous = prior.get("value") if moved else prior.get("previous")
            signal = signal.model_copy(update={"previous": previous})
        signals.append(signal)
    return summary.model_copy(update={"signals": signals})


def end_state(session: Session, alert: Alert, now: datetime, result: ReconcileResult) -> None:
    alert.in_state = False
    if alert.status == AlertStatus.RESOLVED.value:
        return
    alert.status = AlertStatus.RESOLVED.value
    alert.resolved_at, alert.resolved_by = now, None
    alert.snoozed_until, alert.snooze_note = None, None
    touch(session, alert, now)
    result.resolved.append(alert.id)


def touch(session: Session, alert: Alert, now: datetime) -> None:
    """Record a visible change: bump the revision and queue a re-render of the card."""
    alert.revision += 1
    alert.updated_at = now
    if alert.delivery == Delivery.CARD.value:
        # Revisions only grow under the alert's row lock: the key is new, no savepoint needed.
        # An alert on another's card re-renders that card (the message it lives on).
        enqueue(session, f"update:{alert.id}:{alert.revision}", OutboxOp.UPDATE_ALERT,
                card_host(session, alert), now, guard=False)


def thread(
    session: Session, alert: Alert, key: str, now: datetime, payload: dict[str, Any]
) -> None:
    """Queue a follow-up line in the alert's thread (cards only: a digest item has no thread)."""
    if alert.delivery == Delivery.CARD.value:
        enqueue(session, f"thread:{key}", OutboxOp.THREAD, card_host(session, alert), now,
                payload, guard=False)


def enqueue(
    session: Session, key: str, op: OutboxOp, alert: Alert | None, now: datetime,
    payload: dict[str, Any] | None = None, channel: str | None = None, guard: bool = True,
) -> bool:
    """Store a message to send; False if one with this key exists (it is sent once, ever)."""
    row = OutboxMessage(
        dedupe_key=key, op=op.value, alert_id=alert.id if alert else None,
        channel=channel or (alert.channel if alert else None), payload=payload or {},
        status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=now, created_at=now,
    )
    if not guard:
        session.add(row)
        return True
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True
