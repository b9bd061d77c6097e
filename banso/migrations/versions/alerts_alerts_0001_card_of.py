"""Alerts of one account that fire the same day share one card: `card_of` names the alert
whose Slack message carries this one (NULL: the alert has a card of its own).

Revision ID: alerts_alerts_0001
Revises: alerts_0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "alerts_alerts_0001"
down_revision = "alerts_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("card_of", sa.Integer(), nullable=True))
    op.create_index("ix_alerts_card_of", "alerts", ["card_of"])


def downgrade() -> None:
    op.drop_index("ix_alerts_card_of", table_name="alerts")
    # Batch mode: SQLite before 3.35 cannot drop a column in place.
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("card_of")
