"""Per-account usage rollups (cs.accounts.rollup), back-filled from the stored usage.

The back-fill computes every account's rollup for the migration's local day (settings.timezone),
so the facts read the rollups from the start; a day later they fall back to the usage
aggregate until the next usage import rebuilds them.

Revision ID: jobs_rollup_0001
Revises: jobs_kpis_0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from alembic import op

from cs.accounts.rollup import UsageRollup, rebuild_all

revision = "jobs_rollup_0001"
down_revision = "jobs_kpis_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The table as cs.accounts.rollup defines it: the back-fill below is that module's own
    # aggregate, so a second copy of either here could only drift from what the facts read.
    UsageRollup.metadata.tables[UsageRollup.__tablename__].create(op.get_bind())
    config = op.get_context().config
    tz = ZoneInfo(config.attributes.get("timezone", "UTC") if config else "UTC")
    rebuild_all(op.get_bind(), datetime.now(tz).date())


def downgrade() -> None:
    op.drop_table("usage_rollups")
