"""Daily book snapshots: written by the `book_snapshot` job, read for a period's end.

`take` stores today's counts (replacing any taken earlier today, so a re-run is harmless);
`book_at_end` gives a period the book of the last snapshot taken on one of its days, or None
when there is none (the report then says "as of now").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from cs.kpis.formulas import AccountRow, BookKpis, Period, book, book_of_counts
from cs.kpis.models import BookSnapshot, Dimension


def take(session: Session, day: date, rows: Iterable[AccountRow], now: datetime) -> BookKpis:
    """Store the book of `day` (the live accounts as assessed now); returns what was stored."""
    kpis = book(rows)
    counts = [(Dimension.TOTAL, "all", kpis.accounts)]
    counts += [(Dimension.OWNER, k, v) for k, v in kpis.per_csm.items()]
    counts += [(Dimension.TOUCH_MODEL, k, v) for k, v in kpis.by_touch_model.items()]
    counts += [(Dimension.HEALTH_BAND, k, v) for k, v in kpis.by_health_band.items()]
    session.execute(delete(BookSnapshot).where(BookSnapshot.day == day))
    session.execute(insert(BookSnapshot), [
        {"day": day, "dimension": d.value, "key": k, "accounts": n, "taken_at": now}
        for d, k, n in counts
    ])
    return kpis


def book_at_end(session: Session, period: Period) -> tuple[date, BookKpis] | None:
    """The latest snapshot taken on a day of `period`, as (its day, the book then)."""
    s = BookSnapshot
    day = session.scalar(select(func.max(s.day)).where(s.day >= period.start, s.day < period.end))
    if day is None:
        return None
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for dimension, key, accounts in session.execute(
        select(s.dimension, s.key, s.accounts).where(s.day == day)
    ):
        counts[dimension][key] = accounts
    return day, book_of_counts(counts[Dimension.TOTAL.value].get("all", 0),
                               counts[Dimension.OWNER.value],
                               counts[Dimension.TOUCH_MODEL.value],
                               counts[Dimension.HEALTH_BAND.value])
