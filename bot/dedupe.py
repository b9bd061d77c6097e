"""One message, one answer: claim a Slack message by (channel, ts) with a unique insert.

Slack retries an event it thinks was not acknowledged (`X-Slack-Retry-Num`), and a mention in an
auto-answer channel arrives twice (`app_mention` and `message`). Whichever delivery inserts the
row first answers; the database's unique key makes that true across replicas too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.models import SlackEventSeen

KEEP_SEEN = timedelta(days=7)  # Slack retries within minutes; a week is generous


def claim_message(
    factory: sessionmaker[Session], channel: str, ts: str, now: datetime,
    event_id: str | None = None,
) -> bool:
    """True if this call is the first to take on the message; False for a duplicate delivery."""
    with factory() as session:
        session.add(SlackEventSeen(channel=channel, ts=ts, event_id=event_id, seen_at=now))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
    return True


def forget_old(session: Session, now: datetime, keep: timedelta = KEEP_SEEN) -> int:
    """Delete dedupe rows older than `keep` (called by housekeeping; returns rows deleted)."""
    result = session.execute(delete(SlackEventSeen).where(SlackEventSeen.seen_at < now - keep))
    return int(getattr(result, "rowcount", 0) or 0)
