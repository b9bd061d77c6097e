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
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cs.accounts.models import Account, MrrChange
from jobs.lease import LeaderLease
from tests.cs.accounts.test_import_csv import cli, problems

__all__ = ["cli"]


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
