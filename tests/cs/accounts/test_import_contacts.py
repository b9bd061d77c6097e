"""Contact import: upserts, and a ContactChange whenever an account's primary contact changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cs.accounts.importer import import_accounts, import_contacts
from cs.accounts.models import Contact, ContactChange
from cs.accounts.schemas import ImportResult
from cs.accounts.service import facts_for

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def setup_accounts(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        rows = [{"id": i, "name": f"株式会社{i}", "mrr": 100_000, "contract_start": "2025-01-01"}
                for i in ("C001", "C002")]
        assert import_accounts(session, rows, NOW).inserted == 2


def run(factory: sessionmaker[Session], rows: list[dict[str, Any]],
        now: datetime = NOW) -> ImportResult:
    with factory.begin() as session:
        return import_contacts(session, rows, now)


def contact(**values: Any) -> dict[str, Any]:
    base = {"account_id": "C001", "name": "山田 太郎", "email": "Taro.Yamada@example.jp",
            "title": "情報システム部 部長"}
    base.update(values)
    return base


def primaries(factory: sessionmaker[Session]) -> dict[str, str]:
    with factory() as session:
        found = session.scalars(select(Contact).where(Contact.is_primary.is_(True))).all()
        return {c.account_id: c.email for c in found}


def test_first_primary_contact_is_inserted_without_a_change(
    session_factory: sessionmaker[Session],
) -> None:
    setup_accounts(session_factory)
    result = run(session_factory, [contact()])
    assert (result.inserted, result.contact_changes) == (1, [])
    assert primaries(session_factory) == {"C001": "taro.yamada@example.jp"}


def test_new_primary_contact_records_the_change_with_where_the_old_one_went(
    session_factory: sessionmaker[Session],
) -> None:
    setup_accounts(session_factory)
    run(session_factory, [contact()])
    later = NOW + timedelta(days=1)
    result = run(session_factory, [contact(name="佐藤 花子", email="hanako.sato@example.jp",
                                           moved_to="営業本部へ異動")], now=later)
    assert result.inserted == 1 and len(result.contact_changes) == 1
    assert primaries(session_factory) == {"C001": "hanako.sato@example.jp"}
    with session_factory() as session:
        change = session.get(ContactChange, result.contact_changes[0])
        assert change is not None
        assert (change.previous_name, change.previous_email) == (
            "山田 太郎", "taro.yamada@example.jp")
        assert (change.new_name, change.new_email) == ("佐藤 花子", "hanako.sato@example.jp")
        assert (change.moved_to, change.changed_at) == ("営業本部へ異動", later)
        former = session.scalar(select(Contact).where(Contact.email == "taro.yamada@example.jp"))
        assert former is not None and former.is_primary is False
        assert facts_for(session, "C001", later).last_contact_change_at == later


def test_reimporting_the_same_contacts_records_no_new_change(
    session_factory: sessionmaker[Session],
) -> None:
    setup_accounts(session_factory)
    run(session_factory, [contact()])
    rows = [contact(name="佐藤 花子", email="hanako.sato@example.jp"),
            contact(account_id="C002", name="John Smith", email="john@example.com", title="")]
    first = run(session_factory, rows)
    again = run(session_factory, rows)
    assert len(first.contact_changes) == 1
    assert (again.inserted, again.updated, again.unchanged, again.contact_changes) == (0, 0, 2, [])
    with session_factory() as session:
        assert len(session.scalars(select(ContactChange)).all()) == 1


def test_title_change_of_the_same_person_is_an_update_not_a_contact_change(
    session_factory: sessionmaker[Session],
) -> None:
    setup_accounts(session_factory)
    run(session_factory, [contact()])
    result = run(session_factory, [contact(title="取締役 CIO", email="TARO.YAMADA@example.jp")])
    assert (result.updated, result.contact_changes) == (1, [])


def test_non_primary_contact_does_not_replace_the_primary(
    session_factory: sessionmaker[Session],
) -> None:
    setup_accounts(session_factory)
    run(session_factory, [contact()])
    result = run(session_factory, [contact(name="鈴木 一郎", email="ichiro@example.jp",
                                           is_primary="no")])
    assert (result.inserted, result.contact_changes) == (1, [])
    assert primaries(session_factory) == {"C001": "taro.yamada@example.jp"}


def test_bad_contact_rows_are_rejected_with_reasons(
    session_factory: sessionmaker[Session],
) -> None:
    setup_accounts(session_factory)
    rows = [
        contact(),
        contact(account_id="C999"),
        contact(email="not-an-email"),
        contact(name="佐藤 花子", email="hanako@example.jp"),  # second primary for C001
        contact(account_id="C002", is_primary="maybe"),
    ]
    result = run(session_factory, rows)
    assert result.inserted == 1
    reasons = {error.index: error.reason for error in result.errors}
    assert reasons[1] == "account_id: unknown account 'C999' (import accounts first)"
    assert reasons[2].startswith("email: not an email address")
    assert reasons[3] == "is_primary: account C001 already has its primary contact in row 0"
    assert reasons[4].startswith("is_primary: must be true or false")
    assert primaries(session_factory) == {"C001": "taro.yamada@example.jp"}


def test_contact_changes_date_from_the_injected_now(
    session_factory: sessionmaker[Session],
) -> None:
    setup_accounts(session_factory)
    run(session_factory, [contact()])
    run(session_factory, [contact(email="new@example.jp")], now=datetime(2026, 1, 2, tzinfo=UTC))
    with session_factory() as session:
        change = session.scalars(select(ContactChange)).one()
        assert change.changed_at.date() == date(2026, 1, 2)
