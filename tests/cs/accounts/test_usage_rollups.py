"""Usage rollups stay what the usage aggregate says, through every way usage comes in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import typer
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from banso.cli.imports import register
from banso.migrate import alembic_config, migrate
from banso.web.ingest import router
from core.db import make_engine, make_session_factory
from core.settings import Settings
from cs.accounts.rollup import NO_USAGE, REDUCED, UsageRollup, reductions
from cs.accounts.service import facts_for, iter_facts
from cs.rules.models import AccountFacts
from tests.services import services_for

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 18:00 in Tokyo
TOKYO = ZoneInfo("Asia/Tokyo")
AUTH = {"Authorization": "Bearer s3cret-token"}


def snapshot(account: str, day: date, *, active: int = 8, seats: int = 10, setup: int = 60,
             inquiries: int = 1, login: str | None = "2026-11-20T10:00:00+09:00"
             ) -> dict[str, Any]:
    return {"account_id": account, "day": day.isoformat(), "last_login_at": login,
            "active_users": active, "seats": seats, "setup_progress": setup,
            "inquiries": inquiries}


def days(account: str, today: date, back: range, **values: Any) -> list[dict[str, Any]]:
    return [snapshot(account, today - timedelta(days=d), **values) for d in back]


def stored_rollups(session_factory: sessionmaker[Session]) -> dict[str, tuple[Any, ...]]:
    with session_factory() as session:
        return {r.account_id: (r.as_of, *(getattr(r, name) for name in REDUCED))
                for r in session.scalars(select(UsageRollup))}


def aggregated(session_factory: sessionmaker[Session], today: date,
               accounts: list[str]) -> dict[str, tuple[Any, ...]]:
    with session_factory() as session:
        found = {row[0]: tuple(row[1:]) for row in session.execute(reductions(today))}
    return {key: (today, *found.get(key, NO_USAGE)) for key in accounts}


def facts_without_rollups(session_factory: sessionmaker[Session], now: datetime
                          ) -> list[AccountFacts]:
    """The facts from the usage aggregate alone (the rollups deleted in a rolled-back
    transaction)."""
    with session_factory() as session:
        session.execute(delete(UsageRollup))
        facts = list(iter_facts(session, now))
        session.rollback()
    return facts


def assert_rollups_are_the_aggregate(session_factory: sessionmaker[Session], now: datetime,
                                     accounts: list[str], imported: list[str]) -> None:
    """The accounts whose usage was imported have the aggregate as their rollup of the day;
    every account's facts are the same from the rollups as from the aggregate alone."""
    today = now.astimezone(TOKYO).date()
    assert stored_rollups(session_factory) == aggregated(session_factory, today, imported)
    local = now.astimezone(TOKYO)
    with session_factory() as session:
        from_rollups = list(iter_facts(session, local, batch_size=2))
        one_by_one = [facts_for(session, key, local) for key in accounts]
    assert from_rollups == one_by_one == facts_without_rollups(session_factory, local)


# --- the ingest API ---------------------------------------------------------------------------

@pytest.fixture
def client(settings: Settings, engine: Engine) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    app.state.services = services_for(
        settings.model_copy(update={"api_token": SecretStr("s3cret-token"),
                                    "timezone": "Asia/Tokyo"}), engine, now=lambda: NOW)
    return TestClient(app)


def post(client: TestClient, kind: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(f"/api/{kind}", json={"rows": rows}, headers=AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_rollups_follow_new_accounts_reimports_and_overlapping_days_through_the_api(
    client: TestClient, session_factory: sessionmaker[Session],
) -> None:
    today = NOW.astimezone(TOKYO).date()
    accounts = ["A1", "A2", "A3"]
    post(client, "accounts", [{"id": key, "name": f"{key}社", "mrr": 100_000,
                               "contract_start": "2025-01-01"} for key in accounts])
    # A1: 40 days, the older half with more seats; A2: only snapshots older than the window.
    post(client, "usage", days("A1", today, range(20, 40), seats=20, setup=30)
         + days("A1", today, range(0, 20)) + days("A2", today, range(50, 60)))
    assert_rollups_are_the_aggregate(session_factory, NOW, accounts, ["A1", "A2"])

    # Re-import of days already stored, with other values, overlapping new days.
    post(client, "usage", days("A1", today, range(10, 35), active=2, inquiries=3, setup=90))
    assert_rollups_are_the_aggregate(session_factory, NOW, accounts, ["A1", "A2"])

    # A duplicate day inside one post is a row error; the first row of the day is stored.
    body = post(client, "usage", [snapshot("A3", today, active=5),
                                  snapshot("A3", today, active=9), *days("A3", today, range(1, 31),
                                                                         login=None)])
    assert [error["index"] for error in body["errors"]] == [1]
    assert_rollups_are_the_aggregate(session_factory, NOW, accounts, accounts)
    with session_factory() as session:
        assert facts_for(session, "A3", NOW.astimezone(TOKYO)).active_users == 5
        assert facts_for(session, "A2", NOW.astimezone(TOKYO)).seats == 0  # nothing recent


def test_a_day_later_the_facts_follow_the_moved_windows_without_a_new_import(
    client: TestClient, session_factory: sessionmaker[Session],
) -> None:
    today = NOW.astimezone(TOKYO).date()
    post(client, "accounts", [{"id": "B1", "name": "B1社", "mrr": 100_000,
                               "contract_start": "2025-01-01"}])
    post(client, "usage", days("B1", today, range(0, 14), setup=100)
         + days("B1", today, range(14, 31), setup=40, inquiries=2))
    tomorrow = (NOW + timedelta(days=1)).astimezone(TOKYO)
    with session_factory() as session:
        later = facts_for(session, "B1", tomorrow)
        assert list(iter_facts(session, tomorrow)) == [later]
    assert [later] == facts_without_rollups(session_factory, tomorrow)
    assert later.setup_progress_14d_ago == 100  # the 14-day mark moved onto a newer snapshot
    assert later.inquiries_30d == 14 * 1 + 15 * 2  # day 30 back (2 inquiries) left the window


# --- the CLI ----------------------------------------------------------------------------------

@pytest.fixture
def cli(engine: Engine, database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("BANSO_DATABASE_URL", database_url)
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BANSO_TIMEZONE", "Asia/Tokyo")
    monkeypatch.delenv("BANSO_CONFIG", raising=False)
    app = typer.Typer()
    app.command("noop")(lambda: None)  # typer flattens a single command; keep the group shape
    register(app)
    return app


def csv_file(path: Path, rows: list[dict[str, Any]]) -> Path:
    columns = list(rows[0])
    lines = [",".join(columns)] + [",".join(str(row[c] or "") for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_rollups_follow_csv_imports_of_overlapping_days(
    cli: typer.Typer, session_factory: sessionmaker[Session], tmp_path: Path,
) -> None:
    runner = CliRunner()
    accounts = csv_file(tmp_path / "accounts.csv", [
        {"id": key, "name": f"{key}社", "mrr": 80_000, "contract_start": "2025-01-01"}
        for key in ("C1", "C2")])
    assert runner.invoke(cli, ["import", "accounts", str(accounts)]).exit_code == 0
    now = datetime.now(UTC)  # the CLI imports on the real clock
    today = now.astimezone(TOKYO).date()
    first = csv_file(tmp_path / "first.csv", days("C1", today, range(5, 35), setup=50)
                     + days("C2", today, range(0, 3)))
    second = csv_file(tmp_path / "second.csv", days("C1", today, range(0, 10), seats=30))
    for path in (first, second):
        assert runner.invoke(cli, ["import", "usage", str(path)]).exit_code == 0
        if now.astimezone(TOKYO).date() != datetime.now(UTC).astimezone(TOKYO).date():
            pytest.skip("the local day changed during the test")
        assert_rollups_are_the_aggregate(session_factory, now, ["C1", "C2"], ["C1", "C2"])


# --- the migration ----------------------------------------------------------------------------

def test_upgrade_back_fills_every_accounts_rollup_from_its_usage(
    fresh_url: str, database_url: str  # database_url: keeps the test in the PostgreSQL pass
) -> None:
    engine = make_engine(fresh_url)
    command.upgrade(alembic_config(engine, "Asia/Tokyo"), "jobs_kpis_0002")
    today = datetime.now(TOKYO).date()
    with engine.begin() as conn:
        for key in ("M1", "M2"):
            conn.execute(text(
                "INSERT INTO accounts (id, name, mrr, currency, contract_start, status, flags, "
                "expansion_potential, created_at, updated_at) VALUES (:id, 'M社', 50000, 'JPY', "
                "'2025-01-01', 'active', '[]', 'none', :t, :t)"), {"id": key, "t": NOW})
        for back in range(35):
            conn.execute(text(
                "INSERT INTO usage_snapshots (account_id, day, last_login_at, active_users, "
                "seats, setup_progress, inquiries) VALUES ('M1', :day, :login, :active, 10, "
                ":setup, :inquiries)"),
                {"day": today - timedelta(days=back), "login": NOW - timedelta(days=back),
                 "active": 10 - back % 7, "setup": 100 - back, "inquiries": back % 3})
    migrate(engine, "Asia/Tokyo")
    factory = make_session_factory(engine)
    try:
        if datetime.now(TOKYO).date() != today:
            pytest.skip("the local day changed during the test")
        rolled = stored_rollups(factory)
        assert rolled == aggregated(factory, today, ["M1", "M2"])
        assert rolled["M2"] == (today, *NO_USAGE)
        assert rolled["M1"][1:4] == (NOW, 10, 10)  # the latest login and snapshot
    finally:
        engine.dispose()
