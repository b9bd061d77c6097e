"""Idempotent upserts of accounts, contacts and usage: rows in, ImportResult out.

The CLI (CSV) and the ingest API (JSON) both call these; a bad row becomes a RowError and the
good rows still go in. Callers commit. Every change of an account's live MRR appends an
MrrChange, so the KPI formulas can replay churn, contraction and expansion from the log alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from enum import Enum
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

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
    if err["type"] == "missing" or (err.get("input") is None and err["type"].endswith("_type")):
        return f"{column}: required"
    if err["type"] == "extra_forbidden":
        return f"{column}: unknown column"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{column}: {message} (got {err.get('input')!r})"


def _line(lines: Sequence[int] | None, index: int) -> int | None:
    return lines[index] if lines is not None else None


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
    for index, raw in enumerate(rows):
        row = parse_row(AccountRow, raw)
        reason = row if isinstance(row, str) else row.check_dates()
        if reason is None and not isinstance(row, str):
            try:
                with session.begin_nested():
                    outcome = _upsert_account(session, row, now, today)
                setattr(result, outcome, getattr(result, outcome) + 1)
                continue
            except DBAPIError as exc:
                reason = f"database refused the row: {type(exc.orig).__name__}"
        result.errors.append(RowError(index, _line(lines, index), str(reason)))
    return result


def _upsert_account(session: Session, row: AccountRow, now: datetime, today: date) -> str:
    account = session.get(Account, row.id)
    if account is None:
        values = {name: _db_value(getattr(row, name)) for name in AccountRow.model_fields}
        account = Account(**values, created_at=now, updated_at=now)
        session.add(account)
        _log_first_mrr(session, account, today)
        return "inserted"
    before = (account.status, account.mrr, account.contract_start, account.churn_date)
    changed = False
    for name in row.model_fields_set - {"id"}:
        value = _db_value(getattr(row, name))
        if getattr(account, name) != value:
            setattr(account, name, value)
            changed = True
    if not changed:
        return "unchanged"
    account.updated_at = now
    _log_mrr_update(session, account, before, today)
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
    session.add(MrrChange(
        account_id=account.id, effective_on=on, mrr_before=before, mrr_after=after,
        currency=account.currency, reason=reason.value, created_at=account.updated_at,
    ))


def _log_first_mrr(session: Session, account: Account, today: date) -> None:
    """A new account's history: from 0 at contract start, then its churn if already churned."""
    if account.mrr <= 0:
        return
    _add_mrr(session, account, account.contract_start, 0, account.mrr, MrrReason.NEW)
    if account.status == AccountStatus.CHURNED:
        _add_mrr(session, account, account.churn_date or today, account.mrr, 0, MrrReason.CHURN)


def _log_mrr_update(
    session: Session, account: Account, before: tuple[str, int, date, date | None], today: date
) -> None:
    old_status, old_mrr, old_start, old_churn = before
    last = session.scalar(
        select(MrrChange.mrr_after).where(MrrChange.account_id == account.id)
        .order_by(MrrChange.effective_on.desc(), MrrChange.id.desc()).limit(1)
    )
    # The log is the truth for the MRR before; accounts created outside the importer fall back.
    previous = last if last is not None else live_mrr(old_status, old_mrr)
    current = live_mrr(account.status, account.mrr)
    if previous == current:
        return
    reason = mrr_reason(previous, current, old_status, account.status)
    on = today
    if reason is MrrReason.CHURN and account.churn_date is not None:
        on = account.churn_date
    elif reason is MrrReason.REACTIVATION and account.contract_start > (old_churn or old_start):
        on = account.contract_start  # a comeback starts with its new contract
    _add_mrr(session, account, on, previous, current, reason)


# --- contacts -------------------------------------------------------------------------------

def import_contacts(
    session: Session, rows: Sequence[Mapping[str, Any]], now: datetime,
    *, lines: Sequence[int] | None = None, tz: tzinfo = UTC,
) -> ImportResult:
    result = ImportResult("contacts")
    primary_row: dict[str, int] = {}  # account id -> index of the row naming its primary
    for index, raw in enumerate(rows):
        row = parse_row(ContactRow, raw)
        reason = row if isinstance(row, str) else None
        if isinstance(row, ContactRow) and row.is_primary and row.account_id in primary_row:
            first = primary_row[row.account_id]
            reason = (f"is_primary: account {row.account_id} already has its primary contact in "
                      f"row {_line(lines, first) or first}")
        if reason is None and isinstance(row, ContactRow):
            reason = _import_contact(session, row, now, result)
            if reason is None and row.is_primary:
                primary_row[row.account_id] = index
        if reason is not None:
            result.errors.append(RowError(index, _line(lines, index), reason))
    return result


def _import_contact(
    session: Session, row: ContactRow, now: datetime, result: ImportResult
) -> str | None:
    if session.get(Account, row.account_id) is None:
        return f"account_id: unknown account {row.account_id!r} (import accounts first)"
    try:
        with session.begin_nested():
            outcome, change = _upsert_contact(session, row, now)
    except DBAPIError as exc:
        return f"database refused the row: {type(exc.orig).__name__}"
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
    inserts, updates = [], []
    for key, values in good.items():
        stored = existing.get(key)
        if stored is None:
            inserts.append({"account_id": key[0], "day": key[1], **values})
        elif stored[1:] != tuple(values[name] for name in _USAGE_VALUES):
            updates.append({"id": stored[0], **values})
        else:
            result.unchanged += 1
    for chunk in _chunks(inserts):
        session.execute(insert(UsageSnapshot), list(chunk))
    for chunk in _chunks(updates):
        session.execute(update(UsageSnapshot), list(chunk))
    result.inserted, result.updated = len(inserts), len(updates)
    return result


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
        return f"day: duplicate of row {_line(lines, first) or first} for the same account and day"
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
