"""The reason a snooze was given with, shown on the card while the alert sleeps.

Revision ID: alerts_0002
Revises: alerts_0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "alerts_0002"
down_revision = "alerts_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("snooze_note", sa.Text(), nullable=True))


def downgrade() -> None:
    # Batch mode: SQLite before 3.35 cannot drop a column in place.
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("snooze_note")
