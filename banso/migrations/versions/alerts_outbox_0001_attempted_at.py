"""When an outbox row's send was started and not yet confirmed (the window of a look-up).

Revision ID: alerts_outbox_0001
Revises: alerts_0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "alerts_outbox_0001"
down_revision = "alerts_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alert_outbox", sa.Column("attempted_at", core.db.UtcDateTime(), nullable=True))


def downgrade() -> None:
    # Batch mode: SQLite before 3.35 cannot drop a column in place.
    with op.batch_alter_table("alert_outbox") as batch:
        batch.drop_column("attempted_at")
