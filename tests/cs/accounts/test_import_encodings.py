"""CSV files as Japanese teams export them: Excel's CP932 (Shift_JIS) and its UTF-8 with BOM
import as they are; a byte that decodes in neither is named by its line; a row with too many
cells and a header naming a column twice say so plainly."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cs.accounts.models import Account
from tests.cs.accounts.test_import_csv import cli, problems

__all__ = ["cli"]

ACCOUNTS = ("id,name,mrr,contract_start,plan\n"
            "C1,株式会社さくら製作所,\"1,200,000\",2025-04-01,エンタープライズ\n"
            "C2,ひまわり商事株式会社,80000,2025-07-15,スタンダード\n")


def names(factory: sessionmaker[Session]) -> list[tuple[str, str | None]]:
    with factory() as session:
        return [(a.name, a.plan) for a in session.scalars(select(Account).order_by(Account.id))]


@pytest.mark.parametrize("encoding", ["cp932", "shift_jis", "utf-8-sig", "utf-8", "utf-16"])
def test_excel_japanese_csv_imports_without_being_told_the_encoding(
    cli: typer.Typer, tmp_path: Path, session_factory: sessionmaker[Session], encoding: str,
) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(ACCOUNTS.replace("\n", "\r\n").encode(encoding))  # Excel ends lines CRLF
    result = CliRunner().invoke(cli, ["import", "accounts", str(path)])
    assert result.exit_code == 0, result.output
    assert names(session_factory) == [("株式会社さくら製作所", "エンタープライズ"),
                                      ("ひまわり商事株式会社", "スタンダード")]


def test_the_encoding_can_be_named(
    cli: typer.Typer, tmp_path: Path, session_factory: sessionmaker[Session],
) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(ACCOUNTS.encode("euc_jp"))
    result = CliRunner().invoke(cli, ["import", "accounts", str(path), "--encoding", "euc_jp"])
    assert result.exit_code == 0, result.output
    assert names(session_factory)[0] == ("株式会社さくら製作所", "エンタープライズ")
    wrong = CliRunner().invoke(cli, ["import", "accounts", str(path), "--encoding", "klingon"])
    assert (wrong.exit_code, problems(wrong).strip()) == (
        2, "unknown encoding 'klingon' (e.g. utf-8, cp932)")


def test_a_byte_that_decodes_in_neither_is_named_by_its_line(
    cli: typer.Typer, tmp_path: Path, session_factory: sessionmaker[Session],
) -> None:
    path = tmp_path / "accounts.csv"
    # Shift_JIS text with one broken character on line 4 (0x81 0x20 is no CP932 pair either).
    broken = "C3,株式会社".encode("cp932") + b"\x81 ,1,2025-01-01\n"
    path.write_bytes(ACCOUNTS.encode("cp932") + broken)
    result = CliRunner().invoke(cli, ["import", "accounts", str(path)])
    assert result.exit_code == 2
    assert problems(result).strip() == (
        f"{path}: line 4: byte 0x81 is neither UTF-8 nor Shift_JIS (CP932); in Excel save as "
        "'CSV UTF-8', or name the encoding with --encoding")
    assert names(session_factory) == []  # nothing of an undecodable file is imported
    named = CliRunner().invoke(cli, ["import", "accounts", str(path), "--encoding", "cp932"])
    assert problems(named).strip() == f"{path}: line 4: byte 0x81 is not cp932"


def test_a_row_with_too_many_cells_says_so_and_the_others_import(
    cli: typer.Typer, tmp_path: Path, session_factory: sessionmaker[Session],
) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("id,name,mrr,contract_start\n"
                    "C1,Acme,100,2025-01-01\n"
                    "C2,Acme, Inc.,100,2025-01-01\n"  # an unquoted comma in the name
                    "C3,Beta,100,2025-01-01,,\n", encoding="utf-8")  # empty extras are harmless
    result = CliRunner().invoke(cli, ["import", "accounts", str(path)])
    assert result.exit_code == 1
    assert problems(result).strip() == (
        f"{path}:3: 5 cells, header has 4 (a value with a comma needs quotes)")
    assert "accounts: 2 inserted, 0 updated, 0 unchanged, 1 rejected" in result.stdout
    assert "unknown column" not in result.output


def test_a_column_named_twice_is_named(cli: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("id,name,MRR,contract_start,mrr\nC1,Acme,1,2025-01-01,2\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "accounts", str(path)])
    assert result.exit_code == 2
    assert f"{path}: line 1: column(s) mrr appear more than once" in problems(result)
