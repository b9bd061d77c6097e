"""Usage import: bulk upserts by (account, day), time zones, row errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cs.accounts.importer import import_accounts, import_usage
from cs.accounts.models import UsageSnapshot
from cs.accounts.service import facts_for

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TOKYO = ZoneInfo("Asia/Tokyo")


def setup_account(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        import_accounts(session, [{"id": "C001", "name": "株式会社さくら", "mrr": 100_000,
                                   "contract_start": "2025-01-01"}], NOW)


def usage(day: str, **values: Any) -> dict[str, Any]:
    base = {"account_id": "C001", "day": day, "last_login_at": "2026-11-20 10:00",
            "active_users": "8", "seats": "10", "setup_progress": "60", "inquiries": "1"}
    base.update(values)
    return base


def stored(factory: sessionmaker[Session]) -> list[tuple[date, datetime | None, int, int]]:
    with factory() as session:
        rows = session.scalars(select(UsageSnapshot).order_by(UsageSnapshot.day)).all()
        return [(r.day, r.last_login_at, r.active_users, r.setup_progress) for r in rows]


def test_usage_rows_are_inserted_then_updated_then_unchanged(
    session_factory: sessionmaker[Session],
) -> None:
    setup_account(session_factory)
    rows = [usage("2026-11-23"), usage("2026-11-24")]
    with session_factory.begin() as session:
        first = import_usage(session, rows, NOW, tz=TOKYO)
    with session_factory.begin() as session:
        again = import_usage(session, rows, NOW, tz=TOKYO)
    with session_factory.begin() as session:
        changed = import_usage(session, [usage("2026-11-24", active_users="9")], NOW, tz=TOKYO)
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 0)
    # A login time without an offset is read in the configured zone (10:00 JST = 01:00 UTC).
    login = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert stored(session_factory) == [(date(2026, 11, 23), login, 8, 60),
                                       (date(2026, 11, 24), login, 9, 60)]


def test_login_time_with_an_offset_keeps_its_instant(
    session_factory: sessionmaker[Session],
) -> None:
    setup_account(session_factory)
    with session_factory.begin() as session:
        import_usage(session, [usage("2026-11-24", last_login_at="2026-11-24T08:30:00+09:00")],
                     NOW)
    assert stored(session_factory)[0][1] == datetime(2026, 11, 23, 23, 30, tzinfo=UTC)


def test_bad_usage_rows_are_rejected_and_the_rest_stored(
    session_factory: sessionmaker[Session],
) -> None:
    setup_account(session_factory)
    rows = [
        usage("2026-11-20"),
        usage("2026-11-21", account_id="C404"),
        usage("2026-11-22", setup_progress="120"),
        usage("2026-11-20"),  # same account and day again
        usage((NOW + timedelta(days=2)).date().isoformat()),
        usage("2026-11-23", seats="-1"),
        usage("yesterday"),
    ]
    with session_factory.begin() as session:
        result = import_usage(session, rows, NOW, lines=[2, 3, 4, 5, 6, 7, 8])
    assert result.inserted == 1
    reasons = {error.line: error.reason for error in result.errors}
    assert list(reasons) == [3, 4, 5, 6, 7, 8]
    assert reasons[3] == "account_id: unknown account 'C404' (import accounts first)"
    assert reasons[4].startswith("setup_progress: Input should be less than or equal to 100")
    assert reasons[5] == "day: duplicate of row 2 for the same account and day"
    assert reasons[6] == "day: 2026-11-27 is in the future"
    assert reasons[7].startswith("seats: Input should be greater than or equal to 0")
    assert reasons[8].startswith("day:")


def test_imported_usage_shows_up_in_the_facts(session_factory: sessionmaker[Session]) -> None:
    setup_account(session_factory)
    rows = [usage((NOW.date() - timedelta(days=d)).isoformat(), setup_progress=str(70 - d),
                  inquiries="0", last_login_at=(NOW - timedelta(days=d + 1)).isoformat())
            for d in range(20)]
    with session_factory.begin() as session:
        assert import_usage(session, rows, NOW).inserted == 20
    with session_factory() as session:
        facts = facts_for(session, "C001", NOW)
    assert (facts.setup_progress, facts.setup_progress_14d_ago) == (70, 56)
    assert facts.last_login_at == NOW - timedelta(days=1)


def test_seat_counts_above_the_supported_maximum_are_rejected(
    session_factory: sessionmaker[Session],
) -> None:
    setup_account(session_factory)
    with session_factory.begin() as session:
        result = import_usage(session, [usage("2026-11-24", seats="1,000,000")], NOW)
    assert result.errors[0].reason.startswith("seats: Input should be less than or equal to 999999")
