"""One top-level card per account per local day, kept by the database: `alert_cards` holds the
(account, day) each card claimed, so two job processes racing cannot both post one.

Existing cards are claimed for the local day (settings.timezone) they became cards on, as
`place_card` claims them: the day they were opened, or for a digest item taken over, the day of
the take-over click (its alert opened days earlier, perhaps). Where an earlier race already left
two top-level cards of one account on one day, the first to become a card (the lowest id on a
tie) is that day's card: later alerts join it; the second stays as it is in Slack.

Revision ID: alerts_cards_0001
Revises: alerts_alerts_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import core.db

revision = "alerts_cards_0001"
down_revision = "alerts_alerts_0001"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    cards = op.create_table(
        "alert_cards",
        sa.Column("account_id", sa.String(64),
                  sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="CASCADE"),
                  nullable=False),
    )
    _claim_existing_cards(cards)


def _claim_existing_cards(cards: sa.Table) -> None:
    config = op.get_context().config
    tz = ZoneInfo(config.attributes.get("timezone", "UTC") if config else "UTC")
    alerts = sa.table("alerts", sa.column("id", sa.Integer), sa.column("account_id", sa.String),
                      sa.column("delivery", sa.String), sa.column("card_of", sa.Integer),
                      sa.column("opened_at", core.db.UtcDateTime()))
    actions = sa.table("alert_actions", sa.column("alert_id", sa.Integer),
                       sa.column("action", sa.String), sa.column("at", core.db.UtcDateTime()))
    taken = (sa.select(actions.c.alert_id, sa.func.min(actions.c.at).label("at"))
             .where(actions.c.action == "take_over").group_by(actions.c.alert_id).subquery())
    rows = op.get_bind().execute(
        sa.select(alerts.c.id, alerts.c.account_id, alerts.c.opened_at, taken.c.at)
        .outerjoin(taken, taken.c.alert_id == alerts.c.id)
        .where(alerts.c.delivery == "card", alerts.c.card_of.is_(None)))
    became = sorted((taken_at or opened_at, alert_id, account_id)
                    for alert_id, account_id, opened_at, taken_at in rows)
    claimed: dict[tuple[str, date], int] = {}
    for at, alert_id, account_id in became:
        claimed.setdefault((account_id, at.astimezone(tz).date()), alert_id)
    values = [{"account_id": account, "day": day, "alert_id": alert_id}
              for (account, day), alert_id in claimed.items()]
    for start in range(0, len(values), BATCH):
        op.bulk_insert(cards, values[start:start + BATCH])


def downgrade() -> None:
    op.drop_table("alert_cards")
