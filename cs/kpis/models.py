"""Stored daily snapshots of the book, so a past month's point-in-time figures are its own.

A snapshot is a handful of counts per day (total, per owner, per touch model, per health
band), not a copy of every account: a year of them is a few thousand rows for any book size.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utc_now
from core.db import Base


class Dimension(StrEnum):
    TOTAL = "total"  # key "all"
    OWNER = "owner"  # key: the owner's Slack user id, or "(unassigned)"
    TOUCH_MODEL = "touch_model"
    HEALTH_BAND = "health_band"


class BookSnapshot(Base):
    """How many live accounts had `key` in `dimension` at the end of `day` (team's zone)."""

    __tablename__ = "kpi_book_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    dimension: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    accounts: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(default=utc_now)

    __table_args__ = (
        UniqueConstraint("day", "dimension", "key", name="uq_kpi_book_snapshots_day_key"),
    )
