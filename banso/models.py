"""Imports every domain's models so Base.metadata (and Alembic) sees all tables."""

import bot.models  # noqa: F401
import jobs.models  # noqa: F401
