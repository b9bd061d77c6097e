"""Fuzz both import paths (Hypothesis): whatever the values of a JSON row or the bytes of a CSV
file, the import never raises, and every value it accepts lies within the documented bounds
(docs/import.md, Bounds) — so no value reaches the database unchecked."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cs.accounts.batch import import_batch
from cs.accounts.csvfile import ImportFileError, read_csv
from cs.accounts.importer import parse_row
from cs.accounts.models import Account, Contact, UsageSnapshot
from cs.accounts.schemas import (
    FIRST_DAY,
    LAST_DAY,
    MAX_DAILY_COUNT,
    MAX_MRR,
    MAX_SEATS,
    AccountRow,
    ContactRow,
    UsageRow,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
BOUNDS = {"mrr": MAX_MRR, "seats": MAX_SEATS, "active_users": MAX_SEATS, "setup_progress": 100,
          "inquiries": MAX_DAILY_COUNT}
MODELS: dict[str, type[BaseModel]] = {"accounts": AccountRow, "contacts": ContactRow,
                                      "usage": UsageRow}

# What a client can put in a JSON value, weighted towards the edges of every bound.
edge_numbers = st.sampled_from([0, -1, 100, 101, MAX_SEATS, MAX_SEATS + 1, MAX_DAILY_COUNT + 1,
                                MAX_MRR, MAX_MRR + 1, 2**31, 2**63, 10**20, -(10**20)])
numbers = st.one_of(edge_numbers, st.integers(), st.floats(allow_nan=True, allow_infinity=True))
edge_texts = st.sampled_from([
    "1,200,000", "¥500,000", "１２０，０００", "NaN", "inf", "-0", "1e20", "0x10", "٣", "9" * 50,
    "1969-12-31", "1970-01-01", "2100-12-31", "2101-01-01", "99999-01-01", "0001-01-01",
    "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "2026-11-20 10:00", "a\x00b",
    "\ud800", "<!here>", "true", "はい", "brand;famous", "U0AB12", "x@y.jp", " ", ""])
texts = st.one_of(edge_texts, st.text(max_size=80))
values = st.one_of(numbers, texts, st.booleans(), st.none(),
                   st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                        st.integers(), max_size=2))


# A valid row of each kind, so that a fuzzed row is often one bad value away from going in.
VALID: dict[type[BaseModel], dict[str, Any]] = {
    AccountRow: {"id": "F1", "name": "Acme", "mrr": 1, "contract_start": "2025-01-01"},
    ContactRow: {"account_id": "C1", "name": "山田 太郎", "email": "taro@example.jp",
                 "is_primary": "false"},
    UsageRow: {"account_id": "C1", "day": "2026-11-01", "seats": "1,000", "inquiries": 2},
}


@st.composite
def rows_for(draw: st.DrawFn, model: type[BaseModel]) -> dict[str, Any]:
    columns = st.sampled_from([*model.model_fields, "extra"])
    how_many = draw(st.sampled_from([0, 1, 1, 2]))
    changes = draw(st.dictionaries(columns, values, max_size=how_many))
    base = dict(VALID[model]) if draw(st.integers(0, 4)) else {}
    n = draw(st.integers(1, 10_000))  # distinct keys, so that rows are not only duplicates
    keys = {AccountRow: {"id": f"F{n}"}, ContactRow: {"email": f"p{n}@example.jp"},
            UsageRow: {"day": (date(2026, 1, 1) + timedelta(days=n % 300)).isoformat()}}
    return {**base, **(keys[model] if base else {}), **changes}


def assert_within_bounds(row: BaseModel) -> None:
    for name, value in row:
        if name in BOUNDS:
            assert isinstance(value, int) and not isinstance(value, bool)
            assert 0 <= value <= BOUNDS[name], (name, value)
        if isinstance(value, date):
            day = value.date() if isinstance(value, datetime) else value
            assert FIRST_DAY <= day <= LAST_DAY, (name, value)
        if isinstance(value, str):
            value.encode("utf-8")  # no lone surrogate
            assert "\x00" not in value and all(c >= " " or c in "\t\n\r" for c in value)


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(list(MODELS)), raw=st.data())
def test_every_value_a_json_row_can_carry_is_refused_or_within_bounds(
    kind: str, raw: st.DataObject,
) -> None:
    model = MODELS[kind]
    row = parse_row(model, raw.draw(rows_for(model)))
    if isinstance(row, str):
        row.encode("utf-8")  # the reason is always sendable as JSON and printable
        assert len(row) < 2000
    else:
        assert_within_bounds(row)


def stored(factory: sessionmaker[Session]) -> list[BaseModel]:
    """Everything in the database, read back through the import models' eyes."""
    with factory() as session:
        accounts = [AccountRow.model_validate({c: getattr(a, c) for c in AccountRow.model_fields
                                               if hasattr(a, c)})  # not effective_date
                    for a in session.scalars(select(Account))]
        usage = [UsageRow.model_validate({c: getattr(u, c) for c in UsageRow.model_fields})
                 for u in session.scalars(select(UsageSnapshot))]
        contacts = [ContactRow.model_validate({c: getattr(p, c) for c in ContactRow.model_fields
                                               if c != "moved_to"})
                    for p in session.scalars(select(Contact))]
    return [*accounts, *usage, *contacts]


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(list(MODELS)), raw=st.data())
def test_json_rows_fuzzed_into_the_database_never_raise_and_store_only_bounded_values(
    session_factory: sessionmaker[Session], kind: str, raw: st.DataObject,
) -> None:
    import_batch(session_factory, "accounts", [{"id": "C1", "name": "Acme", "mrr": 1,
                                                "contract_start": "2025-01-01"}], NOW)
    rows = raw.draw(st.lists(rows_for(MODELS[kind]), max_size=6))
    result = import_batch(session_factory, kind, rows, NOW)
    assert result.inserted + result.updated + result.unchanged + result.rejected == len(rows)
    for row in stored(session_factory):
        assert_within_bounds(row)


# CP932 characters that survive a round trip (a few map to other code points on the way back).
cp932_text = st.text(alphabet=st.characters(codec="cp932", exclude_characters="¢£¬‖−〜"),
                     max_size=12)
csv_cells = st.one_of(edge_texts, cp932_text,
                      st.sampled_from(["\"a,b\"", "\"unterminated", "a\"b", "\r", "\n"]))


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = draw(st.lists(st.sampled_from([*AccountRow.model_fields, "Mrr", "", "x"]),
                           min_size=1, max_size=6))
    lines = [",".join(header)]
    for _ in range(draw(st.integers(0, 5))):
        lines.append(",".join(draw(st.lists(csv_cells, max_size=len(header) + 2))))
    text = "\r\n".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp932", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):  # a stray byte somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + bytes([draw(st.integers(0x80, 0xFF))]) + data[at:]
    return data


@settings(max_examples=80, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=csv_files())
def test_any_csv_file_is_refused_in_one_line_or_imports_only_bounded_values(
    session_factory: sessionmaker[Session], tmp_path: Path, data: bytes,
) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    try:
        parsed = read_csv(path, AccountRow)
    except ImportFileError as exc:
        assert "\n" not in str(exc).strip() and str(exc).startswith(str(path))
        return
    assert len(parsed.rows) == len(parsed.lines)
    assert all(isinstance(row, Mapping) for row in parsed.rows)
    result = import_batch(session_factory, "accounts", parsed.rows, NOW, lines=parsed.lines)
    assert all(error.line in parsed.lines for error in result.errors)
    for row in stored(session_factory):
        assert_within_bounds(row)
