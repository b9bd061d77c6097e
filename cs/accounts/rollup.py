"""Per-account usage reductions, kept in `usage_rollups` so the daily rules skip the usage scan.

`reductions` is the one grouped aggregate over `usage_snapshots` the rules need (latest
snapshot, the ones 14 and 30 days back, logins, inquiries), computed for one local day. A
`UsageRollup` row is that aggregate stored for the day in `as_of`: the usage importer
rebuilds the rows of the accounts it touched in its own transaction, so a row is the aggregate
of its day until usage changes. Nothing rebuilds rows as days pass: an account's row is of
the local day of its last usage import (or of the demo seed, or of the migration's back-fill,
the only other writers). `cs.accounts.facts` reads the row when `as_of` is the day it is
asked about and falls back to the aggregate otherwise (a day later the windows have moved):
on a day without a usage import, every live account's facts come from the aggregate.

Measured (docs/benchmarks.md, "Daily health + alert selection"): the aggregate costs 1.6x the
plain GROUP BY over usage; reading 100,000 rollup rows joined to the accounts costs a few % of
that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Float,
    ForeignKey,
    Integer,
    Select,
    String,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from core.db import Base
from cs.accounts.models import Account, UsageSnapshot

# Snapshots older than this are not read: the facts look back at most 30 days, and bounding the
# scan keeps the cost flat as years of daily snapshots pile up.
USAGE_LOOKBACK_DAYS = 45
SETUP_COMPARE_DAYS = 14
RATIO_COMPARE_DAYS = 30
INQUIRY_WINDOW_DAYS = 30
_CHUNK = 500  # accounts per rebuild statement: well under SQLite's and psycopg's parameter limits
REBUILD_BATCH = 5000  # rows `rebuild_all` fetches and upserts at a time: memory holds one batch


class UsageRollup(Base):
    """One account's usage reductions for the local day `as_of` (see `reductions`)."""

    __tablename__ = "usage_rollups"

    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    as_of: Mapped[date] = mapped_column(Date)
    last_login_at: Mapped[datetime | None]
    active_users: Mapped[int] = mapped_column(Integer)  # latest snapshot
    seats: Mapped[int] = mapped_column(Integer)
    setup_progress: Mapped[int] = mapped_column(Integer)
    setup_progress_14d_ago: Mapped[int | None] = mapped_column(Integer)
    inquiries_30d: Mapped[int] = mapped_column(BigInteger)
    active_ratio_30d_ago: Mapped[float | None] = mapped_column(Float)


# The reductions in AccountFacts' order; `reductions` selects them after the account id.
REDUCED = ("last_login_at", "active_users", "seats", "setup_progress", "setup_progress_14d_ago",
           "inquiries_30d", "active_ratio_30d_ago")
NO_USAGE: tuple[Any, ...] = (None, 0, 0, 0, None, 0, None)  # an account without snapshots


# One aggregate pass instead of joining back to the snapshot rows: each snapshot is packed into
# one integer that sorts by day first, so max() over it yields the latest snapshot's numbers.
# Joining back made PostgreSQL re-run the aggregate per worker (4-5x the plain GROUP BY); the
# packed form costs 1.2-1.6x. Layout: day offset | setup (3 digits) | active (6) | seats (6).
# Seats and active users stay below 10**6 (cs.accounts.schemas.MAX_SEATS).
_DAY, _SETUP, _ACTIVE = 10**15, 10**12, 10**6


class _days_since(FunctionElement[int]):
    """Whole days from a start date to a DATE column, on SQLite and PostgreSQL."""

    type = BigInteger()
    inherit_cache = True
    name = "days_since"


@compiles(_days_since, "sqlite")
def _days_since_sqlite(element: _days_since, compiler: Any, **kw: Any) -> str:
    column, start = list(element.clauses)
    return (f"CAST(julianday({compiler.process(column, **kw)}) - "
            f"julianday({compiler.process(start, **kw)}) AS INTEGER)")


@compiles(_days_since, "postgresql")
def _days_since_postgresql(element: _days_since, compiler: Any, **kw: Any) -> str:
    column, start = list(element.clauses)
    return (f"CAST({compiler.process(column, **kw)} - "
            f"CAST({compiler.process(start, **kw)} AS DATE) AS BIGINT)")


def reductions(today: date, accounts: Sequence[str] | Select[Any] | None = None) -> Select[Any]:
    """Per account with snapshots in the window: its id, then the REDUCED values for `today`,
    ordered by account id; of the `accounts` given (ids, or a query of ids) or of all."""
    u = UsageSnapshot
    start = today - timedelta(days=USAGE_LOOKBACK_DAYS)
    d14 = today - timedelta(days=SETUP_COMPARE_DAYS)
    d30 = today - timedelta(days=RATIO_COMPARE_DAYS)
    inquiry_from = today - timedelta(days=INQUIRY_WINDOW_DAYS)
    packed = (
        _days_since(u.day, start) * _DAY
        + cast(u.setup_progress, BigInteger) * _SETUP
        + cast(u.active_users, BigInteger) * _ACTIVE
        + u.seats
    )
    grouped = (
        select(
            u.account_id.label("account_id"),
            func.max(u.last_login_at).label("login"),
            func.sum(case((u.day > inquiry_from, u.inquiries), else_=0)).label("inquiries"),
            func.max(packed).label("latest"),
            func.max(case((u.day <= d14, packed))).label("at14"),
            func.max(case((u.day <= d30, packed))).label("at30"),
        )
        .where(u.day >= start, u.day <= today)
        .group_by(u.account_id)
    )
    if accounts is not None:
        grouped = grouped.where(u.account_id.in_(accounts))
    totals = grouped.subquery()
    latest, at14, at30 = totals.c.latest, totals.c.at14, totals.c.at30
    seats30 = at30 % _ACTIVE
    return select(
        totals.c.account_id,
        totals.c.login,
        latest % _SETUP // _ACTIVE,
        latest % _ACTIVE,
        latest % _DAY // _SETUP,
        at14 % _DAY // _SETUP,
        cast(func.coalesce(totals.c.inquiries, 0), BigInteger),
        case((seats30 > 0, cast(at30 % _SETUP // _ACTIVE, Float) / seats30)),
    ).order_by(totals.c.account_id)


def rebuild(conn: Connection, account_ids: Sequence[str], today: date) -> None:
    """Store the reductions of these accounts for `today` (one row each, with or without
    snapshots). The caller holds what keeps their usage still until it commits: the usage
    importer, the accounts' row locks (PostgreSQL) or the one write lock (SQLite)."""
    for start in range(0, len(account_ids), _CHUNK):
        chunk = account_ids[start:start + _CHUNK]
        found = {row[0]: tuple(row[1:]) for row in conn.execute(reductions(today, chunk))}
        _upsert(conn, [(key, found.get(key, NO_USAGE)) for key in chunk], today)


def rebuild_all(conn: Connection, today: date) -> int:
    """Every account's rollup for `today` (the migration's back-fill, benchmarks); returns the
    number of rows written. Streams the aggregate, so memory holds one batch and the ids."""
    with_usage: set[str] = set()
    batch: list[tuple[str, tuple[Any, ...]]] = []
    for row in conn.execute(reductions(today).execution_options(yield_per=REBUILD_BATCH)):
        with_usage.add(row[0])
        batch.append((row[0], tuple(row[1:])))
        if len(batch) == REBUILD_BATCH:
            _upsert(conn, batch, today)
            batch = []
    _upsert(conn, batch, today)
    without = [key for key in conn.scalars(select(Account.id)) if key not in with_usage]
    for start in range(0, len(without), REBUILD_BATCH):
        _upsert(conn, [(key, NO_USAGE) for key in without[start:start + REBUILD_BATCH]], today)
    return len(with_usage) + len(without)


def _upsert(conn: Connection, rows: Iterable[tuple[str, tuple[Any, ...]]], today: date) -> None:
    values = [{"account_id": key, "as_of": today, **dict(zip(REDUCED, reduced, strict=True))}
              for key, reduced in rows]
    if not values:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(UsageRollup)
    statement = statement.on_conflict_do_update(
        index_elements=["account_id"],
        set_={name: statement.excluded[name] for name in ("as_of", *REDUCED)},
    )
    conn.execute(statement, values)
