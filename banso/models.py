"""Imports every room's models so Base.metadata (and Alembic) sees all tables."""

import jobs.models  # noqa: F401
