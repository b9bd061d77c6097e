"""Tech-touch digests: one digest per channel per day instead of one message per account.

Items not yet in a digest are gathered per channel into the day's digest, worst first. Each
item has its buttons (take over, not useful), so a long digest is several messages of
`blocks.DIGEST_PAGE_ITEMS` items: the first (outbox key `digest:{channel}:{day}`) in the
channel, the others (`…:{day}:{page}`) in its thread. If that day's digest already exists, new
items wait for the next day's: never a second digest. A click re-renders the message it was
made in from that message's items (`posted_digest`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.i18n import Lang
from core.slack.blocks import Message
from cs.alerts import blocks
from cs.alerts.models import Alert, AlertStatus, Delivery, DigestPage, OutboxMessage, OutboxOp
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
        queued += _queue_pages(session, key, channel, alerts, day, now)
    return queued


def _queue_pages(session: Session, key: str, channel: str | None, alerts: list[Alert],
                 day: date, now: datetime) -> list[str]:
    """One outbox row per message of the digest; pages after the first go in its thread."""
    alerts = sorted(alerts, key=lambda a: (-a.priority, a.summary.account_name))
    size = blocks.DIGEST_PAGE_ITEMS
    pages = [alerts[i:i + size] for i in range(0, len(alerts), size)]
    queued = []
    for number, items in enumerate(pages, start=1):
        page = DigestPage(alert_ids=[a.id for a in items], day=day, page=number,
                          pages=len(pages), total=len(alerts),
                          parent=key if number > 1 else None)
        page_key = key if number == 1 else f"{key}:{number}"
        if not enqueue(session, page_key, OutboxOp.DIGEST, None, now,
                       page.model_dump(mode="json"), channel=channel):
            break  # queued already (a concurrent run): it has its pages
        for alert in items:
            alert.digested_on = day
        queued.append(page_key)
    return queued


def page_message(session: Session, page: DigestPage, lang: Lang) -> Message:
    """One message of a digest, rendered from its items as they are now."""
    ids = page.alert_ids
    alerts = session.scalars(select(Alert).where(Alert.id.in_(ids))).all() if ids else []
    items = [(a, a.summary) for a in alerts]
    return Message(blocks.digest_text(page, lang), blocks.digest(items, page, lang))


def posted_digest(session: Session, channel: str | None, ts: str | None,
                  lang: Lang) -> Message | None:
    """The digest message posted as (channel, ts), re-rendered from its items as they are now."""
    if not channel or not ts:
        return None
    row = session.scalar(select(OutboxMessage).where(
        OutboxMessage.op == OutboxOp.DIGEST.value, OutboxMessage.channel == channel,
        OutboxMessage.result_ts == ts))
    if row is None:
        return None
    return page_message(session, DigestPage.model_validate(row.payload), lang)
