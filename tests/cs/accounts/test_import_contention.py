"""Imports under contention lose nothing: on SQLite the import takes the write lock up front
(BEGIN IMMEDIATE) instead of failing row after row with "database is locked" while another
connection writes; on PostgreSQL it writes in key order with ON CONFLICT, so concurrent imports
of the same ids queue instead of deadlocking."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cs.accounts.batch import import_batch
from cs.accounts.models import Account, MrrChange
from cs.accounts.schemas import ImportResult
from jobs.lease import LeaderLease
from tests.cs.accounts.test_import_csv import cli, problems

__all__ = ["cli"]
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@contextmanager
def heartbeat(factory: sessionmaker[Session]) -> Iterator[list[int]]:
    """A scheduler lease renewed in a loop from its own connection, as a leader replica does."""
    lease = LeaderLease(factory, holder="replica-a")
    beats = [0]
    stop = threading.Event()
    started = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            lease.try_acquire(datetime.now(UTC))
            beats[0] += 1
            started.set()
            stop.wait(0.01)  # a busy writer, yet one that leaves the import some CPU

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield beats
    finally:
        stop.set()
        thread.join(60)


def test_a_5000_row_import_beside_a_lease_heartbeat_loses_no_row(
    cli: typer.Typer, tmp_path: Path, session_factory: sessionmaker[Session],
) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("id,name,mrr,contract_start\n" + "".join(
        f"A{n:05d},株式会社{n},{1000 + n},2025-04-01\n" for n in range(5000)), encoding="utf-8")
    with heartbeat(session_factory) as beats:
        before = beats[0]
        result = CliRunner().invoke(cli, ["import", "accounts", str(path)])
        during = beats[0] - before
    assert result.exit_code == 0, result.output[-2000:]
    assert "accounts: 5000 inserted, 0 updated, 0 unchanged, 0 rejected" in result.stdout
    assert during > 0  # the lease really was written while the import ran
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 5000
        assert session.scalar(select(func.count()).select_from(MrrChange)) == 5000


@contextmanager
def write_lock_held(engine: Engine) -> Iterator[None]:
    """Another connection holds what an import needs to write, until the block ends."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("LOCK TABLE accounts IN EXCLUSIVE MODE")
        yield
        conn.rollback()


def test_a_lock_held_past_the_timeout_refuses_the_whole_import_in_one_line(
    cli: typer.Typer, tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BANSO_DB_LOCK_TIMEOUT_S", "0.5")
    path = tmp_path / "accounts.csv"
    path.write_text("id,name,mrr,contract_start\nC1,Acme,100,2025-01-01\n"
                    "C2,Beta,100,2025-01-01\n", encoding="utf-8")
    with write_lock_held(engine):
        result = CliRunner().invoke(cli, ["import", "accounts", str(path)])
    assert result.exit_code == 3, result.output
    reason = "database is locked" if engine.dialect.name == "sqlite" else "lock timeout"
    assert problems(result) == (f"{path}: database unavailable ({reason}): nothing was imported; "
                             "try again in a moment\n")
    assert "rejected" not in result.output
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0
    again = CliRunner().invoke(cli, ["import", "accounts", str(path)])
    assert "accounts: 2 inserted" in again.stdout


def test_a_deadlock_is_retried_and_the_import_goes_in_whole(
    engine: Engine, session_factory: sessionmaker[Session],
) -> None:
    """PostgreSQL only (SQLite has one write lock, so no deadlock): another transaction locks
    account B, the import locks A and waits for B, the other then asks for A. PostgreSQL aborts
    the import's transaction (its deadlock check runs once the cycle exists); it is run again
    from scratch and goes in whole, its MRR changes logged once."""
    if engine.dialect.name != "postgresql":
        pytest.skip("deadlocks need row locks (PostgreSQL)")
    rows = [{"id": key, "name": "Acme", "mrr": 100, "contract_start": "2025-01-01"}
            for key in ("A", "B")]
    import_batch(session_factory, "accounts", rows, NOW)
    before = _deadlocks(engine)
    results: list[ImportResult] = []
    with engine.connect() as other:
        other.execute(text("SELECT id FROM accounts WHERE id = 'B' FOR UPDATE"))
        raised = [{**row, "mrr": 200} for row in rows]
        thread = threading.Thread(target=lambda: results.append(
            import_batch(session_factory, "accounts", raised, NOW)))
        thread.start()
        _wait_for_a_lock_wait(engine)
        other.execute(text("SELECT id FROM accounts WHERE id = 'A' FOR UPDATE"))
        other.commit()
        thread.join(60)
    assert _deadlocks(engine) == before + 1  # there was one, and the import lost it
    assert (results[0].updated, results[0].rejected) == (2, 0)
    with session_factory() as session:
        assert sorted(session.scalars(select(Account.mrr))) == [200, 200]
        reasons = sorted(session.scalars(select(MrrChange.reason)))
    assert reasons == ["expansion", "expansion", "new", "new"]


def _deadlocks(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")) or 0)


def _wait_for_a_lock_wait(engine: Engine) -> None:
    with engine.connect() as conn:
        for _ in range(500):
            if conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                "current_database() AND wait_event_type = 'Lock'")):
                return
            threading.Event().wait(0.02)
    raise AssertionError("the import never waited for the lock")
