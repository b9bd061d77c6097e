"""A card as Slack shows it, read from the database: the alert and those that joined its card.

The outbox renders every post and update through `render`, so a card shared by several
alerts of one account (cs.alerts.service: same owner, same local day) always shows all of
them, each with its own state.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.i18n import Lang
from core.slack.blocks import Message
from cs.alerts import blocks
from cs.alerts.models import Alert


def render(session: Session, alert: Alert, lang: Lang) -> Message:
    """The whole message `alert`'s card is: its text and blocks."""
    guests = session.scalars(select(Alert).where(Alert.card_of == alert.id).order_by(Alert.id))
    parts = [(a, a.summary) for a in [alert, *guests]]
    return Message(blocks.group_text(parts, lang), blocks.group_card(parts, lang))
