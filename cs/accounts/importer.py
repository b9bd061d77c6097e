"""Idempotent upserts of accounts, contacts and usage: rows in, ImportResult out.

The CLI (CSV) and the ingest API (JSON) both call these through cs.accounts.batch, which runs
one import as one write transaction and commits it. A bad row (out of bounds, a duplicate key
in the file, an unknown account) becomes a RowError and the good rows still go in; a lock or
connection error is no row's fault and aborts the whole import. Rows are written in key order
with INSERT ... ON CONFLICT, so concurrent imports of the same keys queue instead of
deadlocking or refusing each other's rows. Every change of an account's live MRR appends an
MrrChange dated by the row (`effective_date`, `churn_date`) or the import day, each churn with
its reason, so the KPI formulas can replay churn, contraction and expansion from the log alone;
a re-imported churn with another date or reason corrects the latest churn in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from enum import Enum
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, select, tuple_
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from core.db import insert_for
from cs.accounts import rollup
from cs.accounts.models import (
    LIVE_STATUSES,
    Account,
    AccountStatus,
    Contact,
    ContactChange,
    MrrChange,
    MrrReason,
    UsageSnapshot,
)
from cs.accounts.schemas import AccountRow, ContactRow, ImportResult, RowError, UsageRow

Row = TypeVar("Row", bound=BaseModel)
_CHUNK = 500  # keys per IN (...) lookup: well under SQLite's and psycopg's parameter limits


# --- shared ---------------------------------------------------------------------------------

def parse_row(model: type[Row], raw: Mapping[str, Any]) -> Row | str:
    """The validated row, or a reason naming each bad column."""
    if not isinstance(raw, Mapping):
        return "row must be an object of column: value"
    cleaned = {}
    for key, value in raw.items():
        blank = value is None or (isinstance(value, str) and not value.strip())
        field = model.model_fields.get(key)
        if blank and field is not None and not field.is_required() and field.default is not None:
            continue  # blank cell of a column with a default: keep the default / stored value
        cleaned[key] = None if blank else value
    try:
        return model.model_validate(cleaned)
    except ValidationError as exc:
        return "; ".join(_reason(err) for err in exc.errors())


def _reason(err: Any) -> str:
    column = ".".join(str(part) for part in err["loc"]) or "row"
    if err["type"] == "extra_forbidden":
        return f"{column if column.isidentifier() else _shown(column)}: unknown column"
    if err["type"] == "missing" or (err.get("input") is None and err["type"].endswith("_type")):
        return f"{column}: required"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{column}: {message} (got {_shown(err.get('input'))})"


def _shown(value: Any, limit: int = 60) -> str:
    """A bad value as the error shows it: repr (escapes control characters and lone
    surrogates, so the answer always encodes), cut short (never echo a megabyte back)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _line(lines: Sequence[int] | None, index: int) -> int | None:
    return lines[index] if lines is not None else None


def _ref(lines: Sequence[int] | None, index: int) -> int:
    """How an error points at another row: its CSV line, or its index in the API's rows."""
    return lines[index] if lines is not None else index


def in_key_order(items: Iterable[tuple[int, Row]], key: Callable[[Row], Any]
                 ) -> list[tuple[int, Row]]:
    """Rows in the order every import writes them: two imports of the same keys then lock them
    in the same order and one waits for the other instead of deadlocking (PostgreSQL). Stable:
    rows of one key keep their file order."""
    return sorted(items, key=lambda item: key(item[1]))


def _refused(exc: DBAPIError | ValueError) -> str:
    """A constraint the validation missed, or a misdated history row: the row is refused, the
    import goes on. Lock and connection errors are not caught here: they abort the whole
    import (cs.accounts.batch)."""
    if isinstance(exc, DBAPIError):
        return f"database refused the row: {type(exc.orig).__name__}"
    return str(exc)


def _db_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return sorted(_db_value(item) for item in value)
    return value


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


# --- accounts -------------------------------------------------------------------------------

def import_accounts(
    session: Session, rows: Sequence[Mapping[str, Any]], now: datetime,
    *, lines: Sequence[int] | None = None, tz: tzinfo = UTC,
) -> ImportResult:
    result = ImportResult("accounts")
    today = now.astimezone(tz).date()
    for wave in _waves(_valid_accounts(rows, lines, result)):
        _import_wave(session, wave, now, today, lines, result)
    result.errors.sort(key=lambda error: error.index)
    return result


def _valid_accounts(rows: Sequence[Mapping[str, Any]], lines: Sequence[int] | None,
                    result: ImportResult) -> list[tuple[int, AccountRow]]:
    """The rows that validate, with their index; the others become row errors. One row per
    account and date (effective_date, or churn_date): a history file has one row per change."""
    first: dict[tuple[str, date | None], int] = {}
    good: list[tuple[int, AccountRow]] = []
    for index, raw in enumerate(rows):
        row = parse_row(AccountRow, raw)
        reason = row if isinstance(row, str) else row.check_dates()
        if reason is None and isinstance(row, AccountRow):
            if (key := (row.id, row.effective_date or row.churn_date)) in first:
                per = "account and date" if key[1] else "account"
                reason = f"id: duplicate of row {_ref(lines, first[key])} (one row per {per})"
            else:
                first[key] = index
                good.append((index, row))
                continue
        result.errors.append(RowError(index, _line(lines, index), str(reason)))
    return good


def _waves(rows: Sequence[tuple[int, AccountRow]]) -> list[list[tuple[int, AccountRow]]]:
    """Rows split so that no account appears twice in one batch upsert: wave n holds the n-th
    row of every account, in file order (history is imported oldest first)."""
    waves: list[list[tuple[int, AccountRow]]] = []
    seen: dict[str, int] = {}
    for item in rows:
        n = seen[item[1].id] = seen.get(item[1].id, -1) + 1
        if n == len(waves):
            waves.append([])
        waves[n].append(item)
    return waves


def _import_wave(session: Session, good: Sequence[tuple[int, AccountRow]], now: datetime,
                 today: date, lines: Sequence[int] | None, result: ImportResult) -> None:
    for chunk in _chunks(in_key_order(good, lambda row: row.id)):
        for (index, _), outcome in zip(chunk, _upsert_chunk(session, chunk, now, today),
                                       strict=True):
            if outcome in ("inserted", "updated", "unchanged"):
                setattr(result, outcome, getattr(result, outcome) + 1)
            else:
                result.errors.append(RowError(index, _line(lines, index), outcome))


def _upsert_chunk(
    session: Session, chunk: Sequence[tuple[int, AccountRow]], now: datetime, today: date
) -> list[str]:
    """Each row's outcome, or the reason the database refused it: a constraint the validation
    missed fails the chunk's savepoint, and the chunk is redone row by row to find the row."""
    rows = [row for _, row in chunk]
    try:
        with session.begin_nested():
            return _upsert_accounts(session, rows, now, today)
    except (IntegrityError, DataError, HistoryError) as exc:
        if len(rows) == 1:
            return [_refused(exc)]
    outcomes = []
    for row in rows:
        try:
            with session.begin_nested():
                outcomes.extend(_upsert_accounts(session, [row], now, today))
        except (IntegrityError, DataError, HistoryError) as exc:
            outcomes.append(_refused(exc))
    return outcomes


def _upsert_accounts(
    session: Session, rows: Sequence[AccountRow], now: datetime, today: date
) -> list[str]:
    """Rows in key order: one INSERT ... ON CONFLICT DO NOTHING for all, then the ones that
    existed are locked (in the same order) and updated. An id a concurrent import inserted a
    moment ago is thus waited for and updated, never refused; two imports of the same ids
    queue instead of deadlocking."""
    values = [{**{name: _db_value(getattr(row, name)) for name in AccountRow.model_fields
                  if name not in _NOT_STORED},
               "created_at": now, "updated_at": now} for row in rows]
    statement = insert_for(session, Account).on_conflict_do_nothing(index_elements=["id"])
    # executemany: one cached statement, sent as multi-row VALUES batches in the rows' order.
    created = set(session.scalars(statement.returning(Account.id), values))
    stored = _lock_accounts(session, [row.id for row in rows if row.id not in created])
    outcomes = []
    for row, inserted in zip(rows, values, strict=True):
        if row.id in created:
            _log_first_mrr(session, Account(**inserted), today)
            outcomes.append("inserted")
        elif row.id in stored:
            outcomes.append(_update_account(session, stored[row.id], row, now, today))
        else:
            outcomes.append("id: deleted by another process during the import; import it again")
    session.flush()
    return outcomes


def _lock_accounts(session: Session, ids: Sequence[str]) -> dict[str, Account]:
    """The accounts, locked to the commit. NO KEY UPDATE: usage rows being inserted for them
    (FOR KEY SHARE) are not blocked. Locked in the importers' key order: code-point order,
    which PostgreSQL's "C" collation gives whatever the database's own collation is."""
    if not ids:
        return {}
    query = _locked_in_key_order(session, Account, ids).execution_options(populate_existing=True)
    return {account.id: account for account in session.scalars(query)}


def _locked_in_key_order(session: Session, what: Any, ids: Sequence[str]) -> Select[Any]:
    """`what` of these accounts, locked FOR NO KEY UPDATE in the importers' key order."""
    postgres = session.get_bind().dialect.name == "postgresql"
    key = Account.id.collate("C") if postgres else Account.id
    return (select(what).where(Account.id.in_(ids)).order_by(key)
            .with_for_update(key_share=True))


# Columns of the row that describe a change rather than the account: not stored on it.
_NOT_STORED = frozenset({"effective_date"})
_EVENT_COLUMNS = _NOT_STORED | {"id"}  # what an update never writes


class HistoryError(ValueError):
    """A row whose change cannot be placed in the account's MRR history (reason in the text)."""


def _update_account(
    session: Session, account: Account, row: AccountRow, now: datetime, today: date,
) -> str:
    """Apply the row's columns and append the MRR change it makes (HistoryError: misdated)."""
    before = (account.status, account.mrr, account.contract_start, account.churn_date)
    changed = False
    for name in row.model_fields_set - _EVENT_COLUMNS:
        value = _db_value(getattr(row, name))
        if getattr(account, name) != value:
            setattr(account, name, value)
            changed = True
    # The history is checked even when no column changed: a corrected date moves an event.
    last = _last_changes(session, account.id)
    logged = _log_mrr_update(session, account, before, today, row.effective_date, last)
    if logged is MrrReason.REACTIVATION:
        # Back again: the earlier churn keeps its date and reason in the log, and a later churn
        # must not inherit them unless the row says so.
        for name in ("churn_date", "churn_reason"):
            if name not in row.model_fields_set:
                setattr(account, name, None)
    corrected = (logged is None and account.status == AccountStatus.CHURNED
                 and _correct_churn(account, last))  # nothing logged: `last` is still last
    if not (changed or logged or corrected):
        return "unchanged"
    account.updated_at = now
    return "updated"


def live_mrr(status: str, mrr: int) -> int:
    return mrr if status in LIVE_STATUSES else 0


def mrr_reason(before: int, after: int, old_status: str, new_status: str) -> MrrReason:
    if after == 0 and new_status == AccountStatus.CHURNED:
        return MrrReason.CHURN
    if before == 0:
        churned = old_status == AccountStatus.CHURNED
        return MrrReason.REACTIVATION if churned else MrrReason.NEW
    return MrrReason.EXPANSION if after > before else MrrReason.CONTRACTION


def _add_mrr(
    session: Session, account: Account, on: date, before: int, after: int, reason: MrrReason
) -> None:
    churn_reason = account.churn_reason if reason is MrrReason.CHURN else None
    session.add(MrrChange(
        account_id=account.id, effective_on=on, mrr_before=before, mrr_after=after,
        currency=account.currency, reason=reason.value, churn_reason=churn_reason,
        created_at=account.updated_at,
    ))


def _log_first_mrr(session: Session, account: Account, today: date) -> None:
    """A new account's history: from 0 at contract start, then its churn if already churned."""
    if account.mrr <= 0:
        return
    _add_mrr(session, account, account.contract_start, 0, account.mrr, MrrReason.NEW)
    if account.status == AccountStatus.CHURNED:
        _add_mrr(session, account, account.churn_date or today, account.mrr, 0, MrrReason.CHURN)


def _last_changes(session: Session, account_id: str) -> list[MrrChange]:
    """The account's two latest MRR changes, newest first."""
    return list(session.scalars(
        select(MrrChange).where(MrrChange.account_id == account_id)
        .order_by(MrrChange.effective_on.desc(), MrrChange.id.desc()).limit(2)
    ))


def _log_mrr_update(
    session: Session, account: Account, before: tuple[str, int, date, date | None], today: date,
    effective: date | None, last: list[MrrChange],
) -> MrrReason | None:
    """Append the change this row makes to the MRR log (`last`: its two latest changes) and say
    which (None: MRR unchanged). HistoryError for a change dated before the last one."""
    old_status, old_mrr, old_start, old_churn = before
    # The log is the truth for the MRR before; accounts created outside the importer fall back.
    previous = last[0].mrr_after if last else live_mrr(old_status, old_mrr)
    current = live_mrr(account.status, account.mrr)
    if previous == current:
        return None
    reason = mrr_reason(previous, current, old_status, account.status)
    on = effective or today
    if reason is MrrReason.CHURN and account.churn_date is not None:
        on = account.churn_date
    elif (reason is MrrReason.REACTIVATION and effective is None
          and account.contract_start > (old_churn or old_start)):
        on = account.contract_start  # a comeback starts with its new contract
    if last and on < last[0].effective_on:
        raise HistoryError(
            f"effective_date: {on} is before this account's last MRR change on "
            f"{last[0].effective_on}; import history oldest first")
    _add_mrr(session, account, on, previous, current, reason)
    return reason


def _correct_churn(account: Account, last: list[MrrChange]) -> bool:
    """A churned account re-imported with another churn_date or churn_reason: the latest churn
    moves to that day and takes that reason, so the report's past months follow the fix."""
    churn = last[0] if last and last[0].reason == MrrReason.CHURN.value else None
    if churn is None or account.status != AccountStatus.CHURNED:
        return False
    day = account.churn_date or churn.effective_on
    if len(last) > 1 and day < last[1].effective_on:
        raise HistoryError(
            f"churn_date: {day} is before this account's previous MRR change on "
            f"{last[1].effective_on}")
    if (churn.effective_on, churn.churn_reason) == (day, account.churn_reason):
        return False
    churn.effective_on, churn.churn_reason = day, account.churn_reason
    return True


# --- contacts -------------------------------------------------------------------------------

def import_contacts(
    session: Session, rows: Sequence[Mapping[str, Any]], now: datetime,
    *, lines: Sequence[int] | None = None, tz: tzinfo = UTC,
) -> ImportResult:
    result = ImportResult("contacts")
    good = _valid_contacts(rows, lines, result)
    for index, row in in_key_order(good, lambda row: row.account_id):
        reason = _import_contact(session, row, now, result)
        if reason is not None:
            result.errors.append(RowError(index, _line(lines, index), reason))
    result.errors.sort(key=lambda error: error.index)
    return result


def _valid_contacts(
    rows: Sequence[Mapping[str, Any]], lines: Sequence[int] | None, result: ImportResult
) -> list[tuple[int, ContactRow]]:
    """Parsed rows, without a second row for the same person or a second primary contact."""
    good: list[tuple[int, ContactRow]] = []
    first: dict[tuple[str, str], int] = {}  # (account id, email) -> index of its first row
    primary_row: dict[str, int] = {}  # account id -> index of the row naming its primary
    for index, raw in enumerate(rows):
        row = parse_row(ContactRow, raw)
        reason = row if isinstance(row, str) else None
        if isinstance(row, ContactRow):
            key = (row.account_id, row.email)
            if key in first:
                reason = (f"email: duplicate of row {_ref(lines, first[key])} for the same "
                          "account")
            elif row.is_primary and row.account_id in primary_row:
                reason = (f"is_primary: account {row.account_id} already has its primary "
                          f"contact in row {_ref(lines, primary_row[row.account_id])}")
        if reason is not None or isinstance(row, str):
            result.errors.append(RowError(index, _line(lines, index), str(reason)))
            continue
        first[(row.account_id, row.email)] = index
        if row.is_primary:
            primary_row[row.account_id] = index
        good.append((index, row))
    return good


def _import_contact(
    session: Session, row: ContactRow, now: datetime, result: ImportResult
) -> str | None:
    # The account's row lock serialises concurrent imports of its contacts (one primary).
    account = session.get(Account, row.account_id, with_for_update={"key_share": True})
    if account is None:
        return f"account_id: unknown account {row.account_id!r} (import accounts first)"
    try:
        with session.begin_nested():
            outcome, change = _upsert_contact(session, row, now)
    except (IntegrityError, DataError) as exc:
        return _refused(exc)
    setattr(result, outcome, getattr(result, outcome) + 1)
    if change is not None:
        result.contact_changes.append(change.id)
    return None


def _upsert_contact(
    session: Session, row: ContactRow, now: datetime
) -> tuple[str, ContactChange | None]:
    contact = session.scalar(select(Contact).where(
        Contact.account_id == row.account_id, Contact.email == row.email))
    change = _demote_previous_primary(session, row, now) if row.is_primary else None
    if contact is None:
        session.add(Contact(
            account_id=row.account_id, name=row.name, email=row.email, title=row.title,
            is_primary=row.is_primary, slack_user_id=row.slack_user_id,
            created_at=now, updated_at=now,
        ))
        session.flush()
        return "inserted", change
    fields = {"name": row.name, "title": row.title, "is_primary": row.is_primary}
    if row.slack_user_id is not None:  # a file without the column keeps the stored link
        fields["slack_user_id"] = row.slack_user_id
    changed = {key: value for key, value in fields.items() if getattr(contact, key) != value}
    for key, value in changed.items():
        setattr(contact, key, value)
    if not changed:
        return "unchanged", change
    contact.updated_at = now
    session.flush()
    return "updated", change


def _demote_previous_primary(
    session: Session, row: ContactRow, now: datetime
) -> ContactChange | None:
    """The account's primary contact is now someone else: record who it was and where they went."""
    current = session.scalar(select(Contact).where(
        Contact.account_id == row.account_id, Contact.is_primary.is_(True)))
    if current is None or current.email == row.email:
        return None
    current.is_primary = False
    current.updated_at = now
    change = ContactChange(
        account_id=row.account_id, previous_name=current.name, previous_email=current.email,
        new_name=row.name, new_email=row.email, changed_at=now, moved_to=row.moved_to,
    )
    session.add(change)
    session.flush()  # frees the one-primary-per-account index slot and assigns the change id
    return change


# --- usage ----------------------------------------------------------------------------------

_USAGE_VALUES = ("last_login_at", "active_users", "seats", "setup_progress", "inquiries")


def import_usage(
    session: Session, rows: Sequence[Mapping[str, Any]], now: datetime,
    *, lines: Sequence[int] | None = None, tz: tzinfo = UTC,
) -> ImportResult:
    """Bulk upsert of daily snapshots keyed by (account_id, day); sized for millions of rows."""
    result = ImportResult("usage")
    good = _valid_usage(session, rows, now, lines, tz, result)
    existing = _existing_usage(session, list(good))
    writes = []
    for key in sorted(good):  # key order: see in_key_order
        values, stored = good[key], existing.get(key)
        if stored is not None and stored[1:] == tuple(values[name] for name in _USAGE_VALUES):
            result.unchanged += 1
            continue
        writes.append({"account_id": key[0], "day": key[1], **values})
        if stored is None:
            result.inserted += 1
        else:
            result.updated += 1
    # ON CONFLICT: a snapshot another import wrote since the lookup is overwritten (the later
    # write wins, as in sequence), not a unique violation.
    statement = insert_for(session, UsageSnapshot)
    statement = statement.on_conflict_do_update(
        index_elements=["account_id", "day"],
        set_={name: statement.excluded[name] for name in _USAGE_VALUES},
    )
    for chunk in _chunks(writes):
        session.execute(statement, list(chunk))
    _rebuild_rollups(session, sorted({key[0] for key in good}), now.astimezone(tz).date())
    return result


def _rebuild_rollups(session: Session, account_ids: list[str], today: date) -> None:
    """The touched accounts' usage rollups, rebuilt in the import's transaction. On PostgreSQL
    the accounts are locked first, in the importers' key order: an import that wrote other days
    of the same account waits here until this one commits, then rebuilds from both (without
    the lock, each would store a rollup missing the other's rows)."""
    if session.get_bind().dialect.name == "postgresql":
        for chunk in _chunks(account_ids):
            session.execute(_locked_in_key_order(session, Account.id, chunk))
    rollup.rebuild(session.connection(), account_ids, today)


def _valid_usage(
    session: Session, rows: Sequence[Mapping[str, Any]], now: datetime,
    lines: Sequence[int] | None, tz: tzinfo, result: ImportResult,
) -> dict[tuple[str, date], dict[str, Any]]:
    parsed: list[tuple[int, UsageRow]] = []
    for index, raw in enumerate(rows):
        row = parse_row(UsageRow, raw)
        if isinstance(row, str):
            result.errors.append(RowError(index, _line(lines, index), row))
        else:
            parsed.append((index, row))
    known = _known_accounts(session, {row.account_id for _, row in parsed})
    today = now.astimezone(tz).date()
    good: dict[tuple[str, date], dict[str, Any]] = {}
    first_index: dict[tuple[str, date], int] = {}
    for index, row in parsed:
        key = (row.account_id, row.day)
        reason = _usage_problem(row, key, known, today, first_index, lines)
        if reason is not None:
            result.errors.append(RowError(index, _line(lines, index), reason))
            continue
        first_index[key] = index
        login = row.last_login_at
        if login is not None:
            login = (login if login.tzinfo else login.replace(tzinfo=tz)).astimezone(UTC)
        good[key] = {**row.model_dump(include=set(_USAGE_VALUES)), "last_login_at": login}
    result.errors.sort(key=lambda error: error.index)
    return good


def _usage_problem(
    row: UsageRow, key: tuple[str, date], known: set[str], today: date,
    first_index: dict[tuple[str, date], int], lines: Sequence[int] | None,
) -> str | None:
    if row.account_id not in known:
        return f"account_id: unknown account {row.account_id!r} (import accounts first)"
    if row.day > today:
        return f"day: {row.day} is in the future"
    if key in first_index:
        first = first_index[key]
        return f"day: duplicate of row {_ref(lines, first)} for the same account and day"
    return None


def _known_accounts(session: Session, ids: set[str]) -> set[str]:
    known: set[str] = set()
    for chunk in _chunks(sorted(ids)):
        known.update(session.scalars(select(Account.id).where(Account.id.in_(chunk))))
    return known


def _existing_usage(
    session: Session, keys: list[tuple[str, date]]
) -> dict[tuple[str, date], tuple[Any, ...]]:
    u = UsageSnapshot
    found: dict[tuple[str, date], tuple[Any, ...]] = {}
    for chunk in _chunks(sorted(keys)):
        query = select(u.account_id, u.day, u.id, *(getattr(u, name) for name in _USAGE_VALUES))
        for record in session.execute(query.where(tuple_(u.account_id, u.day).in_(chunk))):
            found[(record[0], record[1])] = tuple(record[2:])
    return found


# --- one entry point per kind, shared by the CSV command and the ingest API ---------------

class Importer(Protocol):
    def __call__(
        self, session: Session, rows: Sequence[Mapping[str, Any]], now: datetime,
        *, lines: Sequence[int] | None = None, tz: tzinfo = UTC,
    ) -> ImportResult: ...


KINDS: dict[str, tuple[type[BaseModel], Importer]] = {
    "accounts": (AccountRow, import_accounts),
    "contacts": (ContactRow, import_contacts),
    "usage": (UsageRow, import_usage),
}
