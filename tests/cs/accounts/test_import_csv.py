"""`banso import accounts|contacts|usage FILE.csv`: encodings, line numbers, summary, exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from banso.cli.imports import register
from cs.accounts.csvfile import ImportFileError, read_csv
from cs.accounts.models import Account, Contact, ContactChange
from cs.accounts.schemas import AccountRow
from cs.alerts.models import Alert
from tests.conftest import REPO
from tests.cs.alerts_support import count

ACCOUNTS = """id,name,mrr,contract_start,renewal_date,plan,flags,owner_user_id
C001,株式会社さくら製作所,"1,200,000",2025-04-01,2026-04-01,エンタープライズ,brand;feedback,U0AB12
C002,ひまわり商事株式会社,80000,2025-07-15,,スタンダード,,

C003,"Acme
Inc.",たくさん,2025-01-01,,,,
C004,Blue Ocean LLC,50000,2025-02-30,,,,
C005,合同会社みどり,69999,2025-09-01,2026-09-01,ライト,,
"""


@pytest.fixture
def cli(engine: Engine, database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """The import commands against the test database."""
    monkeypatch.setenv("BANSO_DATABASE_URL", database_url)
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("BANSO_CONFIG", raising=False)
    app = typer.Typer()
    app.command("noop")(lambda: None)  # typer flattens a single command; keep the group shape
    register(app)
    return app


def problems(result: Result) -> str:
    """What an import printed on stderr besides the line naming its database and knowledge."""
    lines = result.stderr.splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("banso: database "))


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if encoding != "surrogateescape"
                     else text.encode("utf-8", "surrogateescape"))
    return path


def test_import_reports_bad_rows_by_line_and_commits_the_good_ones(
    cli: typer.Typer, tmp_path: Path,
    session_factory: sessionmaker[Session],
) -> None:
    app = cli
    path = write(tmp_path, "accounts.csv", ACCOUNTS, encoding="utf-8-sig")  # Excel adds a BOM
    result = CliRunner().invoke(app, ["import", "accounts", str(path)])
    assert result.exit_code == 1
    assert f"{path}:5: mrr: must be a whole number" in result.stderr  # row spans lines 5-6
    assert f"{path}:7: contract_start:" in result.stderr
    assert "accounts: 3 inserted, 0 updated, 0 unchanged, 2 rejected" in result.stdout
    with session_factory() as session:
        assert sorted(session.scalars(select(Account.id))) == ["C001", "C002", "C005"]
        sakura = session.get(Account, "C001")
        assert sakura is not None
        assert (sakura.name, sakura.mrr, sakura.flags) == ("株式会社さくら製作所", 1_200_000,
                                                           ["brand", "feedback"])

    again = CliRunner().invoke(app, ["import", "accounts", str(path)])
    assert "accounts: 0 inserted, 0 updated, 3 unchanged, 2 rejected" in again.stdout


def test_clean_file_exits_zero(
    cli: typer.Typer, tmp_path: Path,
) -> None:
    app = cli
    path = write(tmp_path, "a.csv", "id,name,mrr,contract_start\nC1,Acme,100,2025-01-01\n")
    result = CliRunner().invoke(app, ["import", "accounts", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 inserted" in result.stdout


def test_contact_change_from_csv_is_alerted_at_once(
    cli: typer.Typer, tmp_path: Path, session_factory: sessionmaker[Session],
) -> None:
    app = cli
    runner = CliRunner()
    accounts = write(tmp_path, "a.csv", "id,name,mrr,contract_start\nC1,Acme,100,2025-01-01\n")
    runner.invoke(app, ["import", "accounts", str(accounts)])
    first = write(tmp_path, "c1.csv", "account_id,name,email\nC1,山田 太郎,yamada@example.jp\n")
    second = write(tmp_path, "c2.csv", "account_id,name,email,moved_to\n"
                                       "C1,佐藤 花子,sato@example.jp,関連会社へ出向\n")
    assert runner.invoke(app, ["import", "contacts", str(first)]).exit_code == 0
    assert count(session_factory, Alert) == 0
    changed = runner.invoke(app, ["import", "contacts", str(second)])
    assert changed.exit_code == 0 and "contact-change alerts: 1 opened" in changed.output
    with session_factory() as session:
        change = session.scalars(select(ContactChange)).one()
        assert change.moved_to == "関連会社へ出向"
        assert len(session.scalars(select(Contact)).all()) == 2
        (alert,) = session.scalars(select(Alert)).all()
    assert (alert.account_id, alert.kind) == ("C1", "contact_change")


def test_usage_file_imports(
    cli: typer.Typer, tmp_path: Path,
) -> None:
    app = cli
    runner = CliRunner()
    runner.invoke(app, ["import", "accounts", str(write(
        tmp_path, "a.csv", "id,name,mrr,contract_start\nC1,Acme,100,2025-01-01\n"))])
    usage = write(tmp_path, "u.csv", "account_id,day,last_login_at,active_users,seats\n"
                                     "C1,2025-06-01,2025-06-01 09:00,3,5\n"
                                     "C1,2025-06-02,,3,5\n")
    result = runner.invoke(app, ["import", "usage", str(usage)])
    assert result.exit_code == 0, result.output
    assert "usage: 2 inserted" in result.stdout


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        ("id,name,mrr,contract_start\nC1,株式会社\udc81 ,1,2025-01-01\n", "surrogateescape",
         "line 2: byte 0x81 is neither UTF-8 nor Shift_JIS (CP932)"),
        ("id,name,contract_start\n", "utf-8", "line 1: missing column(s) mrr"),
        ("id,name,mrr,contract_start,colour\n", "utf-8", "unknown column(s) colour"),
        ("", "utf-8", "empty file"),
    ],
)
def test_unusable_file_is_one_clear_error_and_exit_2(
    cli: typer.Typer, tmp_path: Path,
    content: str, encoding: str, message: str,
) -> None:
    app = cli
    path = write(tmp_path, "bad.csv", content, encoding=encoding)
    result = CliRunner().invoke(app, ["import", "accounts", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="cannot read"):
        read_csv(tmp_path / "nope.csv", AccountRow)


def test_reader_keeps_line_numbers_across_blank_lines_and_multiline_cells(tmp_path: Path) -> None:
    parsed = read_csv(write(tmp_path, "a.csv", ACCOUNTS), AccountRow)
    assert parsed.lines == [2, 3, 5, 7, 8]
    assert parsed.rows[2]["name"] == "Acme\nInc."
    assert parsed.rows[1]["renewal_date"] == ""


def test_examples_in_the_import_docs_import_cleanly(
    cli: typer.Typer, tmp_path: Path,
) -> None:
    """docs/import.md shows one CSV per kind and a back-filled account history; each must import
    without a rejected row."""
    docs = (REPO / "docs" / "import.md").read_text(encoding="utf-8")
    blocks = [part.split("```", 1)[0] for part in docs.split("```csv\n")[1:]]
    assert len(blocks) == 4
    app = cli
    kinds = ("accounts", "accounts", "contacts", "usage")
    for kind, block in zip(kinds, blocks, strict=True):
        result = CliRunner().invoke(app, ["import", kind, str(write(tmp_path, f"{kind}.csv",
                                                                     block))])
        assert result.exit_code == 0, (kind, result.output)
        assert "0 rejected" in result.stdout
