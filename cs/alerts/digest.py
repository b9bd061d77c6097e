"""Tech-touch digests: one message per channel per day instead of one per account.

Items not yet in a digest are gathered per channel into the day's digest (outbox key
`digest:{channel}:{day}`). If that day's digest already exists, new items wait for the next
day's: one digest per channel per day, never a second one. Each item's buttons (take over,
not useful) re-render the posted digest from its items (`posted_digest`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.i18n import Lang
from core.slack.blocks import Message
from cs.alerts import blocks
from cs.alerts.models import Alert, AlertStatus, Delivery, OutboxMessage, OutboxOp
from cs.alerts.service import enqueue


def build_digests(session: Session, day: date, now: datetime) -> list[str]:
    """Queue today's digest for each channel with waiting items; returns their outbox keys."""
    waiting = session.scalars(
        select(Alert)
        .where(Alert.delivery == Delivery.DIGEST.value, Alert.digested_on.is_(None))
        .where(Alert.status.in_([AlertStatus.OPEN.value, AlertStatus.ACKNOWLEDGED.value]))
        .order_by(Alert.id)
    )
    by_channel: dict[str | None, list[Alert]] = defaultdict(list)
    for alert in waiting:
        by_channel[alert.channel].append(alert)
    queued = []
    for channel, alerts in by_channel.items():
        key = f"digest:{channel or '-'}:{day.isoformat()}"
        if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
            continue  # today's digest went out already: these wait for tomorrow's
        payload = {"alert_ids": [a.id for a in alerts], "day": day.isoformat()}
        if enqueue(session, key, OutboxOp.DIGEST, None, now, payload, channel=channel):
            for alert in alerts:
                alert.digested_on = day
            queued.append(key)
    return queued


def posted_digest(session: Session, channel: str | None, ts: str | None,
                  lang: Lang) -> Message | None:
    """The digest posted as (channel, ts), re-rendered from its items as they are now."""
    if not channel or not ts:
        return None
    row = session.scalar(select(OutboxMessage).where(
        OutboxMessage.op == OutboxOp.DIGEST.value, OutboxMessage.channel == channel,
        OutboxMessage.result_ts == ts))
    if row is None:
        return None
    ids = [int(i) for i in row.payload.get("alert_ids", [])]
    items = [(a, a.summary) for a in session.scalars(select(Alert).where(Alert.id.in_(ids)))]
    day = date.fromisoformat(str(row.payload["day"]))
    return Message(blocks.digest_text(len(items), day, lang), blocks.digest(items, day, lang))
