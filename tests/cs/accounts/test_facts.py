"""Facts read from the database for the rules, touchpoints, and the migration matching models."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import Base
from core.rules_config import load_rules
from cs.accounts.facts import id_ranges
from cs.accounts.models import Account, ContactChange, Touchpoint, UsageSnapshot
from cs.accounts.service import (
    TouchpointError,
    UnknownAccountError,
    facts_for,
    iter_facts,
    record_touchpoint,
)
from cs.rules.rules import assess

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
MY_TABLES = {"accounts", "contacts", "contact_changes", "usage_snapshots", "touchpoints",
             "mrr_changes"}


def add_account(session: Session, account_id: str, **values: object) -> Account:
    fields: dict[str, object] = {
        "name": f"株式会社{account_id}", "mrr": 100_000, "contract_start": date(2025, 1, 1),
        "status": "active", "flags": [], "created_at": NOW, "updated_at": NOW,
    }
    fields.update(values)
    account = Account(id=account_id, **fields)
    session.add(account)
    return account


def add_usage(session: Session, account_id: str, days_ago: int, **values: object) -> None:
    fields: dict[str, object] = {"active_users": 5, "seats": 10, "setup_progress": 50,
                                 "inquiries": 0, "last_login_at": None}
    fields.update(values)
    session.add(UsageSnapshot(account_id=account_id, day=TODAY - timedelta(days=days_ago),
                              **fields))


def _table_name(obj: object, kind: str) -> str:
    table = obj if kind == "table" else getattr(obj, "table", None)
    return str(getattr(table, "name", ""))


def test_migration_creates_exactly_the_model_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_object": lambda obj, name, kind, *_: _table_name(obj, kind) in MY_TABLES,
        })
        assert compare_metadata(context, Base.metadata) == []


def test_facts_combine_latest_usage_history_contacts_and_touches(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as session:
        add_account(session, "A1", flags=["brand"], expansion_potential="upsell")
        for days_ago in range(31):
            add_usage(session, "A1", days_ago, setup_progress=80 - days_ago,
                      active_users=6 if days_ago < 30 else 9, inquiries=1,
                      last_login_at=NOW - timedelta(days=days_ago + 2))
        add_usage(session, "A1", 40, inquiries=50)  # outside the 30-day inquiry window
        session.add(ContactChange(account_id="A1", new_name="新担当", new_email="n@example.jp",
                                  changed_at=NOW - timedelta(days=3)))
        session.add(ContactChange(account_id="A1", new_name="旧担当", new_email="o@example.jp",
                                  changed_at=NOW - timedelta(days=300)))
        for kind, days in [("call", 5), ("call", 40), ("meeting", 20)]:
            session.add(Touchpoint(account_id="A1", kind=kind, at=NOW - timedelta(days=days),
                                   created_at=NOW))
    with session_factory() as session:
        facts = facts_for(session, "A1", NOW)
    assert facts.last_login_at == NOW - timedelta(days=2)
    assert (facts.active_users, facts.seats, facts.setup_progress) == (6, 10, 80)
    assert facts.setup_progress_14d_ago == 66
    assert facts.active_ratio_30d_ago == pytest.approx(0.9)
    assert facts.inquiries_30d == 30  # days 0..29
    assert facts.last_contact_change_at == NOW - timedelta(days=3)
    assert facts.last_touch_at == {"call": NOW - timedelta(days=5),
                                   "meeting": NOW - timedelta(days=20)}
    assert facts.flags == frozenset({"brand"})
    assert facts.expansion_potential == "upsell"


def test_account_without_usage_gets_empty_usage_facts(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as session:
        add_account(session, "NEW")
    with session_factory() as session:
        facts = facts_for(session, "NEW", NOW)
    assert facts.last_login_at is None
    assert (facts.seats, facts.setup_progress, facts.inquiries_30d) == (0, 0, 0)
    assert facts.setup_progress_14d_ago is None and facts.active_ratio_30d_ago is None
    assert facts.last_touch_at == {}


def test_iter_facts_yields_every_live_account_once_across_batches(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as session:
        for n in range(23):
            add_account(session, f"C{n:03d}", status="trial" if n % 5 == 0 else "active")
            add_usage(session, f"C{n:03d}", 0, active_users=n)
        add_account(session, "GONE", status="churned")
        add_usage(session, "GONE", 0)
    with session_factory() as session:
        facts = list(iter_facts(session, NOW, batch_size=5))
    assert [f.account_id for f in facts] == [f"C{n:03d}" for n in range(23)]
    assert [f.active_users for f in facts] == list(range(23))


def test_iter_facts_feeds_assess_for_selecting_risky_accounts(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as session:
        add_account(session, "OK")
        add_usage(session, "OK", 0, active_users=9, setup_progress=100,
                  last_login_at=NOW - timedelta(hours=3))
        add_account(session, "QUIET")
        add_usage(session, "QUIET", 0, active_users=9, setup_progress=100,
                  last_login_at=NOW - timedelta(days=20))
    rules = load_rules()
    with session_factory() as session:
        risky = {f.account_id for f in iter_facts(session, NOW) if assess(f, NOW, rules).risks}
    assert risky == {"QUIET"}


def test_facts_for_unknown_account_is_a_clear_error(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session, pytest.raises(UnknownAccountError, match="NOPE"):
        facts_for(session, "NOPE", NOW)


def test_record_touchpoint_is_seen_by_the_next_facts(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as session:
        add_account(session, "A1")
    with session_factory.begin() as session:
        touch = record_touchpoint(session, "A1", "call", "U123", NOW - timedelta(hours=1),
                                  note="定例の電話", alert_id=77)
        assert touch.id is not None
    with session_factory() as session:
        assert facts_for(session, "A1", NOW).last_touch_at == {"call": NOW - timedelta(hours=1)}
        stored = session.scalars(select(Touchpoint)).one()
        assert (stored.alert_id, stored.note, stored.user_id) == (77, "定例の電話", "U123")


@pytest.mark.parametrize(
    ("account_id", "kind", "at", "error"),
    [
        ("A1", "lunch", NOW, TouchpointError),
        ("A1", "call", NOW.replace(tzinfo=None), TouchpointError),
        ("NOPE", "call", NOW, UnknownAccountError),
    ],
)
def test_record_touchpoint_rejects_bad_input(
    session_factory: sessionmaker[Session], account_id: str, kind: str, at: datetime,
    error: type[Exception],
) -> None:
    with session_factory.begin() as session:
        add_account(session, "A1")
    with session_factory() as session:
        with pytest.raises(error):
            record_touchpoint(session, account_id, kind, "U1", at)
        assert session.scalar(select(func.count()).select_from(Touchpoint)) == 0


def test_largest_allowed_seat_counts_survive_the_usage_aggregate(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as session:
        add_account(session, "BIG")
        add_usage(session, "BIG", 30, active_users=999_999, seats=999_999, setup_progress=100)
        add_usage(session, "BIG", 0, active_users=123_456, seats=999_999, setup_progress=100)
    with session_factory() as session:
        facts = facts_for(session, "BIG", NOW)
    assert (facts.active_users, facts.seats, facts.setup_progress) == (123_456, 999_999, 100)
    assert facts.active_ratio_30d_ago == 1.0


def test_side_tables_line_up_with_accounts_that_have_none(
    session_factory: sessionmaker[Session],
) -> None:
    """Sparse usage, changes and touches, ids of mixed case and Japanese: each lands on its own."""
    ids = ["a-01", "B-02", "C-03", "z-04", "日本-05", "Ö-06"]
    with session_factory.begin() as session:
        for n, account_id in enumerate(ids):
            add_account(session, account_id, status="churned" if n == 2 else "active")
            if n % 2 == 0:
                add_usage(session, account_id, 0, active_users=n + 1)
            if n % 3 == 0:
                session.add(ContactChange(account_id=account_id, new_name="x", new_email="x@x.jp",
                                          changed_at=NOW - timedelta(days=n)))
            if n in (1, 4):
                for kind in ("call", "email"):
                    session.add(Touchpoint(account_id=account_id, kind=kind,
                                           at=NOW - timedelta(days=n), created_at=NOW))
    with session_factory() as session:
        facts = {f.account_id: f for f in iter_facts(session, NOW, batch_size=2)}
    assert set(facts) == set(ids) - {"C-03"}
    for n, account_id in enumerate(ids):
        if account_id == "C-03":
            continue
        got = facts[account_id]
        assert got.active_users == (n + 1 if n % 2 == 0 else 0), account_id
        assert got.last_contact_change_at == (NOW - timedelta(days=n) if n % 3 == 0 else None)
        assert set(got.last_touch_at) == ({"call", "email"} if n in (1, 4) else set())


def test_ranges_of_accounts_read_apart_give_the_whole_book_once(
    session_factory: sessionmaker[Session],
) -> None:
    """What worker processes read (cs.alerts.parallel): every live account in exactly one
    range, with its own usage, contact change and touches, whatever the ids' collation."""
    ids = [f"{prefix}{n:02d}" for n in range(9) for prefix in ("a-", "B-", "日本-", "Ö")]
    with session_factory.begin() as session:
        for n, account_id in enumerate(ids):
            add_account(session, account_id, status="churned" if n % 7 == 3 else "active")
            add_usage(session, account_id, 0, active_users=n % 10 + 1)
            if n % 4 == 0:
                session.add(ContactChange(account_id=account_id, new_name="x", new_email="x@x.jp",
                                          changed_at=NOW - timedelta(days=n % 9)))
                session.add(Touchpoint(account_id=account_id, kind="call",
                                       at=NOW - timedelta(days=1), created_at=NOW))
    with session_factory() as session:
        whole = list(iter_facts(session, NOW))
        ranges = id_ranges(session, 5)
        apart = [f for ids_ in ranges for f in iter_facts(session, NOW, ids=ids_, batch_size=2)]
    assert len(whole) == len(ids) - sum(1 for n in range(len(ids)) if n % 7 == 3)
    assert len(ranges) == -(-len(whole) // 5)  # ranges of 5 live accounts, the last shorter
    assert apart == whole
