"""Alembic environment: runs on the engine Banso hands over (see banso.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import banso.models  # noqa: F401  (registers every table on Base.metadata)
from core.db import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(
    config.get_main_option("sqlalchemy.url") or "sqlite:///var/core.db"
)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
