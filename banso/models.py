"""Imports every room's models so Base.metadata (and Alembic) sees all tables."""

import bot.handoffs  # noqa: F401
import cs.accounts.rollup
import cs.community.models  # noqa: F401
import jobs.models  # noqa: F401
