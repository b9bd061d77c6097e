"""AccountFacts from the database: set-based queries merged in one ordered pass.

`iter_facts` streams result sets ordered by account id — accounts with their usage rollup
(cs.accounts.rollup) for the day asked about, the usage aggregate for the live accounts whose
rollup is of another day (or missing), the last contact change, the last touch per kind — and
walks them together. Each side table only holds ids that exist in `accounts` (foreign keys) and
comes in the same database order, so the merge compares ids for equality only and never
depends on Python agreeing with the database's collation. The rollup saves the usage scan: on
the day of the last usage import the facts read one row per account instead of ~31 snapshots.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, Executable, Select, String, and_, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from cs.accounts.models import (
    LIVE_STATUSES,
    Account,
    ContactChange,
    Touchpoint,
)
from cs.accounts.rollup import NO_USAGE, REDUCED, UsageRollup, reductions
from cs.rules.models import AccountFacts, CommunityActivity

_a, _r = Account, UsageRollup
_STATUS = 7
_ROLLED = 13  # where the rollup's columns start in an accounts row (its account id first)


@dataclass(frozen=True)
class IdRange:
    """Account ids from `start` (inclusive) to `stop` (exclusive), compared by the database
    (its collation), never by Python; None: unbounded on that side."""

    start: str | None = None
    stop: str | None = None

    def of(self, column: InstrumentedAttribute[str]) -> list[ColumnElement[bool]]:
        found = [] if self.start is None else [column >= self.start]
        return found if self.stop is None else [*found, column < self.stop]


ALL_IDS = IdRange()


def id_ranges(session: Session, size: int) -> list[IdRange]:
    """The live accounts cut into consecutive ranges of `size` accounts (the last one
    shorter), which together hold every account id once."""
    numbered = select(_a.id, func.row_number().over(order_by=_a.id).label("n")).where(
        _a.status.in_(LIVE_STATUSES)).subquery()
    cuts = session.scalars(select(numbered.c.id).where((numbered.c.n - 1) % size == 0,
                                                        numbered.c.n > 1)
                           .order_by(numbered.c.id)).all()
    bounds: list[str | None] = [None, *cuts, None]
    return [IdRange(start, stop) for start, stop in pairwise(bounds)]


def live_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(_a)
                          .where(_a.status.in_(LIVE_STATUSES))) or 0


def _accounts_query(today: date) -> Select[*tuple[Any, ...]]:
    """Accounts with their rollup of `today` (NULLs where there is none). Column order matters:
    _facts unpacks these rows positionally (measurably faster at 100k)."""
    return select(
        _a.id, _a.name, _a.mrr, _a.currency, _a.plan, _a.contract_start, _a.renewal_date,
        _a.status, _a.owner_user_id, _a.csm_channel, cast(_a.flags, String()),
        _a.expansion_potential, _a.renewed_at,
        _r.account_id, *(getattr(_r, name) for name in REDUCED),
    ).outerjoin(_r, and_(_r.account_id == _a.id, _r.as_of == today))


def _unrolled_usage(today: date, ids: IdRange) -> Select[Any]:
    """The usage aggregate of the live accounts in `ids` without a rollup of `today`."""
    unrolled = (select(_a.id).outerjoin(_r, and_(_r.account_id == _a.id, _r.as_of == today))
                .where(_r.account_id.is_(None), _a.status.in_(LIVE_STATUSES), *ids.of(_a.id)))
    return reductions(today, unrolled)


class UnknownAccountError(LookupError):
    """No account has the given id."""


def iter_facts(
    session: Session, now: datetime, batch_size: int = 5000,
    community: Mapping[str, CommunityActivity] | None = None, ids: IdRange = ALL_IDS,
) -> Iterator[AccountFacts]:
    """Facts of every live (active or trial) account in `ids`, in account id order.

    Rows are fetched `batch_size` at a time (server-side cursors on PostgreSQL), so memory stays
    flat. Read from a session of its own if you commit writes while iterating. `community`:
    the accounts' community activity by id (cs.community.activity.window_activity), if read.
    """
    found = community or {}
    conn = session.connection()
    today = now.date()

    def stream(query: Executable) -> Iterable[Sequence[Any]]:
        return conn.execute(query.execution_options(yield_per=batch_size))

    accounts = stream(_accounts_query(today).where(*ids.of(_a.id)).order_by(_a.id))
    # Opened at the first account without a rollup: on the day of an import, never.
    usage = _Lookahead(lambda: stream(_unrolled_usage(today, ids)))
    changes = _Lookahead(lambda: stream(_changes_query(ids=ids)))
    touches = _Lookahead(lambda: stream(_touches_query(ids=ids)))
    for account in accounts:
        key = account[0]
        changed, touched = changes.take(key), touches.take_all(key)
        if account[_STATUS] not in LIVE_STATUSES:
            continue
        if account[_ROLLED] is not None:
            used = account[_ROLLED + 1:]
        else:
            row = usage.take(key)
            used = row[1:] if row is not None else NO_USAGE
        yield _facts(account, used, changed[1] if changed else None,
                     {kind: at for _, kind, at in touched}, found.get(key))
    for side in (usage, changes, touches):
        side.expect_exhausted()


def facts_for(
    session: Session, account_id: str, now: datetime,
    community: CommunityActivity | None = None,
) -> AccountFacts:
    """Facts of one account, whatever its status (`community`: its community activity)."""
    conn = session.connection()
    today = now.date()
    account = conn.execute(_accounts_query(today).where(_a.id == account_id)).first()
    if account is None:
        raise UnknownAccountError(f"unknown account id: {account_id}")
    used: Sequence[Any] = account[_ROLLED + 1:]
    if account[_ROLLED] is None:
        row = conn.execute(reductions(today, [account_id])).first()
        used = row[1:] if row is not None else NO_USAGE
    changed = conn.execute(_changes_query(account_id)).first()
    touched = conn.execute(_touches_query(account_id)).all()
    return _facts(account, used, changed[1] if changed else None,
                  {kind: at for _, kind, at in touched}, community)


def _facts(
    account: Sequence[Any], usage: Sequence[Any], change: datetime | None,
    touches: dict[str, datetime], community: CommunityActivity | None = None,
) -> AccountFacts:
    (account_id, name, mrr, currency, plan, contract_start, renewal_date, status, owner,
     channel, flags, expansion, renewed_at) = account[:_ROLLED]
    login, active, seats, setup, setup14, inquiries, ratio30 = usage
    return AccountFacts(
        account_id, name, mrr, currency, plan, contract_start, renewal_date, status, owner,
        channel, _flags(flags), expansion, login, active, seats, setup, setup14,
        inquiries, ratio30, change, touches, renewed_at, community,
    )


def _flags(stored: Any) -> frozenset[str]:
    # Flags are read as text and decoded only when present: decoding "[]" for every one of
    # 100k accounts (which psycopg does for a JSON column) was a third of iter_facts' time.
    if not stored or stored == "[]":
        return frozenset()
    return frozenset(json.loads(stored))


def _changes_query(account_id: str | None = None, ids: IdRange = ALL_IDS
                   ) -> Select[str, datetime]:
    c = ContactChange
    query = (select(c.account_id, func.max(c.changed_at)).where(*ids.of(c.account_id))
             .group_by(c.account_id))
    if account_id is not None:
        query = query.where(c.account_id == account_id)
    return query.order_by(c.account_id)


def _touches_query(account_id: str | None = None, ids: IdRange = ALL_IDS
                   ) -> Select[str, str, datetime]:
    t = Touchpoint
    query = (select(t.account_id, t.kind, func.max(t.at)).where(*ids.of(t.account_id))
             .group_by(t.account_id, t.kind))
    if account_id is not None:
        query = query.where(t.account_id == account_id)
    return query.order_by(t.account_id)


class _Lookahead:
    """One row of lookahead over a result ordered like the accounts; the query runs at the
    first look, so a side nobody asks about costs nothing."""

    def __init__(self, run: Callable[[], Iterable[Sequence[Any]]]) -> None:
        self._run: Callable[[], Iterable[Sequence[Any]]] | None = run
        self._rows: Iterator[Sequence[Any]] = iter(())
        self._head: Sequence[Any] | None = None

    def take(self, key: str) -> Sequence[Any] | None:
        if self._run is not None:
            self._rows, self._run = iter(self._run()), None
            self._head = next(self._rows, None)
        head = self._head
        if head is None or head[0] != key:
            return None
        self._head = next(self._rows, None)
        return head

    def take_all(self, key: str) -> list[Sequence[Any]]:
        taken = []
        while (head := self.take(key)) is not None:
            taken.append(head)
        return taken

    def expect_exhausted(self) -> None:
        if self._head is not None:
            # Only possible if the tables sort account ids differently (e.g. mixed collations).
            raise RuntimeError(f"facts merge lost its place at account id {self._head[0]!r}")
