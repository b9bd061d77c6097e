"""Account import: idempotent upserts, row errors, and a complete MRR change log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cs.accounts.importer import import_accounts
from cs.accounts.models import Account, MrrChange
from cs.accounts.schemas import ImportResult

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def row(**values: Any) -> dict[str, Any]:
    base = {"id": "C001", "name": "株式会社さくら製作所", "mrr": "120,000",
            "contract_start": "2025-04-01", "renewal_date": "2026-04-01"}
    base.update(values)
    return base


def run(
    factory: sessionmaker[Session], rows: list[dict[str, Any]], now: datetime = NOW
) -> ImportResult:
    with factory.begin() as session:
        return import_accounts(session, rows, now)


def mrr_log(factory: sessionmaker[Session]) -> list[tuple[str, date, int, int, str]]:
    with factory() as session:
        changes = session.scalars(select(MrrChange).order_by(MrrChange.id)).all()
        return [(c.account_id, c.effective_on, c.mrr_before, c.mrr_after, c.reason)
                for c in changes]


def test_first_import_inserts_accounts_and_logs_new_mrr_at_contract_start(
    session_factory: sessionmaker[Session],
) -> None:
    result = run(session_factory, [row(), row(id="C002", name="Acme Inc.", mrr="600000",
                                          currency="usd", flags="brand;influencer")])
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (2, 0, 0, 0)
    with session_factory() as session:
        acme = session.get(Account, "C002")
        assert acme is not None
        assert (acme.currency, acme.flags, acme.status) == ("USD", ["brand", "influencer"],
                                                            "active")
        assert session.get(Account, "C001").name == "株式会社さくら製作所"  # type: ignore[union-attr]
    assert mrr_log(session_factory) == [
        ("C001", date(2025, 4, 1), 0, 120_000, "new"),
        ("C002", date(2025, 4, 1), 0, 600_000, "new"),
    ]


def test_importing_the_same_rows_twice_changes_nothing(
    session_factory: sessionmaker[Session],
) -> None:
    rows = [row(), row(id="C002", status="churned", churn_date="2026-10-31",
                       churn_reason="使いこなせなかった")]
    run(session_factory, rows)
    log_before = mrr_log(session_factory)
    again = run(session_factory, rows, now=datetime(2026, 11, 26, tzinfo=UTC))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert mrr_log(session_factory) == log_before
    with session_factory() as session:
        assert session.get(Account, "C001").updated_at == NOW  # type: ignore[union-attr]


def test_mrr_history_covers_expansion_contraction_churn_and_comeback(
    session_factory: sessionmaker[Session],
) -> None:
    run(session_factory, [row(mrr="100000")], now=datetime(2025, 5, 1, tzinfo=UTC))
    run(session_factory, [row(mrr="150000")], now=datetime(2025, 8, 1, tzinfo=UTC))
    run(session_factory, [row(mrr="90000")], now=datetime(2025, 12, 1, tzinfo=UTC))
    run(session_factory, [row(mrr="90000", status="churned", churn_date="2026-01-31",
                              churn_reason="ROIが見えない")], now=datetime(2026, 2, 3, tzinfo=UTC))
    run(session_factory, [row(mrr="200000", status="active", contract_start="2026-06-01",
                              renewal_date="2027-06-01")],
        now=datetime(2026, 6, 5, tzinfo=UTC))
    assert mrr_log(session_factory) == [
        ("C001", date(2025, 4, 1), 0, 100_000, "new"),
        ("C001", date(2025, 8, 1), 100_000, 150_000, "expansion"),
        ("C001", date(2025, 12, 1), 150_000, 90_000, "contraction"),
        ("C001", date(2026, 1, 31), 90_000, 0, "churn"),
        ("C001", date(2026, 6, 1), 0, 200_000, "reactivation"),
    ]


def test_first_import_of_a_churned_account_logs_its_start_and_its_churn(
    session_factory: sessionmaker[Session],
) -> None:
    run(session_factory, [row(status="churned", churn_date="2026-03-31", churn_reason="予算削減")])
    assert mrr_log(session_factory) == [
        ("C001", date(2025, 4, 1), 0, 120_000, "new"),
        ("C001", date(2026, 3, 31), 120_000, 0, "churn"),
    ]


def test_trial_converting_to_paid_is_new_mrr_on_the_import_day(
    session_factory: sessionmaker[Session],
) -> None:
    run(session_factory, [row(mrr="0", status="trial")])
    assert mrr_log(session_factory) == []
    run(session_factory, [row(mrr="80000", status="active")])
    assert mrr_log(session_factory) == [("C001", NOW.date(), 0, 80_000, "new")]


def test_bad_rows_are_reported_by_position_and_good_rows_still_import(
    session_factory: sessionmaker[Session],
) -> None:
    rows = [
        row(id="OK1"),
        row(id="BAD1", mrr="たくさん"),
        row(id="BAD2", contract_start="2025-13-01"),
        row(id="BAD3", name=""),
        row(id="BAD4", status="paused"),
        row(id="BAD5", renewal_date="2024-01-01"),
        row(id="BAD6", flags="brand;famous"),
        row(id="BAD7", color="blue"),
        row(id="OK2", mrr="¥70,000"),
    ]
    with session_factory.begin() as session:
        result = import_accounts(session, rows, NOW, lines=list(range(2, 2 + len(rows))))
    assert (result.inserted, result.rejected) == (2, 7)
    reasons = {error.line: error.reason for error in result.errors}
    assert [error.index for error in result.errors] == [1, 2, 3, 4, 5, 6, 7]
    assert reasons[3].startswith("mrr: must be a whole number")
    assert reasons[4].startswith("contract_start:")
    assert reasons[5] == "name: required"
    assert reasons[6].startswith("status:") and "paused" in reasons[6]
    assert reasons[7] == "renewal_date: must not be before contract_start"
    assert reasons[8].startswith("flags.1:") and "famous" in reasons[8]
    assert reasons[9] == "color: unknown column"
    with session_factory() as session:
        assert set(session.scalars(select(Account.id))) == {"OK1", "OK2"}
        assert session.get(Account, "OK2").mrr == 70_000  # type: ignore[union-attr]


def test_blank_optional_cell_clears_it_but_blank_defaulted_cell_keeps_the_value(
    session_factory: sessionmaker[Session],
) -> None:
    run(session_factory, [row(plan="pro", status="trial", mrr="0")])
    result = run(session_factory, [row(plan="", status="", mrr="0")])
    assert result.updated == 1
    with session_factory() as session:
        account = session.get(Account, "C001")
        assert account is not None
        assert (account.plan, account.status) == (None, "trial")


@pytest.mark.parametrize("payload", [None, "C001", 42])
def test_a_row_that_is_not_an_object_is_rejected(
    session_factory: sessionmaker[Session], payload: Any
) -> None:
    result = run(session_factory, [payload])
    assert result.errors[0].reason == "row must be an object of column: value"


def churns(factory: sessionmaker[Session]) -> list[tuple[date, str | None]]:
    with factory() as session:
        query = select(MrrChange.effective_on, MrrChange.churn_reason).where(
            MrrChange.reason == "churn").order_by(MrrChange.effective_on)
        return [(day, reason) for day, reason in session.execute(query)]


def test_changes_take_the_effective_date_of_their_row(
    session_factory: sessionmaker[Session],
) -> None:
    run(session_factory, [row(mrr="100000", contract_start="2026-01-01"),
                          row(mrr="130000", contract_start="2026-01-01",
                              effective_date="2026-03-15"),
                          row(mrr="130000", contract_start="2026-01-01", status="churned",
                              churn_date="2026-06-30", churn_reason="no_roi"),
                          row(mrr="90000", contract_start="2026-01-01", status="active",
                              effective_date="2026-09-01")])
    assert [entry[1:] for entry in mrr_log(session_factory)] == [
        (date(2026, 1, 1), 0, 100_000, "new"),
        (date(2026, 3, 15), 100_000, 130_000, "expansion"),
        (date(2026, 6, 30), 130_000, 0, "churn"),
        (date(2026, 9, 1), 0, 90_000, "reactivation"),
    ]


def test_a_corrected_churn_date_moves_the_churn_even_though_mrr_is_unchanged(
    session_factory: sessionmaker[Session],
) -> None:
    churned = row(status="churned", churn_date="2026-10-31", churn_reason="price")
    run(session_factory, [churned])
    fixed = run(session_factory, [{**churned, "churn_date": "2026-09-15",
                                   "churn_reason": "low_usage"}])
    assert fixed.updated == 1
    assert churns(session_factory) == [(date(2026, 9, 15), "low_usage")]
    again = run(session_factory, [{**churned, "churn_date": "2026-09-15",
                                   "churn_reason": "low_usage"}])
    assert again.unchanged == 1 and len(churns(session_factory)) == 1


def test_a_returned_customer_keeps_every_earlier_churn_reason(
    session_factory: sessionmaker[Session],
) -> None:
    start = {"contract_start": "2025-01-01"}
    run(session_factory, [row(**start, status="churned", churn_date="2025-06-30",
                              churn_reason="no_roi")])
    run(session_factory, [row(**start, status="active", churn_reason="",
                              effective_date="2026-01-01")])
    run(session_factory, [row(**start, status="churned", churn_date="2026-10-15",
                              churn_reason="budget_cut")])
    assert churns(session_factory) == [(date(2025, 6, 30), "no_roi"),
                                       (date(2026, 10, 15), "budget_cut")]


def test_a_change_dated_before_the_last_one_is_a_row_error_that_loses_nothing(
    session_factory: sessionmaker[Session],
) -> None:
    run(session_factory, [row(mrr="100000"), row(mrr="120000", effective_date="2026-05-01")])
    result = run(session_factory, [row(mrr="80000", effective_date="2026-02-01"),
                                   row(id="C002", name="B社")])
    assert result.inserted == 1 and result.rejected == 1
    assert "effective_date: 2026-02-01 is before this account's last MRR change on " \
           "2026-05-01" in result.errors[0].reason
    with session_factory() as session:
        assert session.get(Account, "C001").mrr == 120_000  # type: ignore[union-attr]
    assert len(mrr_log(session_factory)) == 3


def test_effective_date_before_contract_start_is_refused(
    session_factory: sessionmaker[Session],
) -> None:
    result = run(session_factory, [row(effective_date="2024-01-01")])
    assert result.rejected == 1
    assert result.errors[0].reason == "effective_date: must not be before contract_start"


def test_a_later_churn_does_not_inherit_the_reason_of_an_earlier_one(
    session_factory: sessionmaker[Session],
) -> None:
    start = {"contract_start": "2025-01-01"}
    run(session_factory, [row(**start, status="churned", churn_date="2025-06-30",
                              churn_reason="no_roi")])
    run(session_factory, [row(**start, status="active", effective_date="2026-01-01")])
    with session_factory() as session:
        back = session.get(Account, "C001")
        assert back is not None and (back.churn_date, back.churn_reason) == (None, None)
    run(session_factory, [row(**start, status="churned", effective_date="2026-10-15")])
    assert churns(session_factory) == [(date(2025, 6, 30), "no_roi"), (date(2026, 10, 15), None)]
