"""Days as a person reads them: calendar days in the team's time zone, not 24-hour periods.

A login at 23:00 yesterday is "1日前" this morning, and one 20 calendar days back is "20日前"
even when fewer than 20 × 24 hours have passed. Callers pass `now` already in the team's time
zone (`Services.local_now()`, `SelectionContext.now`); every stored time is read in that zone.
"""

from __future__ import annotations

from datetime import date, datetime


def local_day(at: datetime, now: datetime) -> date:
    """The calendar day of `at` in `now`'s time zone."""
    if now.tzinfo is None or at.tzinfo is None:
        return at.date()
    return at.astimezone(now.tzinfo).date()


def days_ago(at: datetime, now: datetime) -> int:
    """Calendar days from `at` to `now` in `now`'s time zone (0 = today)."""
    return (now.date() - local_day(at, now)).days
