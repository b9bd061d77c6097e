"""Every number and date of an import has bounds (docs/import.md): a value outside them, or no
number at all, is a row error naming file, line and column; the good rows of the file go in."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cs.accounts.models import Account, MrrChange, UsageSnapshot
from tests.cs.accounts.test_import_csv import cli, problems, write

__all__ = ["cli"]

ACCOUNTS = """id,name,mrr,contract_start,renewal_date
C1,株式会社さくら,120000,2025-04-01,2026-04-01
C2,Overflow Inc.,100000000000000000000,2025-04-01,
C3,NaN KK,NaN,2025-04-01,
C4,Letters LLC,abc,2025-04-01,
C5,Far Future,1000,99999-01-01,
C6,Year 9999,1000,2025-04-01,9999-12-31
C7,Infinity,inf,2025-04-01,
C8,Negative,-1,2025-04-01,
C9,合同会社みどり,"1,000,000,000,000",2025-04-01,2100-12-31
"""


def test_out_of_range_and_non_numeric_values_are_row_errors_and_good_rows_go_in(
    cli: typer.Typer, tmp_path: Path, session_factory: sessionmaker[Session],
) -> None:
    path = write(tmp_path, "accounts.csv", ACCOUNTS)
    result = CliRunner().invoke(cli, ["import", "accounts", str(path)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # the command's own exit, no traceback
    errors = problems(result).splitlines()
    assert errors[0].startswith(f"{path}:3: mrr: Input should be less than or equal to "
                                "1000000000000")
    assert errors[1].startswith(f"{path}:4: mrr: must be a whole number (got 'NaN')")
    assert errors[2].startswith(f"{path}:5: mrr: must be a whole number (got 'abc')")
    assert errors[3].startswith(f"{path}:6: contract_start: ")
    assert errors[4].startswith(f"{path}:7: renewal_date: must be between 1970-01-01 and "
                                "2100-12-31")
    assert errors[5].startswith(f"{path}:8: mrr: must be a whole number")
    assert errors[6].startswith(f"{path}:9: mrr: Input should be greater than or equal to 0")
    assert len(errors) == 7
    assert "accounts: 2 inserted, 0 updated, 0 unchanged, 7 rejected" in result.stdout
    with session_factory() as session:
        assert sorted(session.scalars(select(Account.id))) == ["C1", "C9"]
        assert session.scalar(select(Account.mrr).where(Account.id == "C9")) == 10**12
        assert len(session.scalars(select(MrrChange)).all()) == 2


def test_usage_counts_and_times_out_of_range_are_row_errors(
    cli: typer.Typer, tmp_path: Path, session_factory: sessionmaker[Session],
) -> None:
    accounts = write(tmp_path, "a.csv", "id,name,mrr,contract_start\nC1,Acme,100,2025-01-01\n")
    assert CliRunner().invoke(cli, ["import", "accounts", str(accounts)]).exit_code == 0
    usage = write(tmp_path, "u.csv", (
        "account_id,day,last_login_at,active_users,seats,setup_progress,inquiries\n"
        "C1,2026-06-01,2026-06-01 09:00,3,5,40,1\n"
        "C1,2026-06-02,,3,5,40,100000000000000000000\n"
        "C1,2026-06-03,,1000000,5,40,0\n"
        "C1,2026-06-04,,3,5,101,0\n"
        "C1,2026-06-05,0001-01-01 00:00,3,5,40,0\n"
        "C1,1969-12-31,,3,5,40,0\n"
        "C1,2026-06-07,,3,５,40,0\n"  # a full-width digit, as Japanese spreadsheets may write
    ))
    result = CliRunner().invoke(cli, ["import", "usage", str(usage)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    errors = problems(result).splitlines()
    assert [line.split(": ", 1)[0] for line in errors] == [
        f"{usage}:3", f"{usage}:4", f"{usage}:5", f"{usage}:6", f"{usage}:7"]
    assert [line.split(": ")[1] for line in errors] == [
        "inquiries", "active_users", "setup_progress", "last_login_at", "day"]
    assert "usage: 2 inserted" in result.stdout
    with session_factory() as session:
        seats = session.scalars(select(UsageSnapshot.seats).order_by(UsageSnapshot.day)).all()
    assert seats == [5, 5]


def test_a_duplicate_account_id_in_one_file_is_a_row_error_not_an_expansion(
    cli: typer.Typer, tmp_path: Path, session_factory: sessionmaker[Session],
) -> None:
    path = write(tmp_path, "a.csv", "id,name,mrr,contract_start\n"
                                    "C1,Acme,100000,2025-01-01\n"
                                    "C2,Beta,50000,2025-01-01\n"
                                    "C1,Acme,200000,2025-01-01\n")
    result = CliRunner().invoke(cli, ["import", "accounts", str(path)])
    assert result.exit_code == 1
    assert problems(result).strip() == (f"{path}:4: id: duplicate of row 2 (one row per account)")
    assert "accounts: 2 inserted, 0 updated, 0 unchanged, 1 rejected" in result.stdout
    with session_factory() as session:
        assert session.scalar(select(Account.mrr).where(Account.id == "C1")) == 100_000
        reasons = session.scalars(select(MrrChange.reason)).all()
    assert sorted(reasons) == ["new", "new"]  # no +100,000 "expansion"


def test_a_duplicate_contact_in_one_file_is_a_row_error(
    cli: typer.Typer, tmp_path: Path, session_factory: sessionmaker[Session],
) -> None:
    accounts = write(tmp_path, "a.csv", "id,name,mrr,contract_start\nC1,Acme,100,2025-01-01\n")
    CliRunner().invoke(cli, ["import", "accounts", str(accounts)])
    contacts = write(tmp_path, "c.csv", "account_id,name,email,is_primary\n"
                                        "C1,山田 太郎,yamada@example.jp,false\n"
                                        "C1,佐藤 花子,sato@example.jp,true\n"
                                        "C1,山田 太郎,Yamada@Example.jp,false\n")
    result = CliRunner().invoke(cli, ["import", "contacts", str(contacts)])
    assert result.exit_code == 1
    assert problems(result).strip() == (
        f"{contacts}:4: email: duplicate of row 2 for the same account")
    assert "contacts: 2 inserted, 0 updated, 0 unchanged, 1 rejected" in result.stdout
